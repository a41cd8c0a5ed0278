import datetime
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext


def validate_time_zone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("“%(value)s” is not a known time zone."), params={"value": value})


def add_months(day, months):
    """The same day of the month `months` later, clipped to the month's last day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in range(day.day, 27, -1):
        try:
            return datetime.date(year, month, candidate)
        except ValueError:
            continue
    return datetime.date(year, month, min(day.day, 28))


class Cohort(models.Model):
    """One edition of the programme: a class of members over several months."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=120, unique=True, allow_unicode=True)
    starts_on = models.DateField(_("starts on"))
    length_months = models.PositiveSmallIntegerField(
        _("length in months"), default=settings.WECITY_COHORT_MONTHS
    )
    capacity = models.PositiveSmallIntegerField(
        _("capacity"), default=settings.WECITY_COHORT_CAPACITY
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_time_zone]
    )
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("cohort")
        verbose_name_plural = _("cohorts")
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=1), name="cohorts_capacity_gte_1"),
            models.CheckConstraint(condition=Q(length_months__gte=1), name="cohorts_length_gte_1"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("cohorts:cohort-detail", kwargs={"slug": self.slug})

    @property
    def ends_on(self):
        """The last day of the programme."""
        return add_months(self.starts_on, self.length_months) - datetime.timedelta(days=1)

    @property
    def zone(self):
        return zoneinfo.ZoneInfo(self.time_zone)


class Member(models.Model):
    """A person in a cohort, working in one topic's group."""

    cohort = models.ForeignKey(
        Cohort, on_delete=models.CASCADE, related_name="members", verbose_name=_("cohort")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("account"),
        help_text=_(
            "Empty when the member has no account: not yet signed up, or removed "
            "(their work stays)."
        ),
    )
    topic = models.ForeignKey(
        "topics.Topic", on_delete=models.PROTECT, related_name="members", verbose_name=_("topic")
    )
    speaker = models.OneToOneField(
        "forums.Speaker",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="member",
        verbose_name=_("speaker record"),
        help_text=_("For a member who also speaks at forums, such as a cohort representative."),
    )
    name = models.CharField(_("name"), max_length=100)
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    title = models.CharField(_("title"), max_length=200, blank=True)
    bio = models.TextField(_("short bio"), blank=True)
    photo = models.ImageField(_("photo"), upload_to="members/", blank=True)
    is_public = models.BooleanField(
        _("listed in the public directory"),
        default=False,
        help_text=_("Nothing of a member is public until they choose it."),
    )
    is_demo = models.BooleanField(_("demo member"), default=False)
    joined_at = models.DateTimeField(_("joined at"), auto_now_add=True)

    class MemberQuerySet(models.QuerySet):
        def public(self):
            return self.filter(is_public=True)

    objects = MemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["cohort", "topic__position", "name", "id"]
        constraints = [
            # One membership, hence one topic, per person and cohort.
            models.UniqueConstraint(
                fields=["cohort", "user"], name="cohorts_member_one_per_cohort"
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if self._state.adding and self.cohort_id:
            taken = Member.objects.filter(cohort_id=self.cohort_id).count()
            if taken >= self.cohort.capacity:
                raise ValidationError(
                    _("This cohort is full: all %(capacity)s places are taken."),
                    code="cohort_full",
                    params={"capacity": self.cohort.capacity},
                )

    def validate_constraints(self, exclude=None):
        try:
            super().validate_constraints(exclude=exclude)
        except ValidationError as error:
            codes = {e.code for e in getattr(error, "error_dict", {}).get("__all__", [])}
            if "unique_together" in codes:
                # cohorts_member_one_per_cohort, said in the programme's words.
                raise ValidationError(
                    _("This person is already a member of this cohort, in one topic."),
                    code="already_member",
                ) from error
            raise


class Invitation(models.Model):
    """An organiser's invitation to join a cohort in a topic."""

    cohort = models.ForeignKey(
        Cohort, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("cohort")
    )
    topic = models.ForeignKey(
        "topics.Topic", on_delete=models.PROTECT, related_name="+", verbose_name=_("topic")
    )
    email = models.EmailField(_("email address"))
    name = models.CharField(_("name"), max_length=100)
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    token = models.CharField(_("token"), max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("invited by"),
    )
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(accepted_at__isnull=True) | Q(revoked_at__isnull=True),
                name="cohorts_invitation_not_accepted_and_revoked",
            ),
        ]

    def __str__(self):
        return f"{self.email} → {self.cohort}"


class Milestone(models.Model):
    """A dated item of a cohort's schedule."""

    class Kind(models.TextChoices):
        KICK_OFF = "kick_off", _("Kick-off")
        WORKSHOP = "workshop", _("Workshop")
        FORUM = "forum", _("Forum")
        DEADLINE = "deadline", _("Deliverable deadline")
        DEMO_DAY = "demo_day", _("Demo day")

    cohort = models.ForeignKey(
        Cohort, on_delete=models.CASCADE, related_name="milestones", verbose_name=_("cohort")
    )
    topic = models.ForeignKey(
        "topics.Topic",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="milestones",
        verbose_name=_("topic"),
        help_text=_("Empty for the whole cohort."),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    starts_at = models.DateTimeField(_("starts or is due at"))
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    location = models.CharField(_("place"), max_length=200, blank=True)
    online_url = models.URLField(_("online link"), blank=True)
    forum = models.ForeignKey(
        "forums.Forum",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="milestones",
        verbose_name=_("forum"),
    )

    class MilestoneQuerySet(models.QuerySet):
        def due_between(self, start, end):
            return self.filter(starts_at__gte=start, starts_at__lt=end)

    objects = MilestoneQuerySet.as_manager()

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["cohort", "starts_at"], name="cohorts_ms_cohort_start")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gte=models.F("starts_at")),
                name="cohorts_milestone_ends_after_start",
            ),
        ]

    def __str__(self):
        return self.title


