from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wecity.urls_cache import object_url


def can_see_unpublished(user):
    """Organisers and admins see forums, speakers and quotes before they are public."""
    return bool(
        user
        and user.is_authenticated
        and (user.is_staff or user.is_organiser or user.is_portal_admin)
    )


class Speaker(models.Model):
    """A person who speaks at forums; their title as of one forum is on the appearance."""

    name = models.CharField(_("name"), max_length=100, db_index=True)
    slug = models.SlugField(_("slug"), max_length=120, unique=True, allow_unicode=True)
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    title = models.CharField(_("job title"), max_length=200, blank=True)
    photo = models.ImageField(_("photo"), upload_to="speakers/", blank=True)
    bio = models.TextField(_("short bio"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class SpeakerQuerySet(models.QuerySet):
        def visible_to(self, user):
            """Speakers of public forums; organisers and admins see every speaker."""
            if can_see_unpublished(user):
                return self.all()
            public = Appearance.objects.filter(
                speaker=OuterRef("pk"), forum__in=Forum.objects.published()
            )
            return self.filter(Exists(public))

    objects = SpeakerQuerySet.as_manager()

    class Meta:
        verbose_name = _("speaker")
        verbose_name_plural = _("speakers")
        ordering = ["name", "id"]
        indexes = [
            # The directory's and the API's `organisation` filter and ordering, and the list
            # of organisations to choose from.
            models.Index(fields=["organisation"], name="forums_speaker_organisation"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return object_url("forums:speaker-detail", slug=self.slug)


class Forum(models.Model):
    """A roundtable session of the programme."""

    class Format(models.TextChoices):
        ONLINE = "online", _("Online")
        ON_SITE = "on_site", _("On site")

    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=120, unique=True, allow_unicode=True)
    starts_at = models.DateTimeField(_("starts at"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    format = models.CharField(
        _("format"), max_length=10, choices=Format.choices, default=Format.ONLINE
    )
    location = models.CharField(_("place"), max_length=200, blank=True)
    lede = models.TextField(_("lede"), blank=True)
    cover_image = models.ImageField(_("cover image"), upload_to="forums/", blank=True)
    released_topics = models.ManyToManyField(
        "topics.Topic",
        blank=True,
        related_name="released_at_forums",
        verbose_name=_("topics released"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class ForumQuerySet(models.QuerySet):
        def published(self):
            """Forums whose recap is public: published, or scheduled for a time now past."""
            now = timezone.now()
            return self.filter(
                Q(recap__status=Recap.Status.PUBLISHED)
                | Q(recap__status=Recap.Status.SCHEDULED, recap__publish_at__lte=now)
            )

        def visible_to(self, user):
            if can_see_unpublished(user):
                return self.all()
            return self.published()

    objects = ForumQuerySet.as_manager()

    class Meta:
        verbose_name = _("forum")
        verbose_name_plural = _("forums")
        ordering = [models.F("starts_at").desc(nulls_last=True), "-id"]
        # The lists' order (latest first, the pages', the API's and the organisers') has
        # its index on PostgreSQL only, forums_forum_latest: see migration 0006.
        indexes = [
            # The API's `?ordering=starts_at`: nulls last too, so not that index reversed.
            models.Index(fields=["starts_at", "id"], name="forums_forum_start"),
            # The API's `?ordering=title`.
            models.Index(fields=["title"], name="forums_forum_title"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True)
                | Q(starts_at__isnull=False, ends_at__gte=models.F("starts_at")),
                name="forums_forum_ends_after_start",
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return self.url_of(self.slug)

    @staticmethod
    def url_of(slug):
        """The recap page of the forum with this slug (for rows read without a Forum)."""
        return object_url("forums:forum-detail", slug=slug)


class Theme(models.Model):
    """One of a forum's ordered themes (议题)."""

    forum = models.ForeignKey(
        Forum, on_delete=models.CASCADE, related_name="themes", verbose_name=_("forum")
    )
    title = models.CharField(_("title"), max_length=200)
    position = models.PositiveSmallIntegerField(_("position"))

    class Meta:
        verbose_name = _("theme")
        verbose_name_plural = _("themes")
        ordering = ["forum", "position"]
        constraints = [
            models.UniqueConstraint(fields=["forum", "position"], name="forums_theme_position"),
            models.UniqueConstraint(fields=["forum", "title"], name="forums_theme_title"),
        ]

    def __str__(self):
        return self.title


class Appearance(models.Model):
    """A speaker at a forum in one role, with the title they held then."""

    class Role(models.TextChoices):
        # In the order a recap lists them.
        OPENING_ADDRESS = "opening_address", _("Opening address")
        PANELIST = "panelist", _("Panelist")
        HOST = "host", _("Host")
        TOPIC_RELEASE = "topic_release", _("Topic release")

    forum = models.ForeignKey(
        Forum, on_delete=models.CASCADE, related_name="appearances", verbose_name=_("forum")
    )
    speaker = models.ForeignKey(
        Speaker, on_delete=models.PROTECT, related_name="appearances", verbose_name=_("speaker")
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    organisation = models.CharField(_("organisation then"), max_length=200, blank=True)
    title = models.CharField(_("title then"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_cohort_representative = models.BooleanField(
        _("cohort representative"),
        default=False,
        help_text=_("A panelist who presents the cohort's discussion results (学员代表)."),
    )

    class Meta:
        verbose_name = _("appearance")
        verbose_name_plural = _("appearances")
        ordering = ["forum", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["forum", "speaker", "role"], name="forums_appearance_unique_role"
            ),
            models.CheckConstraint(
                condition=Q(is_cohort_representative=False) | Q(role="panelist"),
                name="forums_appearance_representative_is_panelist",
            ),
        ]

    def __str__(self):
        return f"{self.speaker} · {self.get_role_display()} · {self.forum}"


def split_paragraphs(text):
    """A turn's paragraphs: its text split on blank lines, each stripped, none empty."""
    return [paragraph.strip() for paragraph in text.split("\n\n") if paragraph.strip()]


class TranscriptTurn(models.Model):
    """One speaker's turn in a theme's transcript: one or more paragraphs."""

    theme = models.ForeignKey(
        Theme, on_delete=models.CASCADE, related_name="turns", verbose_name=_("theme")
    )
    position = models.PositiveIntegerField(_("position"))
    speaker = models.ForeignKey(
        Speaker, on_delete=models.PROTECT, related_name="turns", verbose_name=_("speaker")
    )
    body = models.TextField(_("text"), help_text=_("Paragraphs separated by a blank line."))

    class Meta:
        verbose_name = _("transcript turn")
        verbose_name_plural = _("transcript turns")
        ordering = ["theme", "position"]
        constraints = [
            models.UniqueConstraint(fields=["theme", "position"], name="forums_turn_position"),
        ]

    def __str__(self):
        return f"{self.speaker}: {self.body[:40]}"

    @property
    def paragraphs(self):
        return split_paragraphs(self.body)


class Quote(models.Model):
    """A speaker's words from a forum, curated by admins into the forum's highlights."""

    class State(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    forum = models.ForeignKey(
        Forum, on_delete=models.CASCADE, related_name="quotes", verbose_name=_("forum")
    )
    speaker = models.ForeignKey(
        Speaker, on_delete=models.PROTECT, related_name="quotes", verbose_name=_("speaker")
    )
    theme = models.ForeignKey(
        Theme,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="quotes",
        verbose_name=_("theme"),
    )
    turn = models.ForeignKey(
        TranscriptTurn,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="quotes",
        verbose_name=_("transcript turn"),
    )
    text = models.TextField(_("text"))
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PROPOSED
    )
    rejection_reason = models.TextField(_("reason for rejection"), blank=True)
    is_featured = models.BooleanField(_("featured"), default=False)
    highlight_position = models.PositiveSmallIntegerField(
        _("highlight position"), null=True, blank=True
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("proposed by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class QuoteQuerySet(models.QuerySet):
        def highlights(self):
            """A forum's featured quotes in the order the admins set."""
            return self.filter(is_featured=True).order_by("highlight_position")

        def visible_to(self, user):
            if can_see_unpublished(user):
                return self.all()
            return self.filter(state=Quote.State.APPROVED, forum__in=Forum.objects.published())

    objects = QuoteQuerySet.as_manager()

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        ordering = ["forum", "highlight_position", "id"]
        indexes = [models.Index(fields=["state", "is_featured"], name="forums_quote_state_feat")]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_featured=False) | Q(state="approved"),
                name="forums_quote_featured_is_approved",
            ),
            models.CheckConstraint(
                condition=Q(is_featured=True, highlight_position__isnull=False)
                | Q(is_featured=False, highlight_position__isnull=True),
                name="forums_quote_position_iff_featured",
            ),
            models.UniqueConstraint(
                fields=["forum", "highlight_position"], name="forums_quote_highlight_position"
            ),
            models.CheckConstraint(
                condition=~Q(state="rejected") | ~Q(rejection_reason=""),
                name="forums_quote_rejection_has_reason",
            ),
        ]

    def __str__(self):
        return f"{self.speaker}: {self.text[:40]}"

    def get_absolute_url(self):
        """The quote's own page (public once approved and its recap is)."""
        return self.url_of(self.pk)

    @staticmethod
    def url_of(pk):
        """The page of the quote with this id (for rows read without a Quote)."""
        return object_url("forums:quote-detail", pk=pk)


class Recap(models.Model):
    """The published article about a forum."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        PUBLISHED = "published", _("Published")

    forum = models.OneToOneField(
        Forum, on_delete=models.CASCADE, related_name="recap", verbose_name=_("forum")
    )
    headline = models.CharField(_("headline"), max_length=200)
    body = models.TextField(_("body (Markdown)"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    publish_at = models.DateTimeField(_("publish at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    version = models.PositiveIntegerField(
        _("version"), default=1, help_text=_("Raised by every save; a stale form is refused.")
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("last edited by"),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("recap")
        verbose_name_plural = _("recaps")
        ordering = ["-published_at", "-id"]
        # The API's order (latest published first) has its index on PostgreSQL only,
        # forums_recap_latest: see migration 0006.
        indexes = [
            models.Index(fields=["status", "publish_at"], name="forums_recap_status_pub"),
            # The API's `?ordering=` on published_at and updated_at (either way).
            models.Index(fields=["published_at"], name="forums_recap_published"),
            models.Index(fields=["updated_at"], name="forums_recap_updated"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="scheduled") | Q(publish_at__isnull=False),
                name="forums_recap_scheduled_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False),
                name="forums_recap_published_has_time",
            ),
        ]

    def __str__(self):
        return self.headline

    def get_absolute_url(self):
        return self.forum.get_absolute_url()


class RecapRevision(models.Model):
    """A saved state of a recap, for its history and restore."""

    recap = models.ForeignKey(
        Recap, on_delete=models.CASCADE, related_name="revisions", verbose_name=_("recap")
    )
    number = models.PositiveIntegerField(_("number"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    snapshot = models.JSONField(_("content"))

    class Meta:
        verbose_name = _("recap revision")
        verbose_name_plural = _("recap revisions")
        ordering = ["recap", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["recap", "number"], name="forums_revision_number"),
        ]

    def __str__(self):
        return f"{self.recap} #{self.number}"


class RecapShareLink(models.Model):
    """A secret link that shows a recap before it is public, until it expires."""

    recap = models.ForeignKey(
        Recap, on_delete=models.CASCADE, related_name="share_links", verbose_name=_("recap")
    )
    token = models.CharField(_("token"), max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))

    class Meta:
        verbose_name = _("share link")
        verbose_name_plural = _("share links")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.recap} ({self.expires_at:%Y-%m-%d})"

    def get_absolute_url(self):
        return reverse("forums:recap-share", kwargs={"token": self.token})

    @property
    def is_valid(self):
        return self.expires_at > timezone.now()


class CurationEntry(models.Model):
    """One curation action, as it happened: the audit trail of quotes and speakers.

    Written only by the curation services; never changed afterwards.
    """

    class Action(models.TextChoices):
        PROPOSE = "propose", _("Proposed")
        EDIT = "edit", _("Edited")
        APPROVE = "approve", _("Approved")
        REJECT = "reject", _("Rejected")
        FEATURE = "feature", _("Featured")
        UNFEATURE = "unfeature", _("Unfeatured")
        REORDER = "reorder", _("Reordered")
        MERGE = "merge", _("Merged speakers")

    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    created_at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    quote = models.ForeignKey(
        Quote,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="curation_entries",
        verbose_name=_("quote"),
    )
    forum = models.ForeignKey(
        Forum,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="curation_entries",
        verbose_name=_("forum"),
    )
    speaker = models.ForeignKey(
        Speaker,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="curation_entries",
        verbose_name=_("speaker"),
    )
    before = models.TextField(_("before"), blank=True)
    after = models.TextField(_("after"), blank=True)
    reason = models.TextField(_("reason"), blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("curation entry")
        verbose_name_plural = _("curation entries")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["action", "created_at"], name="forums_curation_action")]

    def __str__(self):
        return f"{self.get_action_display()} · {self.created_at:%Y-%m-%d %H:%M}"


class SearchEntry(models.Model):
    """One searchable text of the portal, segmented into words: the search index.

    Written only by `forums.search`, rebuilt from the rows it describes whenever they change;
    never edited by hand.
    """

    class Kind(models.TextChoices):
        # In the order results of equal rank are listed.
        RECAP = "recap", _("Recap")
        SPEAKER = "speaker", _("Speaker")
        QUOTE = "quote", _("Quote")
        TURN = "turn", _("Transcript")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    object_id = models.PositiveBigIntegerField(_("object id"))
    forum = models.ForeignKey(
        Forum,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("forum"),
    )
    speaker = models.ForeignKey(
        Speaker,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("speaker"),
    )
    title = models.CharField(_("title"), max_length=300)
    text = models.TextField(_("text"), blank=True)
    segmented = models.TextField(_("segmented text"), blank=True)
    url = models.CharField(_("address"), max_length=500)
    is_public = models.BooleanField(_("public"), default=False, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class SearchEntryQuerySet(models.QuerySet):
        def visible_to(self, user):
            """Public entries; organisers and admins also find what is not public yet."""
            if can_see_unpublished(user):
                return self.all()
            return self.filter(is_public=True)

    objects = SearchEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("search entry")
        verbose_name_plural = _("search entries")
        ordering = ["kind", "object_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "object_id"], name="forums_search_entry_object"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.title}"
