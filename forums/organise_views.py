"""The organisers' pages: create, edit, preview, publish, share and restore forum recaps.

Every write goes through `forums.services`. A view gets its objects, validates a form, calls
one service and redirects back to the edit page; the edit page is built in one place
(`edit_page`) with everything it lists prefetched, so it costs the same few queries
however many themes, turns and speakers a forum has.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import UserPassesTestMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Prefetch, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import ListView

from forums import curation, services
from forums.forms import (
    AddAppearanceForm,
    AppearanceForm,
    ForumCreateForm,
    ForumForm,
    HighlightsForm,
    MoveForm,
    ScheduleForm,
    ThemeForm,
    TurnForm,
    VersionForm,
    add_service_errors,
    form_errors_text,
)
from forums.models import (
    Appearance,
    Forum,
    Quote,
    RecapShareLink,
    Speaker,
    Theme,
    TranscriptTurn,
)
from forums.sanitize import render_markdown
from forums.views import recap_page_context, recap_page_queryset
from topics.models import Topic
from wecity.render import EvaluatedListMixin, choices_from, evaluate_choices, limit_choices

DASHBOARD_PAGE_SIZE = 50
HISTORY_PAGE_SIZE = 20
SPEAKER_OPTIONS_LIMIT = 200


class OrganiserRequiredMixin(UserPassesTestMixin):
    """Organisers only: anonymous visitors are sent to sign in, anyone else gets a 403."""

    def test_func(self):
        user = self.request.user
        return user.is_authenticated and user.is_organiser


def editable_forums(user):
    """Forums an organiser edits: every forum with a recap (`create_forum` makes one)."""
    return Forum.objects.visible_to(user).filter(recap__isnull=False).select_related("recap")


def share_url(link):
    return settings.SITE_URL.rstrip("/") + link.get_absolute_url()


def edit_url(forum, anchor=""):
    url = reverse("organise:forum-edit", kwargs={"pk": forum.pk})
    return f"{url}#{anchor}" if anchor else url


# --- Dashboard and new forum ----------------------------------------------------------------


class ForumListView(OrganiserRequiredMixin, EvaluatedListMixin, ListView):
    template_name = "forums/organise/forum_list.html"
    context_object_name = "forums"
    paginate_by = DASHBOARD_PAGE_SIZE

    def get_queryset(self):
        return Forum.objects.visible_to(self.request.user).select_related(
            "recap", "recap__updated_by"
        )


class ForumCreateView(OrganiserRequiredMixin, View):
    template_name = "forums/organise/forum_create.html"

    def get(self, request):
        return render(request, self.template_name, {"form": ForumCreateForm()})

    def post(self, request):
        form = ForumCreateForm(request.POST)
        if form.is_valid():
            try:
                forum = services.create_forum(user=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("The forum is created. Now add its recap."))
                return redirect(edit_url(forum))
        return render(request, self.template_name, {"form": form})


# --- The edit page --------------------------------------------------------------------------


def edit_page_forum(user, pk):
    """The forum with everything the edit page lists, in a constant number of queries."""
    turns = TranscriptTurn.objects.select_related("speaker").order_by("position")
    themes = Theme.objects.order_by("position").prefetch_related(Prefetch("turns", queryset=turns))
    appearances = Appearance.objects.select_related("speaker").order_by("position", "id")
    forums = editable_forums(user).select_related("recap__updated_by")
    return get_object_or_404(
        forums.prefetch_related(
            Prefetch("themes", queryset=themes),
            Prefetch("appearances", queryset=appearances),
            Prefetch("recap__share_links", queryset=RecapShareLink.objects.order_by("-created_at")),
        ),
        pk=pk,
    )


def with_topics(forum):
    """Every topic, in order, each marked `released` at this forum: one query for both the
    form's checkboxes and what the forum has released (set as if prefetched).
    """
    released = Forum.released_topics.through.objects.filter(forum=forum, topic=OuterRef("pk"))
    topics = list(Topic.objects.order_by("position", "id").annotate(released=Exists(released)))
    cached = Topic.objects.none()  # what prefetch_related would have stored for the relation
    cached._result_cache, cached._prefetch_done = [t for t in topics if t.released], True
    forum._prefetched_objects_cache["released_topics"] = cached
    return topics


def speakers_of(appearances):
    """The distinct speakers of these appearances, in order: a turn's speaker choices."""
    speakers = {}
    for appearance in appearances:
        speakers.setdefault(appearance.speaker_id, appearance.speaker)
    return list(speakers.values())


