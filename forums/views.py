"""Public pages of forums, recaps and speakers.

Every object comes through its model's `visible_to(user)`; every page reads what its
template shows in a fixed number of queries (prefetched for lists, queried directly for
the one object of a detail page), however long the recap is.
"""

import functools
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import F, OuterRef, Prefetch, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.views.generic import DetailView, ListView, TemplateView

from forums import search
from forums.filters import SpeakerFilter, visibility
from forums.models import (
    Appearance,
    Forum,
    Quote,
    SearchEntry,
    Speaker,
    can_see_unpublished,
)
from forums.sanitize import render_markdown
from forums.seo import absolute_url, is_public
from forums.transcript import transcripts
from topics.models import Topic
from wecity.pagecache import FORUMS, SPEAKERS, remember
from wecity.render import FILTER_CHOICES, EvaluatedListMixin, bounded_choices, evaluate_choices

PAGE_SIZE = 20
SEARCH_LIMIT = 20
# What a speaker's page shows of a forum (a link and its date) and of each appearance.
FORUM_SHOWN = ("forum__title", "forum__slug", "forum__starts_at")
APPEARANCE_SHOWN = (
    "forum",
    "speaker",
    "role",
    "organisation",
    "title",
    "position",
    "is_cohort_representative",
    *FORUM_SHOWN,
)


@dataclass(frozen=True)
class QuoteRow:
    """A quote as a speaker's page lists it, read as a row rather than as a Quote with its
    forum and theme (a quarter less CPU for its quotes: 2.6 -> 1.9 ms for 31 of them).
    """

    url: str
    text: str
    forum_title: str
    forum_url: str  # at the quote's theme, if it has one
    theme_title: str | None


def quote_rows(quotes):
    rows = quotes.values_list(
        "pk", "text", "forum__slug", "forum__title", "theme__position", "theme__title"
    )
    return [
        QuoteRow(
            url=Quote.url_of(pk),
            text=text,
            forum_title=forum_title,
            forum_url=Forum.url_of(forum_slug)
            + ("" if theme_position is None else f"#theme-{theme_position}"),
            theme_title=theme_title,
        )
        for pk, text, forum_slug, forum_title, theme_position, theme_title in rows
    ]


@dataclass(frozen=True)
class Highlight:
    """A featured quote with its speaker as they were introduced at the forum."""

    quote: Quote
    organisation: str
    title: str

    @property
    def speaker(self):
        return self.quote.speaker


def attribute_highlights(quotes, appearances):
    """Pair featured quotes with the organisation and title their speaker had that day."""
    by_speaker = {}
    for appearance in appearances:
        by_speaker.setdefault(appearance.speaker_id, appearance)
    highlights = []
    for quote in quotes:
        appearance = by_speaker.get(quote.speaker_id)
        source = appearance or quote.speaker
        highlights.append(Highlight(quote, source.organisation, source.title))
    return highlights


def group_by_role(appearances):
    """Appearances grouped in the order a recap lists the roles, empty roles left out."""
    groups = []
    for role in Appearance.Role:
        members = [a for a in appearances if a.role == role]
        if members:
            groups.append({"role": role, "label": role.label, "appearances": members})
    return groups


def recap_of(forum):
    """The forum's recap, or None (select_related caches a missing one: no query)."""
    return getattr(forum, "recap", None)


def headline_of(forum):
    recap = recap_of(forum)
    return (recap.headline if recap else "") or forum.title


def appearances_prefetch():
    """A forum's appearances in order, with their speakers: for lists of forums (the API)."""
    return Prefetch("appearances", queryset=forum_appearances(Appearance.objects.all()))


def forum_appearances(appearances):
    return appearances.select_related("speaker").order_by("position", "id")


def speakers_and_highlights(forum):
    """(the forum's appearances with their speakers, its Highlights): 2 queries.

    Run for the one forum a page shows rather than prefetched: for a single object
    prefetch_related's own work adds about half to the CPU of the queries themselves (the
    recap page's five reads: 5.9 ms prefetched, 3.9 ms run directly, on the bench data).
    """
    appearances = list(forum_appearances(forum.appearances.all()))
    quotes = Quote.objects.filter(forum=forum).highlights().select_related("speaker")
    return appearances, attribute_highlights(quotes, appearances)


