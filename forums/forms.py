"""Forms of the organisers' pages: they validate and normalise input and save nothing.

Every form that changes a forum carries the recap `version` its page was built from; the
services refuse a stale one (`services.StaleEdit`).
"""

import datetime
import math

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from forums.importers import MAX_ARTICLE_BYTES, read_article
from forums.models import Appearance, Forum, Quote, Speaker, TranscriptTurn
from forums.services import FORUM_FIELDS, RECAP_FIELDS
from topics.models import Topic

MAX_COVER_BYTES = 5 * 1024 * 1024
COVER_FORMATS = {"JPEG", "PNG", "WEBP"}


class DateTimeLocalInput(forms.DateTimeInput):
    """The browser's date and time picker; the value is read in the active time zone."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class DateTimeLocalField(forms.DateTimeField):
    """A time typed in the programme's zone, handed on in UTC as the database keeps it.

    Revisions store the forum's times as text: the same instant must always read the same.
    """

    widget = DateTimeLocalInput

    def to_python(self, value):
        result = super().to_python(value)
        return result.astimezone(datetime.UTC) if result else result


def version_field():
    return forms.IntegerField(widget=forms.HiddenInput, min_value=1)


def normalise_newlines(text):
    # Browsers send CRLF from textareas; paragraphs are split on a blank line ("\n\n").
    return text.replace("\r\n", "\n").replace("\r", "\n")


def add_service_errors(form, error):
    """Show a service's ValidationError next to the form's fields, the rest above them."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def form_errors_text(form):
    """All of a form's errors in one sentence list, for a message after a redirect."""
    parts = []
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else None
        text = " ".join(errors)
        parts.append(f"{label}: {text}" if label else text)
    return " ".join(parts)


class VersionForm(forms.Form):
    """A change with no input of its own: publish, unpublish, remove, restore."""

    version = version_field()


class MoveForm(VersionForm):
    direction = forms.ChoiceField(choices=[("up", _("Move up")), ("down", _("Move down"))])

    @property
    def step(self):
        return -1 if self.cleaned_data["direction"] == "up" else 1


# Explicit labels: the models' verbose names ("title", "name") are shared with speakers.
FORUM_LABELS = {
    "title": _("Forum title"),
    "starts_at": _("Starts at"),
    "ends_at": _("Ends at"),
    "format": _("Format"),
    "location": _("Place"),
    "lede": _("Lede"),
    "cover_image": _("Cover image"),
}


def check_times(form):
    """The end needs a start before it (the database refuses anything else)."""
    starts_at, ends_at = form.cleaned_data.get("starts_at"), form.cleaned_data.get("ends_at")
    if ends_at and not starts_at and "starts_at" not in form.errors:
        form.add_error("starts_at", _("Give the start time too, or leave the end empty."))
    elif ends_at and starts_at and ends_at < starts_at:
        form.add_error("ends_at", _("The forum cannot end before it starts."))


class ForumCreateForm(forms.ModelForm):
    class Meta:
        model = Forum
        fields = ["title", "starts_at", "ends_at", "format", "location", "lede"]
        labels = FORUM_LABELS
        field_classes = {"starts_at": DateTimeLocalField, "ends_at": DateTimeLocalField}
        widgets = {"lede": forms.Textarea(attrs={"rows": 4})}

    def clean_lede(self):
        return normalise_newlines(self.cleaned_data["lede"])

    def clean(self):
        cleaned = super().clean()
        check_times(self)
        return cleaned


class TopicChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.display_name


