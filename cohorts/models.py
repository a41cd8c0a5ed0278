import datetime
import secrets
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from cohorts.storage import private_storage
from wecity.urls_cache import object_url


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
        return object_url("cohorts:cohort-detail", slug=self.slug)

    @property
    def ends_on(self):
        """The last day of the programme."""
        return add_months(self.starts_on, self.length_months) - datetime.timedelta(days=1)

    @property
    def zone(self):
        return zoneinfo.ZoneInfo(self.time_zone)


def member_photo_path(member, filename):
    # A random folder: a photo's name must not be guessable from the member's id.
    return f"members/{secrets.token_urlsafe(12)}/{filename}"


def is_staff_side(user):
    """Organisers (and admins, who hold every role) see every cohort's members and work."""
    return user.is_authenticated and user.is_organiser


class Member(models.Model):
    """A person in a cohort, working in one topic's group.

    Nothing of a member is public until they choose it: `is_public` lists their name in the
    cohort directory, and each `is_*_public` adds one more field of their profile.
    """

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
    title = models.CharField(_("job title"), max_length=200, blank=True)
    bio = models.TextField(_("short bio"), blank=True)
    photo = models.ImageField(
        _("photo"), upload_to=member_photo_path, storage=private_storage, blank=True
    )
    is_public = models.BooleanField(
        _("listed in the public directory"),
        default=False,
        help_text=_("Nothing of a member is public until they choose it."),
    )
    is_organisation_public = models.BooleanField(_("organisation is public"), default=False)
    is_title_public = models.BooleanField(_("title is public"), default=False)
    is_bio_public = models.BooleanField(_("bio is public"), default=False)
    is_photo_public = models.BooleanField(_("photo is public"), default=False)
    is_demo = models.BooleanField(_("demo member"), default=False)
    time_zone = models.CharField(
        _("my time zone"),
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text=_("Reminders give times in this zone. Empty: the cohort's time zone."),
    )
    # The secret in the address of the member's private calendar feed; a new one replaces it.
    calendar_token = models.CharField(
        _("calendar token"), max_length=64, unique=True, null=True, blank=True, editable=False
    )
    joined_at = models.DateTimeField(_("joined at"), auto_now_add=True)
    removed_at = models.DateTimeField(
        _("removed at"),
        null=True,
        blank=True,
        help_text=_("Set when the person's account was deleted; their work stays, unnamed."),
    )

    class MemberQuerySet(models.QuerySet):
        def public(self):
            return self.filter(is_public=True, removed_at__isnull=True)

        def active(self):
            return self.filter(removed_at__isnull=True)

        def visible_to(self, user):
            """Members the user may see: the public ones, their own groups', or all for staff."""
            if is_staff_side(user):
                return self.all()
            if not user.is_authenticated:
                return self.public()
            same_group = Member.objects.filter(
                user=user, cohort=OuterRef("cohort"), topic=OuterRef("topic")
            )
            return self.filter(Q(is_public=True, removed_at__isnull=True) | Exists(same_group))

    objects = MemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["cohort", "topic__position", "name", "id"]
        indexes = [
            # The public directory: a cohort's page, a topic's page, the API for visitors.
            models.Index(
                fields=["cohort", "topic", "name"],
                condition=Q(is_public=True, removed_at__isnull=True),
                name="cohorts_member_public",
            ),
            # The API's `?ordering=name`.
            models.Index(fields=["name"], name="cohorts_member_name"),
        ]
        constraints = [
            # One membership, hence one topic, per person and cohort.
            models.UniqueConstraint(
                fields=["cohort", "user"], name="cohorts_member_one_per_cohort"
            ),
        ]

    def __str__(self):
        return str(self.display_name)

    @property
    def display_name(self):
        return _("a removed member") if self.removed_at else self.name

    @property
    def public_photo(self):
        return self.photo if self.is_public and self.is_photo_public else None

    @property
    def zone(self):
        """The member's own time zone, or their cohort's."""
        return zoneinfo.ZoneInfo(self.time_zone) if self.time_zone else self.cohort.zone

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

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for an answer")
        ACCEPTED = "accepted", _("Accepted")
        REVOKED = "revoked", _("Revoked")
        EXPIRED = "expired", _("Expired")

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
    language = models.CharField(
        _("language of the email"),
        max_length=10,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
    )
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    last_sent_at = models.DateTimeField(_("last sent at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class InvitationQuerySet(models.QuerySet):
        def pending(self):
            return self.filter(
                accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
            )

    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]
        indexes = [
            # `email__iexact` compiles to UPPER(email) = UPPER(…): a member's data export.
            models.Index(Upper("email"), name="cohorts_invitation_email"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(accepted_at__isnull=True) | Q(revoked_at__isnull=True),
                name="cohorts_invitation_not_accepted_and_revoked",
            ),
        ]

    def __str__(self):
        return f"{self.email} → {self.cohort}"

    def get_absolute_url(self):
        return reverse("programme:invitation", kwargs={"token": self.token})

    @property
    def status(self):
        if self.accepted_at:
            return self.Status.ACCEPTED
        if self.revoked_at:
            return self.Status.REVOKED
        if self.expires_at <= timezone.now():
            return self.Status.EXPIRED
        return self.Status.PENDING

    def get_status_display(self):
        return self.Status(self.status).label


class Milestone(models.Model):
    """A dated item of a cohort's schedule.

    `sequence` is the schedule revision: it goes up each time the milestone's time changes.
    Calendar apps read it as the event's SEQUENCE and update the event; reminders carry it
    in their key, so a reminder sent for the old time does not stand in for the new one.
    """

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
    sequence = models.PositiveIntegerField(
        _("schedule revision"),
        default=0,
        help_text=_("Goes up by one each time the milestone's time changes."),
    )
    updated_at = models.DateTimeField(_("last changed at"), auto_now=True)

    class MilestoneQuerySet(models.QuerySet):
        def due_between(self, start, end):
            return self.filter(starts_at__gte=start, starts_at__lt=end)

        def for_member(self, member):
            """The cohort-wide milestones of the member's cohort and their own topic's."""
            return self.filter(cohort_id=member.cohort_id).filter(
                Q(topic__isnull=True) | Q(topic_id=member.topic_id)
            )

    objects = MilestoneQuerySet.as_manager()

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(fields=["cohort", "starts_at"], name="cohorts_ms_cohort_start"),
            # The reminder sweep looks milestones up by time across every cohort.
            models.Index(fields=["starts_at"], name="cohorts_ms_start"),
            # The API's `?kind=`, soonest first, and its `?ordering=title`.
            models.Index(fields=["kind", "starts_at"], name="cohorts_ms_kind_start"),
            models.Index(fields=["title"], name="cohorts_ms_title"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gte=models.F("starts_at")),
                name="cohorts_milestone_ends_after_start",
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("schedule:member-schedule", kwargs={"cohort": self.cohort.slug}) + (
            f"#milestone-{self.pk}"
        )

    @property
    def is_deadline(self):
        return self.kind == self.Kind.DEADLINE


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
    """One message to one member about one milestone at one offset, for one schedule revision.

    The sweep (`cohorts.reminders`) creates the rows that are due, claims them, and a worker
    sends each claimed row once: pending → queued → sending → sent, or skipped, failed or
    cancelled with the reason. Rows outlive their milestone, so the log keeps what was sent.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        CLAIMED = "claimed", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("Skipped")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    milestone = models.ForeignKey(
        Milestone,
        on_delete=models.SET_NULL,
        null=True,
        related_name="reminders",
        verbose_name=_("milestone"),
    )
    milestone_title = models.CharField(
        _("milestone title"), max_length=200, blank=True, help_text=_("As it was when created.")
    )
    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="reminders", verbose_name=_("member")
    )
    offset = models.DurationField(
        _("offset"), help_text=_("From the milestone's time: negative before, positive after.")
    )
    sequence = models.PositiveIntegerField(_("schedule revision"), default=0)
    due_at = models.DateTimeField(_("due at"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    claim = models.UUIDField(_("claim"), null=True, blank=True, editable=False)
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
                fields=["milestone", "member", "offset", "sequence"], name="cohorts_reminder_once"
            ),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False),
                name="cohorts_reminder_sent_has_time",
            ),
        ]

    def __str__(self):
        return f"{self.title} → {self.member} ({self.offset_label})"

    @property
    def title(self):
        return self.milestone.title if self.milestone else self.milestone_title

    @property
    def is_after(self):
        return self.offset > datetime.timedelta(0)

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


class TopicMove(models.Model):
    """A member's move from one topic's group to another: the history of `Member.topic`."""

    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="topic_moves", verbose_name=_("member")
    )
    from_topic = models.ForeignKey(
        "topics.Topic", on_delete=models.PROTECT, related_name="+", verbose_name=_("from topic")
    )
    to_topic = models.ForeignKey(
        "topics.Topic", on_delete=models.PROTECT, related_name="+", verbose_name=_("to topic")
    )
    moved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("moved by"),
    )
    moved_at = models.DateTimeField(_("moved at"), auto_now_add=True)

    class Meta:
        verbose_name = _("topic move")
        verbose_name_plural = _("topic moves")
        ordering = ["-moved_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_topic=models.F("to_topic")), name="cohorts_move_changes_topic"
            ),
        ]

    def __str__(self):
        return f"{self.member}: {self.from_topic} → {self.to_topic}"


class Reviewer(models.Model):
    """Someone an organiser named to review one topic's work in a cohort, or all of it."""

    cohort = models.ForeignKey(
        Cohort, on_delete=models.CASCADE, related_name="reviewers", verbose_name=_("cohort")
    )
    topic = models.ForeignKey(
        "topics.Topic",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("topic"),
        help_text=_("Empty: every topic of the cohort."),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="reviewer_roles",
        verbose_name=_("reviewer"),
    )
    named_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("named by"),
    )
    created_at = models.DateTimeField(_("named at"), auto_now_add=True)

    class Meta:
        verbose_name = _("reviewer")
        verbose_name_plural = _("reviewers")
        ordering = ["cohort", "topic__position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["cohort", "topic", "user"], name="cohorts_reviewer_once_per_topic"
            ),
            models.UniqueConstraint(
                fields=["cohort", "user"],
                condition=Q(topic__isnull=True),
                name="cohorts_reviewer_once_per_cohort",
            ),
        ]

    def __str__(self):
        return f"{self.user} · {self.topic or self.cohort}"


