from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _

from topics.models import Deliverable, Review, Submission, Topic


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ("name", "name_en", "slug", "position")
    list_editable = ("position",)
    search_fields = ("name", "name_en", "slug")
    prepopulated_fields = {"slug": ("name_en",)}
    ordering = ("position", "id")


@admin.register(Deliverable)
class DeliverableAdmin(admin.ModelAdmin):
    list_display = ("title", "topic", "milestone", "cohort", "due_at")
    list_filter = ("topic", "milestone__cohort")
    list_select_related = ("topic", "milestone__cohort")
    search_fields = ("title", "description", "topic__name", "milestone__title")
    autocomplete_fields = ("milestone", "topic")
    ordering = ("milestone__starts_at", "topic__position", "id")

    @admin.display(description=_("cohort"), ordering="milestone__cohort")
    def cohort(self, deliverable):
        return deliverable.milestone.cohort

    @admin.display(description=_("due at"), ordering="milestone__starts_at")
    def due_at(self, deliverable):
        return deliverable.milestone.starts_at


class ReviewInline(admin.StackedInline):
    model = Review
    fields = ("status", "feedback", "reviewer", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("reviewer",)
    ordering = ("-created_at", "-id")
    extra = 0


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ("deliverable", "version", "kind", "member", "submitted_at", "is_late")
    # Versions are handed in by members through the portal, whose checks they passed.
    readonly_fields = (
        "file",
        "file_name",
        "file_size",
        "content_type",
        "checksum",
        "submitted_at",
    )
    list_filter = ("kind", "is_late", "deliverable__topic")
    list_select_related = ("deliverable__topic", "member")
    search_fields = ("deliverable__title", "member__name", "text", "comment", "link")
    autocomplete_fields = ("deliverable", "member")
    date_hierarchy = "submitted_at"
    ordering = ("deliverable", "-version")
    # Django 6 will assume https for links typed without a scheme; say so now.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    inlines = (ReviewInline,)


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ("submission", "status", "reviewer", "created_at")
    list_filter = ("status",)
    list_select_related = ("submission__deliverable__topic", "reviewer")
    search_fields = ("feedback", "submission__deliverable__title", "reviewer__email")
    autocomplete_fields = ("submission", "reviewer")
    readonly_fields = ("created_at",)
    ordering = ("-created_at", "-id")
