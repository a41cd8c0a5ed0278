import secrets

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from cohorts import reminders, schedule
from cohorts.models import (
    Cohort,
    DeletionRequest,
    Invitation,
    Member,
    Milestone,
    Notification,
    Reminder,
    ReminderOptOut,
    Reviewer,
    TopicMove,
)
from topics.models import Deliverable
from wecity import pagecache


def changelist_link(model, text, **filters):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return format_html('<a href="{}?{}">{}</a>', url, urlencode(filters), text)


@admin.register(Cohort)
class CohortAdmin(admin.ModelAdmin):
    # 35 members are too many for an inline: the changelist links to them instead.
    list_display = (
        "name",
        "starts_on",
        "ends_on",
        "capacity",
        "members_link",
        "milestones_link",
    )
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("ends_on", "created_at", "members_link", "milestones_link")
    date_hierarchy = "starts_on"
    ordering = ("-starts_on", "-id")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                member_count=Count("members", distinct=True),
                milestone_count=Count("milestones", distinct=True),
            )
        )

    @admin.display(description=_("ends on"))
    def ends_on(self, cohort):
        return cohort.ends_on

    @admin.display(description=_("members"), ordering="member_count")
    def members_link(self, cohort):
        text = f"{cohort.member_count} / {cohort.capacity}"
        return changelist_link(Member, text, cohort__id__exact=cohort.pk)

    @admin.display(description=_("milestones"), ordering="milestone_count")
    def milestones_link(self, cohort):
        return changelist_link(Milestone, cohort.milestone_count, cohort__id__exact=cohort.pk)


class ReminderOptOutInline(admin.TabularInline):
    model = ReminderOptOut
    extra = 0


class TopicMoveInline(admin.TabularInline):
    """The history of the member's topic: written by the move service only."""

    model = TopicMove
    fk_name = "member"
    fields = ("from_topic", "to_topic", "moved_by", "moved_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "cohort",
        "topic",
        "organisation",
        "user",
        "is_public",
        "is_demo",
        "joined_at",
        "removed_at",
    )
    list_filter = ("cohort", "topic", "is_public", "is_demo")
    list_select_related = ("cohort", "topic", "user")
    search_fields = ("name", "organisation", "title", "user__email")
    autocomplete_fields = ("cohort", "topic", "user", "speaker")
    readonly_fields = ("joined_at", "removed_at")
    ordering = ("cohort", "topic__position", "name", "id")
    inlines = (ReminderOptOutInline, TopicMoveInline)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = (
        "email",
        "name",
        "cohort",
        "topic",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "revoked_at",
    )
    list_filter = ("cohort", "topic")
    list_select_related = ("cohort", "topic", "invited_by")
    search_fields = ("email", "name", "organisation")
    autocomplete_fields = ("cohort", "topic", "invited_by")
    readonly_fields = ("created_at",)
    ordering = ("-created_at",)

    def get_readonly_fields(self, request, obj=None):
        # The token is in a link already sent: changing it would break that link.
        if obj is not None:
            return (*self.readonly_fields, "token")
        return self.readonly_fields

    def get_changeform_initial_data(self, request):
        return {"token": secrets.token_urlsafe(32), **super().get_changeform_initial_data(request)}


class DeliverableInline(admin.TabularInline):
    model = Deliverable
    fields = ("topic", "title", "description")
    extra = 0


class MilestoneAdminForm(forms.ModelForm):
    """The schedule's rules (inside the programme, a topic of the cohort) apply here too."""

    def _post_clean(self):
        super()._post_clean()
        if not self.errors and self.instance.cohort_id:
            try:
                schedule.validate_milestone(self.instance)
            except ValidationError as error:
                self._update_errors(error)