class ForumForm(forms.ModelForm):
    """The forum's own fields with its recap's headline and body, as one page edits them."""

    headline = forms.CharField(label=_("Headline"), max_length=200)
    body = forms.CharField(
        label=_("Body (Markdown)"),
        required=False,
        # Live preview: htmx posts the text (with the form's CSRF token) as the organiser types.
        widget=forms.Textarea(
            attrs={
                "rows": 14,
                "hx-post": reverse_lazy("organise:markdown-preview"),
                "hx-trigger": "keyup changed delay:400ms",
                "hx-target": "#body-preview",
                "hx-params": "body,csrfmiddlewaretoken",
                "hx-indicator": "#body-preview-label",
                "hx-sync": "this:replace",
            }
        ),
        help_text=_(
            "Markdown: ## for a heading, **bold**, - for a list, a blank line between paragraphs."
        ),
    )
    released_topics = TopicChoiceField(
        label=_("Topics released"),
        queryset=Topic.objects.order_by("position", "id"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    version = version_field()

    field_order = [
        "title",
        "headline",
        "starts_at",
        "ends_at",
        "format",
        "location",
        "lede",
        "body",
        "cover_image",
        "released_topics",
    ]

    class Meta:
        model = Forum
        fields = [
            "title",
            "starts_at",
            "ends_at",
            "format",
            "location",
            "lede",
            "cover_image",
            "released_topics",
        ]
        widgets = {
            "lede": forms.Textarea(attrs={"rows": 4}),
            "cover_image": forms.ClearableFileInput(
                attrs={"accept": "image/jpeg,image/png,image/webp"}
            ),
        }
        labels = FORUM_LABELS
        field_classes = {"starts_at": DateTimeLocalField, "ends_at": DateTimeLocalField}
        help_texts = {"cover_image": _("A JPEG, PNG or WebP image of at most 5 MB.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        recap = self.instance.recap
        self.initial.setdefault("headline", recap.headline)
        self.initial.setdefault("body", recap.body)
        self.initial.setdefault("version", recap.version)

    def clean_lede(self):
        return normalise_newlines(self.cleaned_data["lede"])

    def clean_body(self):
        return normalise_newlines(self.cleaned_data["body"])

    def clean(self):
        cleaned = super().clean()
        check_times(self)
        return cleaned

    def clean_cover_image(self):
        image = self.cleaned_data.get("cover_image")
        if isinstance(image, UploadedFile):
            if image.size > MAX_COVER_BYTES:
                raise ValidationError(
                    _("The image is larger than 5 MB: choose a smaller one."), code="too_large"
                )
            if image.image.format not in COVER_FORMATS:
                raise ValidationError(
                    _("Choose a JPEG, PNG or WebP image; this one is %(format)s."),
                    code="format",
                    params={"format": image.image.format},
                )
        return image

    def changes(self):
        """The cleaned input as keyword arguments of `services.update_forum`."""
        data = self.cleaned_data
        fields = {name: data[name] for name in (*FORUM_FIELDS, *RECAP_FIELDS)}
        fields["released_topics"] = list(data["released_topics"])
        if "cover_image" in self.changed_data:
            fields["cover_image"] = data["cover_image"] or ""  # False: "clear" was ticked
        return fields

    def conflicts(self, current):
        """The fields whose saved value (in `current`, a fresh forum) differs from the input.

        Returns (label, saved value) pairs in the form's order, for the page to show beside
        the organiser's own input after a stale save.
        """
        saved = {name: getattr(current, name) for name in FORUM_FIELDS}
        saved.update({name: getattr(current.recap, name) for name in RECAP_FIELDS})
        pairs = []
        for name in self.fields:
            if name in saved and self.cleaned_data[name] != saved[name]:
                value = saved[name]
                if name == "format":
                    value = current.get_format_display()
                pairs.append((self.fields[name].label, value))
            elif name == "released_topics":
                topics = list(current.released_topics.order_by("position", "id"))
                if {t.pk for t in topics} != {t.pk for t in self.cleaned_data[name]}:
                    pairs.append(
                        (self.fields[name].label, "、".join(t.display_name for t in topics))
                    )
        return pairs


class ThemeForm(forms.Form):
    title = forms.CharField(label=_("Theme"), max_length=200)
    version = version_field()


class AppearanceForm(forms.ModelForm):
    """A speaker's role at this forum, and the organisation and title they had then."""

    version = version_field()

    class Meta:
        model = Appearance
        fields = ["role", "organisation", "title", "is_cohort_representative"]


class AddAppearanceForm(AppearanceForm):
    """Add a speaker to the forum: one already known, or a new one created on the way."""

    speaker = forms.ModelChoiceField(
        label=_("Existing speaker"),
        queryset=Speaker.objects.order_by("name", "id"),
        required=False,
    )
    new_name = forms.CharField(label=_("Full name"), max_length=100, required=False)
    new_organisation = forms.CharField(label=_("Organisation"), max_length=200, required=False)
    new_title = forms.CharField(label=_("Job title"), max_length=200, required=False)

    class Meta(AppearanceForm.Meta):
        help_texts = {
            "organisation": _("Leave empty to use the speaker's current organisation."),
            "title": _("Leave empty to use the speaker's current title."),
        }

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("speaker") and not cleaned.get("new_name"):
            raise ValidationError(
                _("Choose an existing speaker or enter a new speaker's name."), code="no_speaker"
            )
        return cleaned

    @property
    def is_new_speaker(self):
        return bool(self.cleaned_data["new_name"])

    def new_speaker_fields(self):
        """Keyword arguments of `services.create_speaker`."""
        data = self.cleaned_data
        return {
            "name": data["new_name"],
            "organisation": data["new_organisation"],
            "title": data["new_title"],
        }

    def appearance_fields(self, speaker):
        """Keyword arguments of `services.add_appearance`; the speaker's own details by default."""
        data = self.cleaned_data
        return {
            "speaker": speaker,
            "role": data["role"],
            "organisation": data["organisation"] or speaker.organisation,
            "title": data["title"] or speaker.title,
            "is_cohort_representative": data["is_cohort_representative"],
        }


class TurnForm(forms.Form):
    """A transcript turn; the speaker is one of the forum's speakers, passed as a list.

    The list is evaluated once per page, so a page with many turns costs no query per turn.
    """

    speaker = forms.ChoiceField(label=_("Speaker"))
    body = forms.CharField(
        label=_("Text"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Paragraphs separated by a blank line."),
    )
    version = version_field()

    def __init__(self, *args, speakers, **kwargs):
        super().__init__(*args, **kwargs)
        self.speakers = {str(speaker.pk): speaker for speaker in speakers}
        self.fields["speaker"].choices = [("", "---------")] + [
            (pk, speaker.name) for pk, speaker in self.speakers.items()
        ]

    def clean_speaker(self):
        return self.speakers[self.cleaned_data["speaker"]]

    def clean_body(self):
        return normalise_newlines(self.cleaned_data["body"]).strip()


def quote_ids(text):
    """Quote ids written as "3,1,2" (the highlights' order a page showed)."""
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError as error:
        raise ValidationError(_("This form is damaged; reload the page."), code="ids") from error


class HighlightsForm(forms.Form):
    """Which approved quotes are the forum's highlights, and in what order (admins only)."""

    version = version_field()
    seen = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, quotes, **kwargs):
        super().__init__(*args, **kwargs)
        self.quotes = list(quotes)
        self.fields["seen"].initial = ",".join(
            str(q.pk)
            for q in sorted(self.quotes, key=lambda q: q.highlight_position or 0)
            if q.is_featured
        )
        for quote in self.quotes:
            self.fields[f"feature_{quote.pk}"] = forms.BooleanField(
                label=_("Highlight"), required=False, initial=quote.is_featured
            )
            self.fields[f"position_{quote.pk}"] = forms.IntegerField(
                label=_("Position"),
                required=False,
                min_value=1,
                initial=quote.highlight_position,
                widget=forms.NumberInput(attrs={"class": "input-position"}),
            )

    @property
    def rows(self):
        """(quote, its checkbox, its position) for each quote, for the template."""
        return [
            (quote, self[f"feature_{quote.pk}"], self[f"position_{quote.pk}"])
            for quote in self.quotes
        ]

    def clean(self):
        cleaned = super().clean()
        chosen = [
            (cleaned.get(f"position_{quote.pk}") or math.inf, index, quote)
            for index, quote in enumerate(self.quotes)
            if cleaned.get(f"feature_{quote.pk}")
        ]
        cleaned["quotes"] = [quote for _position, _index, quote in sorted(chosen)]
        cleaned["seen"] = quote_ids(cleaned.get("seen") or "")
        return cleaned


class ScheduleForm(VersionForm):
    publish_at = DateTimeLocalField(label=_("Publish at"))


class ArticleImportForm(forms.Form):
    article = forms.CharField(
        label=_("Article text"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 18, "spellcheck": "false"}),
        help_text=_("Paste the whole article, from its headline to the end of the transcript."),
    )
    upload = forms.FileField(
        label=_("…or upload it"),
        required=False,
        help_text=_("A .txt or .md file of at most 1 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".txt,.md,text/plain,text/markdown"}),
    )

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("upload")
        try:
            if upload:
                if upload.size > MAX_ARTICLE_BYTES:
                    raise ValidationError(
                        _("The file is larger than 1 MB; nothing was imported."), code="size"
                    )
                cleaned["text"] = read_article(upload.read(), filename=upload.name)
            else:
                cleaned["text"] = read_article(cleaned.get("article", "").encode("utf-8"))
        except ValidationError as error:
            self.add_error("upload" if upload else "article", error)
        return cleaned


# --- Curation: organisers propose quotes, admins curate them (`forums.curation`) ---------------


def quote_textarea():
    return forms.Textarea(attrs={"rows": 3})


class TurnChoiceField(forms.ModelChoiceField):
    """A transcript turn, named by its theme, speaker and first words."""

    def label_from_instance(self, obj):
        words = " ".join(obj.body.split())
        return f"{obj.theme.title} · {obj.speaker.name}：{words[:30]}"


class SpeakerChoiceField(forms.ModelChoiceField):
    """A speaker named with their organisation, title and id: namesakes stay apart."""

    def label_from_instance(self, obj):
        details = " ".join(part for part in (obj.organisation, obj.title) if part)
        return f"{obj.name} · {details} (#{obj.pk})" if details else f"{obj.name} (#{obj.pk})"


def forum_speakers(forum):
    return Speaker.objects.filter(appearances__forum=forum).distinct().order_by("name", "id")


class QuoteForumForm(forms.Form):
    """The forum a new quote is from: the first step of proposing one."""

    forum = forms.ModelChoiceField(label=_("Forum"), queryset=Forum.objects.none())

    def __init__(self, *args, forums, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["forum"].queryset = forums


class ProposeQuoteForm(forms.Form):
    """A quote of one of the forum's speakers, optionally tied to the turn it comes from."""

    speaker = forms.ModelChoiceField(label=_("Speaker"), queryset=Speaker.objects.none())
    turn = TurnChoiceField(
        label=_("From the transcript"),
        queryset=TranscriptTurn.objects.none(),
        required=False,
        help_text=_("Optional: the turn the words come from, so that admins see them in context."),
    )
    text = forms.CharField(label=_("Quote"), widget=quote_textarea())

    def __init__(self, *args, forum, **kwargs):
        super().__init__(*args, **kwargs)
        self.forum = forum
        self.fields["speaker"].queryset = forum_speakers(forum)
        self.fields["turn"].queryset = (
            TranscriptTurn.objects.filter(theme__forum=forum)
            .select_related("theme", "speaker")
            .order_by("theme__position", "position")
        )

    def clean_text(self):
        return normalise_newlines(self.cleaned_data["text"]).strip()

    def clean(self):
        cleaned = super().clean()
        speaker, turn = cleaned.get("speaker"), cleaned.get("turn")
        if speaker and turn and turn.speaker_id != speaker.pk:
            self.add_error(
                "turn",
                ValidationError(
                    _("This turn is by %(name)s: choose their turn or another speaker."),
                    code="turn_speaker",
                    params={"name": turn.speaker.name},
                ),
            )
        return cleaned


class EditQuoteForm(forms.Form):
    """A proposal's words and speaker, changed before an admin approves it."""

    speaker = forms.ModelChoiceField(label=_("Speaker"), queryset=Speaker.objects.none())
    text = forms.CharField(label=_("Quote"), widget=quote_textarea())

    def __init__(self, *args, quote, **kwargs):
        kwargs.setdefault("initial", {"speaker": quote.speaker_id, "text": quote.text})
        super().__init__(*args, **kwargs)
        self.fields["speaker"].queryset = forum_speakers(quote.forum)

    def clean_text(self):
        return normalise_newlines(self.cleaned_data["text"]).strip()


class ApproveQuoteForm(forms.Form):
    """Approve; with `text` the words are changed first (the audit trail records both)."""

    text = forms.CharField(
        label=_("Text to approve"), widget=quote_textarea(), required=False, strip=False
    )

    @property
    def text_or_none(self):
        """The edited words, or None when the form had no text box (a plain approve)."""
        if "text" not in self.data:
            return None
        return normalise_newlines(self.cleaned_data["text"]).strip()


class RejectQuoteForm(forms.Form):
    # Not required here: the service says why a reason is needed, next to the field.
    reason = forms.CharField(
        label=_("Reason for rejecting"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )


class BulkCurationForm(forms.Form):
    """The ticked quotes of the queue, approved or rejected together (one reason for all)."""

    ACTIONS = [("approve", _("Approve")), ("reject", _("Reject"))]

    quotes = forms.ModelMultipleChoiceField(
        label=_("Quotes"),
        queryset=Quote.objects.all(),
        error_messages={"required": _("Tick the quotes first.")},
    )
    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS)
    reason = forms.CharField(
        label=_("Reason for rejecting the ticked quotes"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, auto_id="bulk-%s", **kwargs)


class MoveHighlightForm(forms.Form):
    """Up or down one place; `seen` is the order the page showed."""

    direction = forms.ChoiceField(choices=[("up", _("Move up")), ("down", _("Move down"))])
    seen = forms.CharField(widget=forms.HiddenInput, required=False)

    @property
    def step(self):
        return -1 if self.cleaned_data["direction"] == "up" else 1

    def clean_seen(self):
        return quote_ids(self.cleaned_data["seen"])


class ReorderHighlightsForm(forms.Form):
    """A whole new order (quote ids), as the drag and drop list submits it."""

    order = forms.CharField(widget=forms.HiddenInput)
    seen = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean_order(self):
        return quote_ids(self.cleaned_data["order"])

    def clean_seen(self):
        return quote_ids(self.cleaned_data["seen"])


class SpeakerMergeForm(forms.Form):
    """Two records of one person: the one to keep and the duplicate merged into it."""

    keep = SpeakerChoiceField(
        label=_("Keep this record"), queryset=Speaker.objects.order_by("name", "id")
    )
    duplicate = SpeakerChoiceField(
        label=_("Merge this duplicate into it"),
        queryset=Speaker.objects.order_by("name", "id"),
        help_text=_("Its forums, transcript turns and quotes move; then it is deleted."),
    )

    def clean(self):
        cleaned = super().clean()
        keep, duplicate = cleaned.get("keep"), cleaned.get("duplicate")
        if keep and duplicate and keep.pk == duplicate.pk:
            self.add_error("duplicate", _("Choose two different speakers to merge."))
        return cleaned
