"""The admins' curation pages, and the organisers' proposals, under /curate/.

Admins work through the queue of proposed quotes (approve, edit and approve, reject with a
reason, feature), order each forum's highlights, merge duplicate speakers and read the audit
log. Organisers propose quotes and edit their proposals. Every write is one call into
`forums.curation`, which checks the actor again and records the act in the audit trail.
"""

import unicodedata

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import UserPassesTestMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View
from django.views.generic import ListView

from forums import curation
from forums.filters import CurationEntryFilter, QuoteFilter
from forums.forms import (
    ApproveQuoteForm,
    BulkCurationForm,
    EditQuoteForm,
    MoveHighlightForm,
    ProposeQuoteForm,
    QuoteForumForm,
    RejectQuoteForm,
    ReorderHighlightsForm,
    SpeakerMergeForm,
    add_service_errors,
    form_errors_text,
)
from forums.models import Appearance, CurationEntry, Forum, Quote, Speaker
from forums.views import strict, with_attribution
from wecity.render import (
    FILTER_CHOICES,
    EvaluatedListMixin,
    bounded_choices,
    evaluate_choices,
)

QUEUE_PAGE_SIZE = 30
LOG_PAGE_SIZE = 50
DUPLICATE_GROUPS_SHOWN = 20
FORUMS_PAGE_SIZE = 50

Action = CurationEntry.Action
State = Quote.State


class AdminRequiredMixin(UserPassesTestMixin):
    """Admins only (`curation.is_admin`): anonymous visitors sign in, anyone else gets a 403."""

    def test_func(self):
        return curation.is_admin(self.request.user)


class ProposerRequiredMixin(UserPassesTestMixin):
    """Organisers and admins (`curation.can_propose`), who propose quotes and edit proposals."""

    def test_func(self):
        return curation.can_propose(self.request.user)


def next_url(request, default):
    """The page a form came from (its `next`), if it is on this site; otherwise `default`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def query_without_page(request):
    """The page's query string without `page`, for pagination links that keep the filters."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def curation_quotes(user):
    """Quotes with all the curation pages show of them, in one query."""
    return with_attribution(Quote.objects.visible_to(user)).select_related(
        "forum", "speaker", "theme", "turn__theme", "proposed_by"
    )


def quote_url(quote):
    return reverse("curate:quote", kwargs={"pk": quote.pk})


def proposals_home(user, forum):
    """Where a proposal's author goes back to: the queue for admins, the forum's editor else."""
    if curation.is_admin(user):
        return f"{reverse('curate:queue')}?forum={forum.pk}&state="
    return reverse("organise:forum-edit", kwargs={"pk": forum.pk}) + "#highlights"


# --- The quote in its transcript ---------------------------------------------------------------


def fold(text):
    """`text` folded for matching (full-width punctuation as half-width, case ignored),
    with the index in `text` of each folded character."""
    folded, origin = [], []
    for index, char in enumerate(text):
        for part in unicodedata.normalize("NFKC", char).casefold():
            folded.append(part)
            origin.append(index)
    return "".join(folded), origin


def mark_words(paragraph, words):
    """The paragraph as HTML with `words` inside <mark>, or None if they are not in it.

    Every part is escaped before it is wrapped: a transcript's markup stays text.
    """
    haystack, origin = fold(paragraph)
    needle, _origin = fold(words.strip())
    start = haystack.find(needle) if needle else -1
    if start < 0:
        return None
    begin, end = origin[start], origin[start + len(needle) - 1] + 1
    return format_html(
        "{}<mark>{}</mark>{}", paragraph[:begin], paragraph[begin:end], paragraph[end:]
    )


def quote_context(quote):
    """The transcript turn a quote comes from, its words marked; None without a turn."""
    turn = quote.turn
    if turn is None:
        return None
    paragraphs, found = [], False
    for paragraph in turn.paragraphs:
        marked = None if found else mark_words(paragraph, quote.text)
        found = found or marked is not None
        paragraphs.append(marked or escape(paragraph))
    return {"theme": turn.theme, "paragraphs": paragraphs, "found": found}


# --- The audit trail, readable -------------------------------------------------------------------


def state_label(value):
    return State(value).label if value in State.values else value


