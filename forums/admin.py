from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.defaultfilters import truncatechars
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from forums.curation import approve_quotes, merge_speakers
from forums.models import (
    Appearance,
    CurationEntry,
    Forum,
    Quote,
    Recap,
    RecapRevision,
    RecapShareLink,
    SearchEntry,
    Speaker,
    Theme,
    TranscriptTurn,
)


@admin.register(Speaker)
class SpeakerAdmin(admin.ModelAdmin):
    list_display = ("name", "organisation", "title", "slug", "created_at")
    search_fields = ("name", "organisation", "title", "slug")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("created_at",)
    ordering = ("name", "id")
    actions = ("merge_into_first",)

    @admin.action(description=_("Merge the two selected speakers into the first one listed"))
    def merge_into_first(self, request, queryset):
        speakers = list(queryset.order_by("name", "id")[:3])
        if len(speakers) != 2:
            self.message_user(request, _("Select exactly two speakers to merge."), messages.ERROR)
            return
        keep, duplicate = speakers
        try:
            merge_speakers(keep, user=request.user, duplicate=duplicate)
        except PermissionDenied as error:
            self.message_user(request, str(error), messages.ERROR)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            self.message_user(
                request,
                _("The duplicate record of %(duplicate)s is merged into %(keep)s.")
                % {"duplicate": duplicate.name, "keep": keep.name},
                messages.SUCCESS,
            )


class ThemeInline(admin.TabularInline):
    model = Theme
    fields = ("position", "title")
    ordering = ("position",)
    extra = 0


class AppearanceInline(admin.TabularInline):
    model = Appearance
    fields = ("position", "speaker", "role", "organisation", "title", "is_cohort_representative")
    autocomplete_fields = ("speaker",)
    ordering = ("position", "id")
    extra = 0


@admin.register(Forum)
class ForumAdmin(admin.ModelAdmin):
    list_display = ("title", "starts_at", "format", "recap_status", "updated_at")
    list_filter = ("format", "recap__status")
    list_select_related = ("recap",)
    search_fields = ("title", "slug", "lede")
    date_hierarchy = "starts_at"
    prepopulated_fields = {"slug": ("title",)}
    filter_horizontal = ("released_topics",)
    readonly_fields = ("created_at", "updated_at")
    inlines = (ThemeInline, AppearanceInline)

    @admin.display(description=_("recap"), ordering="recap__status")
    def recap_status(self, forum):
        recap = getattr(forum, "recap", None)
        return recap.get_status_display() if recap else None


class TranscriptTurnInline(admin.TabularInline):
    model = TranscriptTurn
    fields = ("position", "speaker", "body")
    autocomplete_fields = ("speaker",)
    ordering = ("position",)
    extra = 0


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ("title", "forum", "position")
    list_select_related = ("forum",)
    search_fields = ("title", "forum__title")
    autocomplete_fields = ("forum",)
    ordering = ("forum", "position")
    inlines = (TranscriptTurnInline,)


@admin.register(Appearance)
class AppearanceAdmin(admin.ModelAdmin):
    list_display = ("speaker", "forum", "role", "title", "position", "is_cohort_representative")
    list_filter = ("role", "is_cohort_representative")
    list_select_related = ("speaker", "forum")
    search_fields = ("speaker__name", "forum__title", "organisation", "title")
    autocomplete_fields = ("forum", "speaker")
    ordering = ("forum", "position", "id")


@admin.register(TranscriptTurn)
class TranscriptTurnAdmin(admin.ModelAdmin):
    list_display = ("excerpt", "speaker", "theme", "forum", "position")
    list_select_related = ("speaker", "theme__forum")
    search_fields = ("body", "speaker__name", "theme__title")
    autocomplete_fields = ("theme", "speaker")
    ordering = ("theme", "position")

    @admin.display(description=_("text"))
    def excerpt(self, turn):
        return truncatechars(turn.body, 60)

    @admin.display(description=_("forum"), ordering="theme__forum")
    def forum(self, turn):
        return turn.theme.forum