def edit_page(request, pk, *, form=None, conflicts=None):
    """Render the edit page; `form` is the main form when it comes back with input."""
    forum = edit_page_forum(request.user, pk)
    topics = with_topics(forum)
    recap = forum.recap
    appearances = list(forum.appearances.all())
    speakers = speakers_of(appearances)
    themes = [
        {
            "theme": theme,
            "rename_form": ThemeForm(
                initial={"title": theme.title}, auto_id=f"theme-{theme.pk}-%s"
            ),
            "turns": [
                {
                    "turn": turn,
                    "form": TurnForm(
                        initial={"speaker": turn.speaker_id, "body": turn.body},
                        speakers=speakers,
                        auto_id=f"turn-{turn.pk}-%s",
                    ),
                }
                for turn in theme.turns.all()
            ],
            "add_turn_form": TurnForm(speakers=speakers, auto_id=f"theme-{theme.pk}-turn-%s"),
        }
        for theme in forum.themes.all()
    ]
    quotes = list(
        Quote.objects.filter(forum=forum)
        .select_related("speaker")
        .order_by(F("highlight_position").asc(nulls_last=True), "id")
    )
    approved = [q for q in quotes if q.state == Quote.State.APPROVED]
    share_links = list(recap.share_links.all())
    context = {
        "forum": forum,
        "recap": recap,
        "form": evaluate_choices(
            choices_from(form or ForumForm(instance=forum), "released_topics", topics)
        ),
        "conflicts": conflicts,
        "body_html": render_markdown(form["body"].value() if form else recap.body),
        "missing": services.missing_for_publication(forum),
        "schedule_form": ScheduleForm(auto_id="schedule-%s"),
        "themes": themes,
        "add_theme_form": ThemeForm(auto_id="add-theme-%s"),
        "appearances": [
            {
                "appearance": appearance,
                "form": AppearanceForm(
                    instance=appearance, auto_id=f"appearance-{appearance.pk}-%s"
                ),
            }
            for appearance in appearances
        ],
        # The filter above the select (SpeakerOptionsView) reaches the other speakers.
        "add_appearance_form": limit_choices(
            AddAppearanceForm(auto_id="add-speaker-%s"), "speaker", SPEAKER_OPTIONS_LIMIT
        ),
        "highlights_form": HighlightsForm(quotes=approved, auto_id="highlights-%s"),
        "can_curate": curation.is_admin(request.user),
        "other_quotes": [q for q in quotes if q.state != Quote.State.APPROVED],
        "share_links": [(link, share_url(link)) for link in share_links],
    }
    return render(request, "forums/organise/forum_edit.html", context)


class ForumEditView(OrganiserRequiredMixin, View):
    def get(self, request, pk):
        return edit_page(request, pk)

    def post(self, request, pk):
        forum = get_object_or_404(editable_forums(request.user), pk=pk)
        form = ForumForm(request.POST, request.FILES, instance=forum)
        if not form.is_valid():
            return edit_page(request, pk, form=form)
        try:
            services.update_forum(
                forum,
                user=request.user,
                expected_version=form.cleaned_data["version"],
                **form.changes(),
            )
        except services.StaleEdit as stale:
            # Keep the organiser's input, show what is saved now (the page explains), and
            # take the new version so that saving again is a deliberate overwrite.
            current = get_object_or_404(editable_forums(request.user), pk=pk)
            conflicts = form.conflicts(current)
            data = request.POST.copy()
            data["version"] = stale.recap.version
            return edit_page(
                request, pk, form=ForumForm(data, instance=current), conflicts=conflicts
            )
        except ValidationError as error:
            add_service_errors(form, error)
            return edit_page(request, pk, form=form)
        messages.success(request, _("The forum and its recap are saved."))
        return redirect(edit_url(forum, "recap"))