class ReminderOptOut(models.Model):
    """A kind of milestone a member wants no reminders about."""

    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="reminder_opt_outs", verbose_name=_("member")
    )
    kind = models.CharField(_("milestone kind"), max_length=20, choices=Milestone.Kind.choices)

    class Meta:
        verbose_name = _("reminder opt-out")
        verbose_name_plural = _("reminder opt-outs")
        constraints = [
            models.UniqueConstraint(fields=["member", "kind"], name="cohorts_optout_unique"),
        ]

    def __str__(self):
        return f"{self.member}: {self.get_kind_display()}"


class Reminder(models.Model):
    """One message to one member about one milestone at one offset; sent at most once."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        CLAIMED = "claimed", _("Sending")
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("Skipped")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    milestone = models.ForeignKey(
        Milestone, on_delete=models.CASCADE, related_name="reminders", verbose_name=_("milestone")
    )
    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="reminders", verbose_name=_("member")
    )
    offset = models.DurationField(
        _("offset"), help_text=_("From the milestone's time: negative before, positive after.")
    )
    due_at = models.DateTimeField(_("due at"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True, help_text=_("Why it was skipped or failed."))

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["status", "due_at"], name="cohorts_reminder_sweep")]
        constraints = [
            models.UniqueConstraint(
                fields=["milestone", "member", "offset"], name="cohorts_reminder_once"
            ),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False),
                name="cohorts_reminder_sent_has_time",
            ),
        ]

    def __str__(self):
        return f"{self.milestone} → {self.member} ({self.offset_label})"

    @property
    def offset_label(self):
        """The offset in words: "7 days before", "1 day after"."""
        seconds = int(self.offset.total_seconds())
        hours = abs(seconds) // 3600
        if hours % 24 == 0:
            amount = ngettext("%(count)d day", "%(count)d days", hours // 24) % {
                "count": hours // 24
            }
        else:
            amount = ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
        if seconds < 0:
            return _("%(amount)s before") % {"amount": amount}
        if seconds > 0:
            return _("%(amount)s after") % {"amount": amount}
        return _("at the time")