def order_words(entry, side, words):
    ids = entry.details.get(f"order_{side}")
    if ids is None:
        text = entry.before if side == "before" else entry.after
        ids = [int(pk) for pk in text.split() if pk.isdigit()]
    return [words.get(pk, f"#{pk}") for pk in ids]


def describe(entry, words):
    """(before, after, words) of an entry as people read them: states by name, a
    reorder as the quotes' words in order (lists), the quote's words apart."""
    if entry.action == Action.REORDER:
        return order_words(entry, "before", words), order_words(entry, "after", words), ""
    if entry.action == Action.APPROVE:
        return state_label(entry.before), State.APPROVED.label, entry.after
    if entry.action == Action.REJECT:
        return state_label(entry.before), State.REJECTED.label, entry.after
    if entry.action == Action.PROPOSE and entry.before == State.REJECTED:
        return State.REJECTED.label, State.PROPOSED.label, entry.after
    return entry.before, entry.after, ""


def describe_entries(entries):
    """Entries with readable before and after; the reordered quotes' words in one query."""
    ids = set()
    for entry in entries:
        if entry.action == Action.REORDER:
            ids.update(entry.details.get("order_before", []))
            ids.update(entry.details.get("order_after", []))
    words = dict(Quote.objects.filter(pk__in=ids).values_list("pk", "text")) if ids else {}
    rows = []
    for entry in entries:
        before, after, text = describe(entry, words)
        rows.append(
            {
                "entry": entry,
                "before": before,
                "after": after,
                "words": text,
                "is_order": entry.action == Action.REORDER,
            }
        )
    return rows


# --- The queue ----------------------------------------------------------------------------------


class QueueView(AdminRequiredMixin, EvaluatedListMixin, ListView):
    """Quotes to curate, proposed ones first of all; ticked ones are approved or rejected
    together (POST)."""

    template_name = "forums/curation/queue.html"
    context_object_name = "quotes"
    paginate_by = QUEUE_PAGE_SIZE
    bulk_form = None

    def get_queryset(self):
        quotes = curation_quotes(self.request.user).order_by(
            F("forum__starts_at").desc(nulls_last=True), "forum_id", "id"
        )
        self.filterset = QuoteFilter(self.request.GET, queryset=quotes, request=self.request)
        return strict(self.filterset)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for quote in context["quotes"]:
            quote.context = quote_context(quote)
        for name, label in (("forum", "title"), ("speaker", "name")):
            bounded_choices(self.filterset.form, name, FILTER_CHOICES, label=label)
        evaluate_choices(self.filterset.form)
        context.update(
            filter=self.filterset,
            query=query_without_page(self.request),
            bulk_form=self.bulk_form or BulkCurationForm(),
            next=self.request.get_full_path(),
        )
        return context

    def post(self, request):
        form = BulkCurationForm(request.POST)
        if form.is_valid():
            quotes = list(form.cleaned_data["quotes"])
            try:
                if form.cleaned_data["action"] == "approve":
                    count = curation.approve_quotes(quotes, user=request.user)
                    message = ngettext(
                        "%(count)d quote approved.", "%(count)d quotes approved.", count
                    )
                else:
                    count = curation.reject_quotes(
                        quotes, user=request.user, reason=form.cleaned_data["reason"]
                    )
                    message = ngettext(
                        "%(count)d quote rejected.", "%(count)d quotes rejected.", count
                    )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, message % {"count": count})
                return redirect(request.get_full_path())
        self.bulk_form = form
        return self.get(request)


# --- One quote: its page and the acts on it ---------------------------------------------------


def quote_page(request, pk, **bound_forms):
    """The curation page of one quote; `bound_forms` come back with the admin's input."""
    quote = get_object_or_404(curation_quotes(request.user), pk=pk)
    entries = quote.curation_entries.select_related("actor").order_by("created_at", "id")
    context = {
        "quote": quote,
        "in_context": quote_context(quote),
        "entries": describe_entries(list(entries)),
        "approve_form": ApproveQuoteForm(initial={"text": quote.text}, auto_id="approve-%s"),
        "reject_form": RejectQuoteForm(auto_id="reject-%s"),
        "action_form": None,
        "next": quote_url(quote),
        **bound_forms,
    }
    return render(request, "forums/curation/quote.html", context)


class QuoteView(AdminRequiredMixin, View):
    def get(self, request, pk):
        return quote_page(request, pk)