class MarkdownPreviewView(OrganiserRequiredMixin, View):
    """The recap body as readers will see it, for the edit page's live preview (htmx)."""

    http_method_names = ["post"]

    def post(self, request):
        return HttpResponse(render_markdown(request.POST.get("body", "")))


class SpeakerOptionsView(OrganiserRequiredMixin, View):
    """The <option>s of the add-speaker select, filtered by name or organisation (htmx)."""

    def get(self, request):
        query = request.GET.get("q", "").strip()
        speakers = Speaker.objects.order_by("name", "id")
        if query:
            speakers = speakers.filter(Q(name__icontains=query) | Q(organisation__icontains=query))
        return render(
            request,
            "forums/organise/includes/speaker_options.html",
            {"speakers": list(speakers[:SPEAKER_OPTIONS_LIMIT])},
        )


# --- Small changes: one service call each, then back to the edit page --------------------------


class ForumChangeView(OrganiserRequiredMixin, View):
    """POST only: validate `form_class`, call `change`, go back to the edit page's `anchor`.

    A stale version or a change the service refuses becomes a message; nothing is saved.
    """

    http_method_names = ["post"]
    form_class = VersionForm
    anchor = ""
    success_message = ""

    def post(self, request, pk, **kwargs):
        self.forum = get_object_or_404(editable_forums(request.user), pk=pk)
        self.load(**kwargs)
        form = self.get_form()
        if not form.is_valid():
            messages.error(request, form_errors_text(form))
            return redirect(self.get_success_url())
        try:
            self.change(form, user=request.user, expected_version=form.cleaned_data["version"])
        except services.StaleEdit as stale:
            messages.error(request, self.stale_message(stale, form))
        except ValidationError as error:
            messages.error(request, self.refused_message(error))
        else:
            messages.success(request, self.success_message)
        return redirect(self.get_success_url())

    def refused_message(self, error):
        return " ".join(error.messages)

    def load(self, **kwargs):
        """Fetch the row the change is about, from this forum only."""

    def get_form(self):
        return self.form_class(self.request.POST)

    def change(self, form, *, user, expected_version):
        raise NotImplementedError

    def stale_message(self, stale, form):
        typed = [
            str(value)
            for name, value in form.cleaned_data.items()
            if isinstance(value, str) and value and name not in ("direction",)
        ]
        if not typed:
            return stale.messages[0]
        return _("%(error)s What you typed: %(input)s") % {
            "error": stale.messages[0],
            "input": " / ".join(typed),
        }

    def get_success_url(self):
        return edit_url(self.forum, self.anchor)


class ThemeChangeView(ForumChangeView):
    anchor = "themes"

    def load(self, theme_pk):
        self.theme = get_object_or_404(self.forum.themes.all(), pk=theme_pk)


class AddThemeView(ForumChangeView):
    form_class = ThemeForm
    anchor = "themes"
    success_message = gettext_lazy("The theme is added.")

    def change(self, form, **kwargs):
        services.add_theme(self.forum, title=form.cleaned_data["title"], **kwargs)


class RenameThemeView(ThemeChangeView):
    form_class = ThemeForm
    success_message = gettext_lazy("The theme is renamed.")

    def change(self, form, **kwargs):
        services.rename_theme(self.theme, title=form.cleaned_data["title"], **kwargs)


class MoveThemeView(ThemeChangeView):
    form_class = MoveForm
    success_message = gettext_lazy("The theme is moved.")

    def change(self, form, **kwargs):
        services.move_theme(self.theme, step=form.step, **kwargs)


class RemoveThemeView(ThemeChangeView):
    success_message = gettext_lazy("The theme and its transcript are removed.")

    def change(self, form, **kwargs):
        services.remove_theme(self.theme, **kwargs)


class AppearanceChangeView(ForumChangeView):
    anchor = "speakers"

    def load(self, appearance_pk):
        self.appearance = get_object_or_404(
            self.forum.appearances.select_related("speaker"), pk=appearance_pk
        )


class AddAppearanceView(ForumChangeView):
    form_class = AddAppearanceForm
    anchor = "speakers"
    success_message = gettext_lazy("The speaker is added.")

    def change(self, form, **kwargs):
        # One transaction: a refused appearance leaves no new speaker behind.
        with transaction.atomic():
            if form.is_new_speaker:
                speaker = services.create_speaker(**form.new_speaker_fields())
            else:
                speaker = form.cleaned_data["speaker"]
            services.add_appearance(self.forum, **form.appearance_fields(speaker), **kwargs)


