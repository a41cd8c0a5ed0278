"""Public pages of forums, recaps and speakers.

Every object comes through its model's `visible_to(user)`; every page prefetches what its
template shows, so a page costs the same few queries however long the recap is.
"""

from dataclasses import dataclass

from django.db.models import F, Prefetch
from django.views.generic import DetailView, ListView, TemplateView

from forums.models import (
    Appearance,
    Forum,
    Quote,
    Speaker,
    Theme,
    TranscriptTurn,
    can_see_unpublished,
)
from forums.sanitize import render_markdown
from topics.models import Topic

PAGE_SIZE = 20


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
    return Prefetch(
        "appearances",
        queryset=Appearance.objects.select_related("speaker").order_by("position", "id"),
    )


def highlights_prefetch():
    return Prefetch(
        "quotes",
        queryset=Quote.objects.highlights().select_related("speaker"),
        to_attr="highlight_quotes",
    )


class HomeView(TemplateView):
    template_name = "home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        forum = (
            Forum.objects.visible_to(self.request.user)
            .published()
            .select_related("recap")
            .prefetch_related(appearances_prefetch(), highlights_prefetch())
            .first()
        )
        context.update(forum=forum, topics=list(Topic.objects.order_by("position", "id")))
        if forum:
            context.update(
                recap=recap_of(forum),
                headline=headline_of(forum),
                highlights=attribute_highlights(forum.highlight_quotes, forum.appearances.all()),
            )
        return context


class ForumListView(ListView):
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
    """`forums` with everything the recap page shows prefetched: a constant query count."""
    turns = TranscriptTurn.objects.select_related("speaker").order_by("position")
    themes = Theme.objects.order_by("position").prefetch_related(Prefetch("turns", queryset=turns))
    return forums.select_related("recap").prefetch_related(
        appearances_prefetch(),
        highlights_prefetch(),
        Prefetch("themes", queryset=themes),
        Prefetch("released_topics", queryset=Topic.objects.order_by("position", "id")),
    )


def recap_page_context(forum, *, show_status=False):
    """The context of `forums/forum_detail.html` for a forum from `recap_page_queryset`.

    The public page and the organisers' preview both build it here, so a preview shows
    exactly what the public will read.
    """
    appearances = list(forum.appearances.all())
    recap = recap_of(forum)
    return {
        "forum": forum,
        "recap": recap,
        "headline": headline_of(forum),
        "body_html": render_markdown(recap.body) if recap else "",
        "show_status": show_status,
        "speaker_groups": group_by_role(appearances),
        "highlights": attribute_highlights(forum.highlight_quotes, appearances),
        "themes": list(forum.themes.all()),
        "released_topics": list(forum.released_topics.all()),
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


class SpeakerListView(ListView):
    template_name = "forums/speaker_list.html"
    context_object_name = "speakers"
    paginate_by = PAGE_SIZE

    def get_queryset(self):
        return Speaker.objects.visible_to(self.request.user)


class SpeakerDetailView(DetailView):
    template_name = "forums/speaker_detail.html"
    context_object_name = "speaker"

    def get_queryset(self):
        return Speaker.objects.visible_to(self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        speaker = self.object
        appearances = (
            speaker.appearances.filter(forum__in=Forum.objects.visible_to(user))
            .select_related("forum")
            .order_by(F("forum__starts_at").desc(nulls_last=True), "forum_id", "position")
        )
        quotes = (
            Quote.objects.visible_to(user)
            .filter(speaker=speaker, state=Quote.State.APPROVED)
            .select_related("forum", "theme")
            .order_by(F("forum__starts_at").desc(nulls_last=True), "forum_id", "id")
        )
        context.update(
            appearances=list(appearances),
            quotes=list(quotes),
        )
        return context