@admin.register(Milestone)
class MilestoneAdmin(admin.ModelAdmin):
    form = MilestoneAdminForm
    list_display = ("title", "cohort", "kind", "topic", "starts_at", "ends_at", "location")
    readonly_fields = ("sequence", "updated_at")
    list_filter = ("kind", "cohort", "topic")
    list_select_related = ("cohort", "topic")
    search_fields = ("title", "description", "location")
    autocomplete_fields = ("cohort", "topic", "forum")
    date_hierarchy = "starts_at"
    ordering = ("starts_at", "id")
    inlines = (DeliverableInline,)
    # Django 6 will assume https for links typed without a scheme; say so now.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            return
        # The schedule service bumps the revision and moves unsent reminders with the time.
        fields = {name: getattr(obj, name) for name in schedule.EDITABLE}
        saved = schedule.update_milestone(obj, user=request.user, **fields)
        Milestone.objects.filter(pk=obj.pk).update(forum=obj.forum, cohort=obj.cohort)
        pagecache.touch(pagecache.COHORTS, pagecache.cohort(obj.cohort.slug))
        obj.sequence = saved.sequence

    def delete_model(self, request, obj):
        with transaction.atomic():
            reminders.cancel_reminders(obj)
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for milestone in queryset:
                reminders.cancel_reminders(milestone)
            super().delete_queryset(request, queryset)


@admin.register(ReminderOptOut)
class ReminderOptOutAdmin(admin.ModelAdmin):
    list_display = ("member", "cohort", "kind")
    list_filter = ("kind", "member__cohort")
    list_select_related = ("member__cohort",)
    search_fields = ("member__name", "member__user__email")
    autocomplete_fields = ("member",)
    ordering = ("member__name", "kind")

    @admin.display(description=_("cohort"), ordering="member__cohort")
    def cohort(self, opt_out):
        return opt_out.member.cohort


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    """The reminder sweep owns the delivery state; admins read it, they do not set it."""

    list_display = ("milestone", "member", "offset", "due_at", "status", "attempts", "sent_at")
    list_filter = ("status", "milestone__kind", "milestone__cohort")
    list_select_related = ("milestone", "member")
    search_fields = ("member__name", "member__user__email", "milestone__title")
    autocomplete_fields = ("milestone", "member")
    readonly_fields = (
        "milestone_title",
        "sequence",
        "status",
        "attempts",
        "claimed_at",
        "sent_at",
        "reason",
    )
    date_hierarchy = "due_at"
    ordering = ("due_at", "id")


@admin.register(TopicMove)
class TopicMoveAdmin(admin.ModelAdmin):
    """Read only: moves are made on the organisers' cohort page, which keeps this history."""

    list_display = ("member", "from_topic", "to_topic", "moved_by", "moved_at")
    list_filter = ("member__cohort",)
    list_select_related = ("member", "from_topic", "to_topic", "moved_by")
    search_fields = ("member__name",)
    readonly_fields = ("member", "from_topic", "to_topic", "moved_by", "moved_at")
    ordering = ("-moved_at", "-id")

    def has_add_permission(self, request):
        return False


@admin.register(Reviewer)
class ReviewerAdmin(admin.ModelAdmin):
    list_display = ("user", "cohort", "topic", "named_by", "created_at")
    list_filter = ("cohort", "topic")
    list_select_related = ("user", "cohort", "topic", "named_by")
    search_fields = ("user__email", "user__name")
    autocomplete_fields = ("user", "cohort", "topic", "named_by")
    readonly_fields = ("created_at",)
    ordering = ("cohort", "topic__position", "id")


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("recipient", "text", "created_at", "read_at")
    list_filter = ("read_at",)
    list_select_related = ("recipient",)
    search_fields = ("recipient__email", "text")
    autocomplete_fields = ("recipient",)
    readonly_fields = ("created_at",)
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")


@admin.register(DeletionRequest)
class DeletionRequestAdmin(admin.ModelAdmin):
    """Read only: organisers decide on their page, where the deletion itself happens."""

    list_display = ("__str__", "status", "requested_at", "decided_at", "decided_by")
    list_filter = ("status",)
    list_select_related = ("user", "decided_by")
    search_fields = ("user__email",)
    readonly_fields = (
        "user",
        "reason",
        "status",
        "requested_at",
        "decided_at",
        "decided_by",
        "note",
    )
    ordering = ("-requested_at", "-id")

    def has_add_permission(self, request):
        return False