class UpdateAppearanceView(AppearanceChangeView):
    form_class = AppearanceForm
    success_message = gettext_lazy("The speaker's role is saved.")

    def get_form(self):
        return self.form_class(self.request.POST, instance=self.appearance)

    def change(self, form, **kwargs):
        data = {name: form.cleaned_data[name] for name in AppearanceForm.Meta.fields}
        services.update_appearance(self.appearance, **data, **kwargs)


class MoveAppearanceView(AppearanceChangeView):
    form_class = MoveForm
    success_message = gettext_lazy("The speaker is moved.")

    def change(self, form, **kwargs):
        services.move_appearance(self.appearance, step=form.step, **kwargs)


class RemoveAppearanceView(AppearanceChangeView):
    success_message = gettext_lazy("The speaker is removed from this forum.")

    def change(self, form, **kwargs):
        services.remove_appearance(self.appearance, **kwargs)


class TurnFormMixin:
    form_class = TurnForm
    anchor = "transcript"

    def get_form(self):
        speakers = Speaker.objects.filter(appearances__forum=self.forum).distinct()
        return self.form_class(self.request.POST, speakers=list(speakers))


class AddTurnView(TurnFormMixin, ThemeChangeView):
    success_message = gettext_lazy("The turn is added.")

    def change(self, form, **kwargs):
        data = form.cleaned_data
        services.add_turn(self.theme, speaker=data["speaker"], body=data["body"], **kwargs)


class TurnChangeView(ForumChangeView):
    anchor = "transcript"

    def load(self, turn_pk):
        self.turn = get_object_or_404(
            TranscriptTurn.objects.filter(theme__forum=self.forum).select_related("theme"),
            pk=turn_pk,
        )
        self.turn.theme.forum = self.forum


class UpdateTurnView(TurnFormMixin, TurnChangeView):
    success_message = gettext_lazy("The turn is saved.")

    def change(self, form, **kwargs):
        data = form.cleaned_data
        services.update_turn(self.turn, speaker=data["speaker"], body=data["body"], **kwargs)


class MoveTurnView(TurnChangeView):
    form_class = MoveForm
    success_message = gettext_lazy("The turn is moved.")

    def change(self, form, **kwargs):
        services.move_turn(self.turn, step=form.step, **kwargs)


class RemoveTurnView(TurnChangeView):
    success_message = gettext_lazy("The turn is removed.")

    def change(self, form, **kwargs):
        services.remove_turn(self.turn, **kwargs)


class HighlightsView(ForumChangeView):
    form_class = HighlightsForm
    anchor = "highlights"
    success_message = gettext_lazy("The highlights are saved.")

    def get_form(self):
        quotes = self.forum.quotes.filter(state=Quote.State.APPROVED).order_by(
            F("highlight_position").asc(nulls_last=True), "id"
        )
        return self.form_class(self.request.POST, quotes=quotes)

    def change(self, form, *, user, expected_version):
        # Curation is the admins': an organiser who is not one gets the form read-only.
        try:
            curation.set_highlights(
                self.forum,
                user=user,
                quotes=form.cleaned_data["quotes"],
                seen=form.cleaned_data["seen"],
            )
        except PermissionDenied as denied:
            raise ValidationError(str(denied)) from denied


# --- Publishing and sharing -----------------------------------------------------------------


class PublishingChangeView(ForumChangeView):
    """Publishing buttons are on the edit page and on the dashboard; go back to either."""

    anchor = "publishing"

    def get_success_url(self):
        next_url = self.request.POST.get("next", "")
        if url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={self.request.get_host()}, require_https=False
        ):
            return next_url
        return super().get_success_url()


class PublishView(PublishingChangeView):
    success_message = gettext_lazy("The recap is published.")

    def refused_message(self, error):
        return _("Not published. %(reasons)s") % {"reasons": " ".join(error.messages)}

    def change(self, form, **kwargs):
        services.publish_recap(self.forum, **kwargs)