class HomeView(TemplateView):
    template_name = "home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        forum = (
            Forum.objects.visible_to(self.request.user).published().select_related("recap").first()
        )
        context.update(forum=forum, topics=list(Topic.objects.order_by("position", "id")))
        if forum:
            context.update(
                quotes_linked=True,
                recap=recap_of(forum),
                headline=headline_of(forum),
                highlights=speakers_and_highlights(forum)[1],
            )
        return context


class ForumListView(EvaluatedListMixin, ListView):
    template_name = "forums/forum_list.html"
    context_object_name = "forums"
    paginate_by = PAGE_SIZE

    def get_queryset(self):
        return Forum.objects.visible_to(self.request.user).select_related("recap")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["show_status"] = can_see_unpublished(self.request.user)
        return context


def recap_page_queryset(forums):
    """`forums` with their recaps, for `recap_page_context`."""
    return forums.select_related("recap")


def recap_page_context(forum, *, show_status=False):
    """The context of `forums/forum_detail.html` for a forum from `recap_page_queryset`:
    5 queries, however long the recap (`speakers_and_highlights` says why not prefetched).

    The public page and the organisers' preview both build it here, so a preview shows
    exactly what the public will read.
    """
    appearances, highlights = speakers_and_highlights(forum)
    recap = recap_of(forum)
    themes = list(forum.themes.order_by("position"))
    html = transcripts(forum) if themes else {}
    for theme in themes:
        theme.transcript_html = html.get(theme.pk, "")
    return {
        "forum": forum,
        "recap": recap,
        "headline": headline_of(forum),
        "body_html": render_markdown(recap.body) if recap else "",
        "show_status": show_status,
        "appearances": appearances,
        "speaker_groups": group_by_role(appearances),
        "highlights": highlights,
        # A quote's page exists for the public once the recap is: a preview links none.
        "quotes_linked": is_public(recap),
        "themes": themes,
        "released_topics": list(forum.released_topics.order_by("position", "id")),
    }


class ForumDetailView(DetailView):
    """The recap of one forum: speakers by role, highlights, themes with their transcript."""

    template_name = "forums/forum_detail.html"
    context_object_name = "forum"

    def get_queryset(self):
        return recap_page_queryset(Forum.objects.visible_to(self.request.user))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            recap_page_context(self.object, show_status=can_see_unpublished(self.request.user))
        )
        return context


def strict(filterset):
    """The filtered rows, or none when a filter is invalid (its error says why)."""
    if filterset.is_bound and not filterset.is_valid():
        return filterset.queryset.none()
    return filterset.qs


def with_attribution(quotes):
    """Quotes annotated with their speaker's organisation and title as of the quote's forum.

    `organisation_then` and `title_then` are None when the speaker has no appearance there.
    """
    then = Appearance.objects.filter(forum=OuterRef("forum"), speaker=OuterRef("speaker")).order_by(
        "position", "id"
    )
    return quotes.annotate(
        organisation_then=Subquery(then.values("organisation")[:1]),
        title_then=Subquery(then.values("title")[:1]),
    )


class SpeakerListView(EvaluatedListMixin, ListView):
    """The speaker directory: search by name, organisation or title; filter; paginate."""

    template_name = "forums/speaker_list.html"
    context_object_name = "speakers"
    paginate_by = PAGE_SIZE

    def get_queryset(self):
        self.filterset = SpeakerFilter(
            self.request.GET or None,
            queryset=Speaker.objects.visible_to(self.request.user),
            request=self.request,
        )
        return strict(self.filterset)

    def get_paginator(self, queryset, per_page, *args, **kwargs):
        paginator = super().get_paginator(queryset, per_page, *args, **kwargs)
        if not self.is_filtered():
            # The whole directory's count runs over every speaker: kept like its page.
            paginator.count = remember(
                f"speaker-count:{visibility(self.request.user)}", [SPEAKERS, FORUMS], queryset.count
            )
        return paginator

    def is_filtered(self):
        return any(value for name, value in self.request.GET.items() if name != "page")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        bounded_choices(
            self.filterset.form,
            "forum",
            FILTER_CHOICES,
            label="title",
            # The public forums' titles change only when a forum does: kept until then.
            keep=functools.partial(
                remember, f"speaker-forum-choices:{visibility(self.request.user)}", [FORUMS]
            ),
        )
        evaluate_choices(self.filterset.form)
        context.update(
            filter=self.filterset,
            is_filtered=any(query.values()),
            query=query.urlencode(),
        )
        return context