@admin.register(Quote)
class QuoteAdmin(admin.ModelAdmin):
    list_display = (
        "excerpt",
        "speaker",
        "forum",
        "state",
        "is_featured",
        "highlight_position",
        "created_at",
    )
    list_filter = ("state", "is_featured", "forum")
    list_select_related = ("speaker", "forum")
    search_fields = ("text", "speaker__name", "forum__title")
    autocomplete_fields = ("forum", "speaker", "theme", "turn", "proposed_by")
    readonly_fields = ("created_at", "updated_at")
    ordering = ("forum", "highlight_position", "id")
    actions = ("approve_selected",)
    fieldsets = (
        (None, {"fields": ("forum", "speaker", "theme", "turn", "text", "proposed_by")}),
        (
            _("Curation"),
            {"fields": ("state", "rejection_reason", "is_featured", "highlight_position")},
        ),
        (_("History"), {"fields": ("created_at", "updated_at")}),
    )

    @admin.action(description=_("Approve the selected proposed quotes"))
    def approve_selected(self, request, queryset):
        try:
            count = approve_quotes(queryset, user=request.user)
        except PermissionDenied as error:
            self.message_user(request, str(error), messages.ERROR)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            self.message_user(
                request,
                ngettext("%(count)d quote approved.", "%(count)d quotes approved.", count)
                % {"count": count},
                messages.SUCCESS,
            )

    @admin.display(description=_("text"))
    def excerpt(self, quote):
        return truncatechars(quote.text, 60)


class RecapRevisionInline(admin.TabularInline):
    model = RecapRevision
    fields = ("number", "author", "created_at")
    readonly_fields = fields
    ordering = ("-number",)
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Recap)
class RecapAdmin(admin.ModelAdmin):
    list_display = (
        "headline",
        "forum",
        "status",
        "publish_at",
        "published_at",
        "updated_at",
        "updated_by",
    )
    list_filter = ("status",)
    list_select_related = ("forum", "updated_by")
    search_fields = ("headline", "forum__title", "body")
    autocomplete_fields = ("forum",)
    readonly_fields = ("version", "updated_by", "updated_at")
    ordering = ("-published_at", "-id")
    inlines = (RecapRevisionInline,)


@admin.register(RecapRevision)
class RecapRevisionAdmin(admin.ModelAdmin):
    """Revisions are history written by the recap editor: they are read here, not made."""

    list_display = ("recap", "number", "author", "created_at")
    list_select_related = ("recap", "author")
    search_fields = ("recap__headline",)
    readonly_fields = ("recap", "number", "author", "created_at", "snapshot")
    ordering = ("recap", "-number")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(RecapShareLink)
class RecapShareLinkAdmin(admin.ModelAdmin):
    """Share links are made by organisers on the recap's page; here they can be revoked."""

    list_display = ("recap", "created_by", "created_at", "expires_at")
    list_select_related = ("recap", "created_by")
    search_fields = ("recap__headline",)
    readonly_fields = ("recap", "token", "created_by", "created_at")
    ordering = ("-created_at",)

    def has_add_permission(self, request):
        return False


@admin.register(SearchEntry)
class SearchEntryAdmin(admin.ModelAdmin):
    """The search index is derived from the forums: read here, rebuilt by `forums.search`."""

    list_display = ("title", "kind", "is_public", "forum", "updated_at")
    list_filter = ("kind", "is_public")
    list_select_related = ("forum",)
    search_fields = ("title",)
    ordering = ("kind", "object_id")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CurationEntry)
class CurationEntryAdmin(admin.ModelAdmin):
    """The curation audit trail: written by `forums.curation` only, never changed or deleted."""

    list_display = ("created_at", "action", "actor", "quote", "speaker", "forum")
    list_filter = ("action",)
    list_select_related = ("actor", "quote__speaker", "speaker", "forum")
    search_fields = ("before", "after", "reason")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