class QuoteActionView(View):
    """POST only: one act on one quote, then back to the page it was done from (`next`).

    An act with input (approve with words, reject with a reason) that is refused shows the
    quote's page with the input and the error next to its field; others say why in a message.
    """

    http_method_names = ["post"]
    form_class = forms.Form
    form_name = "action_form"
    auto_id = "id_%s"
    shows_errors_on_page = False
    success_message = ""

    def post(self, request, pk):
        quote = get_object_or_404(Quote.objects.visible_to(request.user), pk=pk)
        form = self.form_class(request.POST, auto_id=self.auto_id)
        if form.is_valid():
            try:
                self.act(quote, form, user=request.user)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, self.success_message)
                return redirect(next_url(request, self.default_url(quote)))
        if self.shows_errors_on_page:
            return quote_page(request, pk, **{self.form_name: form})
        messages.error(request, form_errors_text(form))
        return redirect(next_url(request, self.default_url(quote)))

    def default_url(self, quote):
        if curation.is_admin(self.request.user):
            return quote_url(quote)
        return proposals_home(self.request.user, quote.forum)

    def act(self, quote, form, *, user):
        raise NotImplementedError


class ApproveView(AdminRequiredMixin, QuoteActionView):
    form_class = ApproveQuoteForm
    form_name = "approve_form"
    auto_id = "approve-%s"
    shows_errors_on_page = True
    success_message = gettext_lazy("The quote is approved.")

    def act(self, quote, form, *, user):
        curation.approve_quote(quote, user=user, text=form.text_or_none)


class RejectView(AdminRequiredMixin, QuoteActionView):
    form_class = RejectQuoteForm
    form_name = "reject_form"
    auto_id = "reject-%s"
    shows_errors_on_page = True
    success_message = gettext_lazy("The quote is rejected.")

    def act(self, quote, form, *, user):
        curation.reject_quote(quote, user=user, reason=form.cleaned_data["reason"])


class FeatureView(AdminRequiredMixin, QuoteActionView):
    success_message = gettext_lazy("The quote is a highlight now, at the end of the list.")

    def act(self, quote, form, *, user):
        curation.feature_quote(quote, user=user)


class UnfeatureView(AdminRequiredMixin, QuoteActionView):
    success_message = gettext_lazy("The quote is no longer a highlight.")

    def act(self, quote, form, *, user):
        curation.unfeature_quote(quote, user=user)


class ReproposeView(ProposerRequiredMixin, QuoteActionView):
    success_message = gettext_lazy("The quote is proposed again.")

    def act(self, quote, form, *, user):
        curation.repropose_quote(quote, user=user)


# --- Proposals (organisers and admins) ----------------------------------------------------------


class ProposeQuoteView(ProposerRequiredMixin, View):
    """Propose a quote: choose the forum, then the speaker, the turn and the words."""

    template_name = "forums/curation/propose.html"

    def forum_form(self, data):
        forums = Forum.objects.visible_to(self.request.user)
        return QuoteForumForm(data, forums=forums, auto_id="forum-%s")

    def render_page(self, forum_form, form):
        forum = forum_form.cleaned_data["forum"] if form is not None else None
        return render(
            self.request,
            self.template_name,
            {
                "forum_form": evaluate_choices(forum_form),
                "forum": forum,
                "form": form and evaluate_choices(form),
                "next": next_url(self.request, ""),
            },
        )

    def get(self, request):
        forum_form = self.forum_form(request.GET if "forum" in request.GET else None)
        form = None
        if forum_form.is_bound and forum_form.is_valid():
            form = ProposeQuoteForm(forum=forum_form.cleaned_data["forum"])
        return self.render_page(forum_form, form)

    def post(self, request):
        forum_form = self.forum_form(request.POST)
        if not forum_form.is_valid():
            return self.render_page(forum_form, None)
        forum = forum_form.cleaned_data["forum"]
        form = ProposeQuoteForm(request.POST, forum=forum)
        if form.is_valid():
            try:
                curation.propose_quote(forum, user=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("The quote is proposed; an admin will review it."))
                return redirect(next_url(request, proposals_home(request.user, forum)))
        return self.render_page(forum_form, form)