def group_access(user, *, cohort, topic):
    """A filter expression: the user is a member or a named reviewer of this group.

    `cohort` and `topic` are expressions (OuterRef) of the row being filtered.
    """
    member = Member.objects.filter(user=user, cohort=cohort, topic=topic)
    reviewer = Reviewer.objects.filter(user=user, cohort=cohort).filter(
        Q(topic__isnull=True) | Q(topic=topic)
    )
    return Exists(member) | Exists(reviewer)


def can_see_group(user, *, cohort_id, topic_id):
    """Whether the user may open this topic group's workspace and its files."""
    if is_staff_side(user):
        return True
    if not user.is_authenticated:
        return False
    return (
        Cohort.objects.filter(pk=cohort_id)
        .filter(group_access(user, cohort=OuterRef("pk"), topic=topic_id))
        .exists()
    )


class Notification(models.Model):
    """A line in a user's notifications in the portal (the header shows the unread count)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    text = models.CharField(_("text"), max_length=300)
    url = models.CharField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class NotificationQuerySet(models.QuerySet):
        def visible_to(self, user):
            if not user.is_authenticated:
                return self.none()
            return self.filter(recipient=user)

        def unread(self):
            return self.filter(read_at__isnull=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="cohorts_notif_unread")]

    def __str__(self):
        return self.text


class DeletionRequest(models.Model):
    """A member's request to delete their account; an organiser confirms or declines it.

    Once confirmed the account is gone and so is `user`: the row keeps only the dates.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for an organiser")
        CONFIRMED = "confirmed", _("Confirmed: the account is deleted")
        DECLINED = "declined", _("Declined")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deletion_requests",
        verbose_name=_("account"),
    )
    reason = models.TextField(_("reason"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    note = models.TextField(_("organiser's note"), blank=True)

    class Meta:
        verbose_name = _("account deletion request")
        verbose_name_plural = _("account deletion requests")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status="pending"),
                name="cohorts_one_pending_deletion_request",
            ),
            models.CheckConstraint(
                condition=Q(status="pending") | Q(decided_at__isnull=False),
                name="cohorts_deletion_decided_has_time",
            ),
        ]

    def __str__(self):
        return f"{self.user or _('a removed member')}: {self.get_status_display()}"
