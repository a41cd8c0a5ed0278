import secrets

from django.conf import settings
from django.db import models
from django.db.models import OuterRef, Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from cohorts.models import group_access, is_staff_side
from cohorts.storage import private_storage
from wecity.urls_cache import object_url


class Topic(models.Model):
    """One of the programme's sector tracks (课题), the same for every cohort."""

    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=60, unique=True)
    name_en = models.CharField(_("English name"), max_length=80, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    brief = models.TextField(_("challenge brief"), blank=True)

    class Meta:
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        ordering = ["position", "id"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return object_url("topics:topic-detail", slug=self.slug)

    @property
    def display_name(self):
        """The name in the interface's language (the Chinese name is the content's own)."""
        if translation.get_language() == "en" and self.name_en:
            return self.name_en
        return self.name


class Deliverable(models.Model):
    """What one topic's group in a cohort hands in by a deadline milestone."""

    class DeliverableQuerySet(models.QuerySet):
        def visible_to(self, user):
            """Deliverables of the groups the user works in or reviews; all for organisers."""
            if is_staff_side(user):
                return self.all()
            if not user.is_authenticated:
                return self.none()
            return self.filter(
                group_access(user, cohort=OuterRef("milestone__cohort"), topic=OuterRef("topic"))
            )

    milestone = models.ForeignKey(
        "cohorts.Milestone",
        on_delete=models.PROTECT,
        related_name="deliverables",
        verbose_name=_("deadline"),
    )
    topic = models.ForeignKey(
        Topic, on_delete=models.PROTECT, related_name="deliverables", verbose_name=_("topic")
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)

    objects = DeliverableQuerySet.as_manager()

    class Meta:
        verbose_name = _("deliverable")
        verbose_name_plural = _("deliverables")
        ordering = ["milestone__starts_at", "topic__position", "id"]
        indexes = [
            # The API's `?ordering=title`.
            models.Index(fields=["title"], name="topics_deliverable_title"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["milestone", "topic", "title"], name="topics_deliverable_unique_title"
            ),
        ]

    def __str__(self):
        return f"{self.topic} · {self.title}"

    def get_absolute_url(self):
        return object_url(
            "workspace:deliverable",
            cohort=self.milestone.cohort.slug,
            topic=self.topic.slug,
            pk=self.pk,
        )

    @property
    def due_at(self):
        return self.milestone.starts_at

    @property
    def is_overdue(self):
        return self.milestone.starts_at < timezone.now()


def submission_path(submission, filename):
    # A random folder per version: names are neither guessable nor ever reused.
    deliverable = submission.deliverable
    return (
        f"submissions/{deliverable.milestone.cohort_id}/{deliverable.topic_id}/"
        f"{deliverable.pk}/v{submission.version}-{secrets.token_urlsafe(12)}/{filename}"
    )


class Submission(models.Model):
    """One version of a deliverable, handed in by a member for their group."""

    class SubmissionQuerySet(models.QuerySet):
        def visible_to(self, user):
            """Versions of the groups the user works in or reviews; all for organisers."""
            if is_staff_side(user):
                return self.all()
            if not user.is_authenticated:
                return self.none()
            return self.filter(
                group_access(
                    user,
                    cohort=OuterRef("deliverable__milestone__cohort"),
                    topic=OuterRef("deliverable__topic"),
                )
            )

    class Kind(models.TextChoices):
        FILE = "file", _("File")
        LINK = "link", _("Link")
        TEXT = "text", _("Text")

    deliverable = models.ForeignKey(
        Deliverable,
        on_delete=models.PROTECT,
        related_name="submissions",
        verbose_name=_("deliverable"),
    )
    member = models.ForeignKey(
        "cohorts.Member",
        on_delete=models.PROTECT,
        related_name="submissions",
        verbose_name=_("handed in by"),
    )
    version = models.PositiveIntegerField(_("version"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    file = models.FileField(
        _("file"), upload_to=submission_path, storage=private_storage, max_length=300, blank=True
    )
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    file_size = models.PositiveBigIntegerField(_("file size"), null=True, blank=True)
    content_type = models.CharField(_("content type"), max_length=120, blank=True)
    checksum = models.CharField(_("SHA-256"), max_length=64, blank=True)
    link = models.URLField(_("link"), max_length=500, blank=True)
    text = models.TextField(_("text"), blank=True)
    comment = models.TextField(_("comment"), blank=True)
    submitted_at = models.DateTimeField(_("handed in at"), default=timezone.now)
    is_late = models.BooleanField(_("late"), default=False)

    objects = SubmissionQuerySet.as_manager()

    class Meta:
        verbose_name = _("submission")
        verbose_name_plural = _("submissions")
        ordering = ["deliverable", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["deliverable", "version"], name="topics_submission_unique_version"
            ),
            models.CheckConstraint(
                condition=Q(version__gte=1), name="topics_submission_version_gte_1"
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="file", link="", text="")
                    | Q(kind="link", file="", text="")
                    | Q(kind="text", file="", link="")
                )
                & ~(Q(kind="file", file="") | Q(kind="link", link="") | Q(kind="text", text="")),
                name="topics_submission_content_matches_kind",
            ),
        ]

    def __str__(self):
        return f"{self.deliverable} v{self.version}"

    def get_absolute_url(self):
        return f"{self.deliverable.get_absolute_url()}#v{self.version}"


class Review(models.Model):
    """Feedback on one submitted version, with a verdict."""

    class Status(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        CHANGES_REQUESTED = "changes_requested", _("Changes requested")

    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, related_name="reviews", verbose_name=_("submission")
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="reviews",
        verbose_name=_("reviewer"),
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    feedback = models.TextField(_("feedback"), blank=True)
    created_at = models.DateTimeField(_("reviewed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The API's reviews, newest first (and `?ordering=created_at`, the index reversed).
            models.Index(fields=["created_at", "id"], name="topics_review_created"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["accepted", "changes_requested"]),
                name="topics_review_status_valid",
            ),
        ]

    def __str__(self):
        return f"{self.submission}: {self.get_status_display()}"
