"""Forms of the topics app: they validate and normalise input and save nothing."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from topics.filechecks import accepted_extensions, check_upload
from topics.models import Review, Submission


class HandInForm(forms.Form):
    """A new version: a file, a link or a text, with a comment."""

    kind = forms.ChoiceField(
        label=_("What you hand in"),
        choices=Submission.Kind.choices,
        initial=Submission.Kind.FILE,
        widget=forms.RadioSelect,
    )
    file = forms.FileField(label=_("File"), required=False)
    link = forms.URLField(label=_("Link"), required=False, max_length=500, assume_scheme="https")
    text = forms.CharField(
        label=_("Text"), required=False, widget=forms.Textarea(attrs={"rows": 6})
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What changed since the last version, or what the reviewers should know."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.checked = None
        self.fields["file"].help_text = _(
            "%(extensions)s; at most %(limit)s MB. The content is checked, not only the name."
        ) % {
            "extensions": accepted_extensions(),
            "limit": round(settings.SUBMISSION_MAX_BYTES / 1024 / 1024, 1),
        }
        self.fields["file"].widget.attrs["accept"] = accepted_extensions().replace(" ", "")

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind == Submission.Kind.FILE:
            upload = data.get("file")
            if not upload and "file" not in self.errors:
                self.add_error("file", _("Choose the file to hand in."))
            elif upload:
                try:
                    self.checked = check_upload(upload, max_bytes=settings.SUBMISSION_MAX_BYTES)
                except forms.ValidationError as error:
                    self.add_error("file", error)
        elif kind == Submission.Kind.LINK and not data.get("link") and "link" not in self.errors:
            self.add_error("link", _("Give the link to hand in."))
        elif kind == Submission.Kind.TEXT and not data.get("text", "").strip():
            self.add_error("text", _("Write the text to hand in."))
        return data


class ReviewForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Verdict"), choices=Review.Status.choices, widget=forms.RadioSelect
    )
    feedback = forms.CharField(
        label=_("Feedback"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