class EditQuoteView(ProposerRequiredMixin, View):
    """Change a proposal's words or speaker (admins may also change an approved quote)."""

    template_name = "forums/curation/quote_edit.html"

    def get_quote(self, pk):
        return get_object_or_404(
            Quote.objects.visible_to(self.request.user).select_related("forum", "speaker"),
            pk=pk,
        )

    def render_page(self, quote, form):
        context = {
            "quote": quote,
            "form": evaluate_choices(form),
            "next": next_url(self.request, ""),
            "can_curate": curation.is_admin(self.request.user),
        }
        return render(self.request, self.template_name, context)

    def get(self, request, pk):
        quote = self.get_quote(pk)
        return self.render_page(quote, EditQuoteForm(quote=quote))

    def post(self, request, pk):
        quote = self.get_quote(pk)
        form = EditQuoteForm(request.POST, quote=quote)
        if form.is_valid():
            try:
                curation.edit_quote(quote, user=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("The quote is saved."))
                return redirect(next_url(request, proposals_home(request.user, quote.forum)))
        return self.render_page(quote, form)


# --- Highlights ---------------------------------------------------------------------------------


def highlights_url(forum, anchor=""):
    url = f"{reverse('curate:highlights')}?forum={forum.pk}"
    return f"{url}#{anchor}" if anchor else url


class HighlightsView(AdminRequiredMixin, View):
    """A forum's highlights in order, with buttons to move each one up or down."""

    template_name = "forums/curation/highlights.html"

    def get(self, request):
        approved = Q(quotes__state=State.APPROVED)
        forums = Forum.objects.visible_to(request.user).select_related("recap")
        forum_form = QuoteForumForm(
            request.GET if "forum" in request.GET else None, forums=forums, auto_id="forum-%s"
        )
        if not (forum_form.is_bound and forum_form.is_valid()):
            # A GROUP BY query drops Meta.ordering: spelled out for the paginator.
            forums = forums.annotate(
                featured_count=Count("quotes", filter=Q(quotes__is_featured=True)),
                approved_count=Count("quotes", filter=approved),
            ).order_by(F("starts_at").desc(nulls_last=True), "-id")
            page = Paginator(forums, FORUMS_PAGE_SIZE).get_page(request.GET.get("page"))
            page.object_list = list(page.object_list)
            context = {
                "forums": page.object_list,
                "page_obj": page,
                "is_paginated": page.has_other_pages(),
                "forum": None,
            }
        else:
            forum = forum_form.cleaned_data["forum"]
            quotes = list(
                with_attribution(forum.quotes.filter(state=State.APPROVED))
                .select_related("speaker", "theme")
                .order_by(F("highlight_position").asc(nulls_last=True), "id")
            )
            highlights = [quote for quote in quotes if quote.is_featured]
            context = {
                "forum": forum,
                "highlights": highlights,
                "others": [quote for quote in quotes if not quote.is_featured],
                "seen": ",".join(str(quote.pk) for quote in highlights),
                "next": highlights_url(forum),
            }
        return render(request, self.template_name, context)


class MoveHighlightView(AdminRequiredMixin, View):
    """Move one highlight up or down; refused if the order changed since the page showed it."""

    http_method_names = ["post"]

    def post(self, request, pk):
        quote = get_object_or_404(Quote.objects.visible_to(request.user), pk=pk)
        form = MoveHighlightForm(request.POST)
        if not form.is_valid():
            messages.error(request, form_errors_text(form))
        else:
            try:
                curation.move_highlight(
                    quote, user=request.user, step=form.step, seen=form.cleaned_data["seen"]
                )
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, _("The highlight is moved."))
        return redirect(highlights_url(quote.forum, f"highlight-{quote.pk}"))


class ReorderHighlightsView(AdminRequiredMixin, View):
    """A whole new order of a forum's highlights, as the drag and drop list sends it."""

    http_method_names = ["post"]

    def post(self, request, pk):
        forum = get_object_or_404(Forum.objects.visible_to(request.user), pk=pk)
        form = ReorderHighlightsForm(request.POST)
        if not form.is_valid():
            messages.error(request, form_errors_text(form))
        else:
            try:
                curation.reorder_highlights(
                    forum,
                    user=request.user,
                    order=form.cleaned_data["order"],
                    seen=form.cleaned_data["seen"],
                )
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, _("The highlights are in their new order."))
        return redirect(highlights_url(forum))


# --- The audit log ------------------------------------------------------------------------------