class SpeakerDetailView(DetailView):
    template_name = "forums/speaker_detail.html"
    context_object_name = "speaker"

    def get_object(self, queryset=None):
        """The speaker, with their appearances at the forums this user may see.

        Speaker.visible_to's rule without asking it apart: for whoever may not see what is
        unpublished, a speaker with no appearance at a published forum is not there (404).
        """
        user = self.request.user
        speaker = get_object_or_404(Speaker, slug=self.kwargs["slug"])
        self.appearances = list(
            speaker.appearances.filter(forum__in=Forum.objects.visible_to(user))
            .select_related("forum")
            # What the page shows of each forum, not its lede or cover.
            .only(*APPEARANCE_SHOWN)
            .order_by(F("forum__starts_at").desc(nulls_last=True), "forum_id", "position")
        )
        if not self.appearances and not can_see_unpublished(user):
            raise Http404
        return speaker

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        quotes = (
            Quote.objects.visible_to(self.request.user)
            .filter(speaker=self.object, state=Quote.State.APPROVED)
            .order_by(F("forum__starts_at").desc(nulls_last=True), "forum_id", "id")
        )
        context.update(appearances=self.appearances, quotes=quote_rows(quotes))
        return context


class SearchView(TemplateView):
    """Search results for `q`, of every kind or of one (`kind`), the best SEARCH_LIMIT first."""

    template_name = "forums/search.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        query = " ".join(self.request.GET.get("q", "").split())
        shortened = len(query) > search.MAX_QUERY_LENGTH
        query = query[: search.MAX_QUERY_LENGTH].strip()
        kind = self.request.GET.get("kind", "")
        if kind not in SearchEntry.Kind.values:
            kind = ""
        counts = search.count_matches(query, user=user)
        results = search.search(query, user=user, limit=SEARCH_LIMIT, kind=kind or None)
        context.update(
            query=query,
            shortened=shortened,
            max_length=search.MAX_QUERY_LENGTH,
            kind=kind,
            kinds=kind_tabs(query, counts, kind),
            results=results,
            count=counts.get(kind, 0) if kind else sum(counts.values()),
            limit=SEARCH_LIMIT,
            show_status=can_see_unpublished(user),
        )
        return context


def kind_tabs(query, counts, current):
    """ "All" and each kind that found something, with how many, as links keeping the query."""
    tabs = [("", _("All"), sum(counts.values()))]
    tabs += [(kind.value, kind.label, counts.get(kind.value, 0)) for kind in SearchEntry.Kind]
    return [
        {
            "label": label,
            "count": count,
            "is_current": value == current,
            "query_string": urlencode({"q": query, **({"kind": value} if value else {})}),
        }
        for value, label, count in tabs
        if count or value in ("", current)
    ]


class QuoteDetailView(DetailView):
    """One quote's own page, to link to and share: with its speaker as of the forum."""

    template_name = "forums/quote_detail.html"
    context_object_name = "quote"

    def get_queryset(self):
        return with_attribution(
            Quote.objects.visible_to(self.request.user).select_related(
                "forum__recap", "speaker", "theme"
            )
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        quote = self.object
        context.update(
            canonical_url=absolute_url(quote.get_absolute_url()),
            is_public=quote.state == Quote.State.APPROVED and is_public(recap_of(quote.forum)),
            headline=headline_of(quote.forum),
        )
        return context