class ScheduleView(PublishingChangeView):
    form_class = ScheduleForm
    success_message = gettext_lazy("The recap is scheduled.")

    def refused_message(self, error):
        return _("Not scheduled. %(reasons)s") % {"reasons": " ".join(error.messages)}

    def change(self, form, **kwargs):
        services.schedule_recap(self.forum, publish_at=form.cleaned_data["publish_at"], **kwargs)


class UnpublishView(PublishingChangeView):
    success_message = gettext_lazy("The recap is a draft again: it is no longer public.")

    def change(self, form, **kwargs):
        services.unpublish_recap(self.forum, **kwargs)


class ShareLinkView(ForumChangeView):
    """A new share link; it changes no content, so the version is not checked."""

    anchor = "share"

    def change(self, form, *, user, expected_version):
        link = services.create_share_link(self.forum, user=user)
        self.success_message = _("Share this link; it works until %(expires)s: %(url)s") % {
            "url": share_url(link),
            "expires": date_format(localtime(link.expires_at), "DATETIME_FORMAT"),
        }


# --- Preview, share, history ----------------------------------------------------------------


def preview_page(request, forum, *, is_organiser):
    context = recap_page_context(forum, show_status=False)
    context["is_organiser"] = is_organiser
    response = render(request, "forums/organise/forum_preview.html", context)
    response["X-Robots-Tag"] = "noindex"
    return response


class ForumPreviewView(OrganiserRequiredMixin, View):
    """The recap exactly as the public will read it, whatever its status."""

    def get(self, request, pk):
        forum = get_object_or_404(recap_page_queryset(editable_forums(request.user)), pk=pk)
        return preview_page(request, forum, is_organiser=True)


class RecapShareView(View):
    """The preview for anyone with an unexpired share link; anything else is a plain 404."""

    def get(self, request, token):
        link = RecapShareLink.objects.filter(token=token).select_related("recap").first()
        if link is None or not link.is_valid:
            raise Http404
        forum = get_object_or_404(recap_page_queryset(Forum.objects.all()), pk=link.recap.forum_id)
        return preview_page(request, forum, is_organiser=False)


def diff_lines(lines):
    """A unified diff's lines with the kind of each (added, removed, hunk, context)."""
    rows = []
    for line in lines:
        if line.startswith(("+++", "---")):
            kind = "file"
        elif line.startswith("+"):
            kind = "added"
        elif line.startswith("-"):
            kind = "removed"
        elif line.startswith("@@"):
            kind = "hunk"
        else:
            kind = "context"
        rows.append({"kind": kind, "text": line})
    return rows


class ForumHistoryView(OrganiserRequiredMixin, EvaluatedListMixin, ListView):
    """The recap's revisions, newest first, each with its changes from the one before."""

    template_name = "forums/organise/forum_history.html"
    paginate_by = HISTORY_PAGE_SIZE

    def get_queryset(self):
        self.forum = get_object_or_404(editable_forums(self.request.user), pk=self.kwargs["pk"])
        return self.forum.recap.revisions.select_related("author").order_by("-number")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        revisions = list(context["object_list"])
        # The oldest one on this page is compared with the one just before it.
        before = (
            self.forum.recap.revisions.filter(number__lt=revisions[-1].number)
            .order_by("-number")
            .first()
            if revisions
            else None
        )
        latest = context["page_obj"].number == 1
        entries = []
        for index, revision in enumerate(revisions):
            older = revisions[index + 1] if index + 1 < len(revisions) else before
            entries.append(
                {
                    "revision": revision,
                    "diff": diff_lines(services.diff_revisions(older, revision)),
                    "is_current": latest and index == 0,
                }
            )
        context.update(forum=self.forum, recap=self.forum.recap, entries=entries)
        return context


class RestoreRevisionView(ForumChangeView):
    anchor = "recap"
    success_message = gettext_lazy(
        "The revision is restored; the restore is itself a new revision."
    )

    def load(self, number):
        self.revision = get_object_or_404(self.forum.recap.revisions.all(), number=number)

    def change(self, form, **kwargs):
        services.restore_revision(self.revision, **kwargs)

    def get_success_url(self):
        return reverse("organise:forum-history", kwargs={"pk": self.forum.pk})
