"""Forms of the cohorts app: they validate and normalise input and save nothing."""

import zoneinfo

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from cohorts.models import Cohort, Member, Milestone, Reminder
from topics.models import Topic

MAX_CSV_BYTES = 1024 * 1024
PHOTO_FORMATS = {"JPEG", "PNG", "WEBP"}
PHOTO_EXTENSIONS = {"jpg", "jpeg", "png", "webp"}


def topic_choices():
    return Topic.objects.order_by("position", "id")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    """The browser's date and time picker; the view sets the zone it is read in."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


def time_zone_choices():
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class CohortForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        label=_("time zone"),
        choices=time_zone_choices,
        initial="Asia/Shanghai",
    )

    class Meta:
        model = Cohort
        fields = ["name", "starts_on", "length_months", "capacity", "time_zone", "description"]
        widgets = {"starts_on": DateInput, "description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Said next to the fields rather than by the database constraints.
        for name in ("length_months", "capacity"):
            self.fields[name].min_value = 1
            self.fields[name].validators.append(MinValueValidator(1))
            self.fields[name].widget.attrs["min"] = 1


class InvitationForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=100)
    email = forms.EmailField(label=_("email address"))
    organisation = forms.CharField(label=_("organisation"), max_length=200, required=False)
    topic = forms.ModelChoiceField(label=_("topic"), queryset=Topic.objects.none())
    language = forms.ChoiceField(
        label=_("language of the email"), choices=settings.LANGUAGES, initial="zh-hans"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["topic"].queryset = topic_choices()


class InvitationImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "A header row naming the columns name, email, organisation, topic, then one "
            "person a row. Topics by their Chinese or English name."
        ),
    )
    language = forms.ChoiceField(
        label=_("language of the emails"), choices=settings.LANGUAGES, initial="zh-hans"
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_CSV_BYTES:
            raise ValidationError(
                _("The file is %(size)s; a CSV import may be at most %(limit)s."),
                params={
                    "size": filesizeformat(upload.size),
                    "limit": filesizeformat(MAX_CSV_BYTES),
                },
            )
        return upload.read()


class MoveMemberForm(forms.Form):
    topic = forms.ModelChoiceField(label=_("new topic"), queryset=Topic.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["topic"].queryset = topic_choices()


class ReviewerForm(forms.Form):
    email = forms.EmailField(label=_("reviewer's email address"))
    topic = forms.ModelChoiceField(
        label=_("topic"),
        queryset=Topic.objects.none(),
        required=False,
        empty_label=_("Every topic of the cohort"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["topic"].queryset = topic_choices()


class AcceptInvitationForm(forms.Form):
    """A new account's name and password; the email address is the invitation's."""

    name = forms.CharField(label=_("your name"), max_length=100)
    password1 = forms.CharField(
        label=_("password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label=_("password (again)"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        return data


class PrivatePhoto:
    """The current photo as ClearableFileInput shows it, linked to the view that serves it."""

    def __init__(self, name, url):
        self.name, self.url = name, url

    def __str__(self):
        return self.name


class PhotoInput(forms.ClearableFileInput):
    def __init__(self, *args, photo_url="", **kwargs):
        super().__init__(*args, **kwargs)
        self.photo_url = photo_url

    def is_initial(self, value):
        # A stored file has a name; a private one has no URL to ask for.
        return bool(value and getattr(value, "name", "") and not hasattr(value, "content_type"))

    def format_value(self, value):
        if self.is_initial(value):
            return PrivatePhoto(value.name.rsplit("/", 1)[-1], self.photo_url)
        return None


class ProfileForm(forms.ModelForm):
    class Meta:
        model = Member
        fields = [
            "name",
            "organisation",
            "title",
            "bio",
            "photo",
            "is_public",
            "is_organisation_public",
            "is_title_public",
            "is_bio_public",
            "is_photo_public",
        ]
        labels = {
            "is_public": _("List my name in the public cohort directory"),
            "is_organisation_public": _("Show my organisation there"),
            "is_title_public": _("Show my title there"),
            "is_bio_public": _("Show my bio there"),
            "is_photo_public": _("Show my photo there"),
        }
        widgets = {"bio": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, photo_url="", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["photo"].widget = PhotoInput(photo_url=photo_url)
        self.fields["photo"].widget.attrs["accept"] = "image/jpeg,image/png,image/webp"

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if photo and photo != self.instance.photo:
            if photo.size > settings.MEMBER_PHOTO_MAX_BYTES:
                raise ValidationError(
                    _("The photo is %(size)s; it may be at most %(limit)s."),
                    params={
                        "size": filesizeformat(photo.size),
                        "limit": filesizeformat(settings.MEMBER_PHOTO_MAX_BYTES),
                    },
                )
            image = getattr(photo, "image", None)
            extension = photo.name.rsplit(".", 1)[-1].lower()
            # The name too: it gives the type the photo is served with (cohorts/files.py).
            if (
                image is None
                or image.format not in PHOTO_FORMATS
                or extension not in PHOTO_EXTENSIONS
            ):
                raise ValidationError(_("The photo must be a JPEG, PNG or WebP image."))
        return photo

    @property
    def photo_changed(self):
        return "photo" in self.changed_data


class DeletionRequestForm(forms.Form):
    reason = forms.CharField(
        label=_("Anything the organisers should know (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    confirm = forms.BooleanField(
        label=_(
            "I understand that my account and my profile will be deleted, and that what I "
            "handed in stays with my group, attributed to a removed member."
        )
    )


class DecisionForm(forms.Form):
    note = forms.CharField(
        label=_("Note to the member"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class NotificationsReadForm(forms.Form):
    notification = forms.IntegerField(required=False, widget=forms.HiddenInput)


# --- Schedule and reminders ---------------------------------------------------------------


class TopicChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.display_name


def model_label(name):
    return Milestone._meta.get_field(name).verbose_name


class MilestoneForm(forms.Form):
    """A milestone's fields, its times read in the cohort's time zone (the view activates it).

    Any topic is accepted here though only the cohort's are offered: the schedule service
    checks the milestone against its cohort and says what is wrong next to the field.
    """

    kind = forms.ChoiceField(label=model_label("kind"), choices=Milestone.Kind.choices)
    title = forms.CharField(label=model_label("title"), max_length=200)
    topic = TopicChoiceField(
        label=model_label("topic"),
        queryset=Topic.objects.none(),
        required=False,
        empty_label=_("The whole cohort"),
    )
    starts_at = forms.DateTimeField(
        label=model_label("starts_at"),
        widget=DateTimeInput,
        help_text=_("For a deadline, the time work is due. In the cohort's time zone."),
    )
    ends_at = forms.DateTimeField(
        label=model_label("ends_at"),
        widget=DateTimeInput,
        required=False,
        help_text=_("Optional. In the cohort's time zone."),
    )
    location = forms.CharField(label=model_label("location"), max_length=200, required=False)
    online_url = forms.URLField(
        label=model_label("online_url"), required=False, assume_scheme="https"
    )
    description = forms.CharField(
        label=model_label("description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, cohort_topics=(), instance=None, **kwargs):
        if instance is not None:
            kwargs.setdefault(
                "initial", {name: getattr(instance, name) for name in self.base_fields}
            )
        super().__init__(*args, **kwargs)
        self.fields["topic"].queryset = Topic.objects.order_by("position", "id")
        self.fields["topic"].widget.choices = [
            ("", self.fields["topic"].empty_label),
            *((topic.pk, topic.display_name) for topic in cohort_topics),
        ]


class ReminderPreferencesForm(forms.Form):
    kinds = forms.MultipleChoiceField(
        label=_("Remind me of"),
        choices=Milestone.Kind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    time_zone = forms.ChoiceField(
        label=_("my time zone"),
        required=False,
        help_text=_("Reminders give times in this zone. Empty: the cohort's time zone."),
    )

    def __init__(self, *args, cohort_zone="", **kwargs):
        super().__init__(*args, **kwargs)
        cohort_default = _("The cohort's time zone (%(zone)s)") % {"zone": cohort_zone}
        self.fields["time_zone"].choices = [("", cohort_default), *time_zone_choices()]


class ReminderLogFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("status"),
        required=False,
        choices=[("", _("Any status")), *Reminder.Status.choices],
    )
    kind = forms.ChoiceField(
        label=_("milestone kind"),
        required=False,
        choices=[("", _("Any kind")), *Milestone.Kind.choices],
    )
    milestone = forms.TypedChoiceField(
        label=_("milestone"), required=False, coerce=int, empty_value=None
    )
    q = forms.CharField(label=_("member"), required=False, max_length=100)

    def __init__(self, *args, milestones=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["milestone"].choices = [("", _("Any milestone"))] + [
            (milestone.pk, milestone.title) for milestone in milestones
        ]