class LogView(AdminRequiredMixin, EvaluatedListMixin, ListView):
    """Every curation act, newest first; read only, here and in the Django admin."""

    template_name = "forums/curation/log.html"
    paginate_by = LOG_PAGE_SIZE

    def get_queryset(self):
        entries = CurationEntry.objects.select_related("actor", "quote", "forum", "speaker")
        self.filterset = CurationEntryFilter(
            self.request.GET or None,
            queryset=entries.order_by("-created_at", "-id"),
            request=self.request,
        )
        return strict(self.filterset)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for name, label in (("forum", "title"), ("speaker", "name")):
            bounded_choices(self.filterset.form, name, FILTER_CHOICES, label=label)
        evaluate_choices(self.filterset.form)
        context.update(
            filter=self.filterset,
            query=query_without_page(self.request),
            entries=describe_entries(list(context["object_list"])),
        )
        return context


# --- Merging speakers ---------------------------------------------------------------------------


def likely_duplicates():
    """Speakers who share their name with another record, grouped by name."""
    shared = Speaker.objects.values("name").annotate(n=Count("id")).filter(n__gt=1)
    names = Subquery(shared.order_by("name").values("name")[:DUPLICATE_GROUPS_SHOWN])
    groups = {}
    for speaker in Speaker.objects.filter(name__in=names).order_by("name", "id"):
        groups.setdefault(speaker.name, []).append(speaker)
    return [{"name": name, "speakers": speakers} for name, speakers in groups.items()]


def merge_preview(keep, duplicate):
    """What `curation.merge_speakers` would move, drop and fill in, without changing anything."""
    counted = {
        speaker.pk: speaker
        for speaker in Speaker.objects.filter(pk__in=[keep.pk, duplicate.pk])
        .select_related("member")
        .annotate(
            appearance_count=Count("appearances", distinct=True),
            turn_count=Count("turns", distinct=True),
            quote_count=Count("quotes", distinct=True),
        )
    }
    keep, duplicate = counted[keep.pk], counted[duplicate.pk]
    same_role = Appearance.objects.filter(
        speaker=keep, forum=OuterRef("forum"), role=OuterRef("role")
    )
    clashes = list(
        Appearance.objects.filter(Exists(same_role), speaker=duplicate)
        .select_related("forum")
        .order_by("forum_id", "role")
    )
    filled = [
        Speaker._meta.get_field(name).verbose_name
        for name in ("organisation", "title", "bio", "photo")
        if not getattr(keep, name) and getattr(duplicate, name)
    ]
    keep_member = getattr(keep, "member", None)
    duplicate_member = getattr(duplicate, "member", None)
    return {
        "keep": keep,
        "duplicate": duplicate,
        "moving_appearances": duplicate.appearance_count - len(clashes),
        "clashes": clashes,
        "filled": filled,
        "member_moves": duplicate_member is not None and keep_member is None,
        "member_dropped": duplicate_member if duplicate_member and keep_member else None,
    }


class SpeakerMergeView(AdminRequiredMixin, View):
    """Choose the record to keep and its duplicate, see what moves, confirm."""

    template_name = "forums/curation/speaker_merge.html"

    def render_page(self, form, preview=None):
        # Both selects offer the same speakers: queried once, before the template renders.
        evaluate_choices(form, "keep")
        form.fields["duplicate"].widget.choices = form.fields["keep"].widget.choices
        context = {"form": form, "preview": preview, "duplicates": likely_duplicates()}
        return render(self.request, self.template_name, context)

    def get(self, request):
        chosen = "keep" in request.GET or "duplicate" in request.GET
        form = SpeakerMergeForm(request.GET if chosen else None, auto_id="merge-%s")
        preview = None
        if chosen and form.is_valid():
            preview = merge_preview(form.cleaned_data["keep"], form.cleaned_data["duplicate"])
        return self.render_page(form, preview)

    def post(self, request):
        form = SpeakerMergeForm(request.POST, auto_id="merge-%s")
        if form.is_valid():
            keep, duplicate = form.cleaned_data["keep"], form.cleaned_data["duplicate"]
            name = duplicate.name
            try:
                keep = curation.merge_speakers(keep, user=request.user, duplicate=duplicate)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    _("The duplicate record of %(duplicate)s is merged into %(keep)s.")
                    % {"duplicate": name, "keep": keep.name},
                )
                return redirect(keep.get_absolute_url())
        return self.render_page(form)
