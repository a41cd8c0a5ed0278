"""The API of cohorts, members, the schedule, and the signed-in user's notifications and
reminder opt-outs.

Cohorts and their schedules are public, as their pages are. Members come through
`Member.objects.visible_to(user)`; of a member seen only because they chose to be listed,
the API shows what the public directory shows: their name, and each field they made public.
Their group, its reviewers and the organisers see the whole profile, as they see the photo
(`can_see_group`). Notifications are marked read by `cohorts.services`.
"""

import django_filters
from django.db.models import BooleanField, ExpressionWrapper, OuterRef, Value
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from cohorts import services
from cohorts.models import (
    Member,
    Milestone,
    Notification,
    ReminderOptOut,
    group_access,
    is_staff_side,
)
from cohorts.views import cohorts_with_counts
from wecity.api import (
    MAX_ID,
    BooleanFilter,
    FilterSet,
    PageLinkField,
    ReadOnlyViewSet,
    StrictModelSerializer,
    StrictSerializer,
)
from wecity.api_policies import CursorPagination
from wecity.filters import DayFilter

SLUG = r"[-\w]+"
ID = r"[0-9]+"

# --- Serializers ------------------------------------------------------------------------------


class CohortSerializer(serializers.Serializer):
    slug = serializers.SlugField(help_text="The cohort's identifier in the API and in addresses.")
    name = serializers.CharField(help_text="The cohort's name.")
    starts_on = serializers.DateField(help_text="The programme's first day.")
    ends_on = serializers.DateField(help_text="The programme's last day.")
    length_months = serializers.IntegerField(help_text="How many months the programme lasts.")
    capacity = serializers.IntegerField(help_text="How many members the cohort takes.")
    member_count = serializers.IntegerField(help_text="How many places are taken.")
    time_zone = serializers.CharField(help_text="The zone the cohort's times are shown in.")
    description = serializers.CharField(help_text="About the cohort.")
    url = PageLinkField(help_text="The cohort's page: its schedule and public directory.")


@extend_schema_field(OpenApiTypes.URI)
class MemberPhotoField(serializers.Field):
    """The photo's address (the portal's photo view, which checks who asks), when it is shown."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, allow_null=True, **kwargs)

    def to_representation(self, member):
        if not member.photo or not (member.sees_profile or member.public_photo):
            return None
        path = reverse("programme:member-photo", kwargs={"pk": member.pk})
        return self.context["request"].build_absolute_uri(path)


class MemberSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The member's id.")
    cohort = serializers.CharField(source="cohort.slug", help_text="The cohort (its slug).")
    topic = serializers.CharField(source="topic.slug", help_text="The topic group (its slug).")
    name = serializers.CharField(
        source="display_name", help_text="The member's name (or “a removed member”)."
    )
    organisation = serializers.SerializerMethodField(
        help_text="The member's organisation; null unless the member made it public."
    )
    title = serializers.SerializerMethodField(
        help_text="The member's job title; null unless the member made it public."
    )
    bio = serializers.SerializerMethodField(
        help_text="The member's short bio; null unless the member made it public."
    )
    photo = MemberPhotoField(help_text="The member's photo; null unless made public.")
    is_demo = serializers.BooleanField(help_text="A demonstration entry, not a real member.")

    def get_organisation(self, member) -> str | None:
        return self.shown(member, "organisation")

    def get_title(self, member) -> str | None:
        return self.shown(member, "title")

    def get_bio(self, member) -> str | None:
        return self.shown(member, "bio")

    def shown(self, member, field):
        """The field, if the caller sees the whole profile or the member made it public."""
        if member.sees_profile or getattr(member, f"is_{field}_public"):
            return getattr(member, field)
        return None


class MilestoneSerializer(serializers.ModelSerializer):
    cohort = serializers.CharField(source="cohort.slug", help_text="The cohort (its slug).")
    topic = serializers.SlugRelatedField(
        slug_field="slug",
        read_only=True,
        allow_null=True,
        help_text="The topic group it is for; null for the whole cohort.",
    )

    class Meta:
        model = Milestone
        fields = ["id", "cohort", "topic", "kind", "title", "starts_at", "ends_at", "location"]
        extra_kwargs = {
            "id": {"help_text": "The milestone's id."},
            "kind": {"help_text": "Kick-off, workshop, forum, deadline or demo day."},
            "title": {"help_text": "What takes place, or what is due."},
            "starts_at": {"help_text": "When it starts, or when the work is due."},
            "ends_at": {"help_text": "When it ends."},
            "location": {"help_text": "Where it takes place."},
        }


class NotificationSerializer(serializers.ModelSerializer):
    url = serializers.CharField(help_text="Where the notification leads, on the portal.")
    is_read = serializers.SerializerMethodField(help_text="Whether it has been read.")

    class Meta:
        model = Notification
        fields = ["id", "text", "url", "created_at", "read_at", "is_read"]
        extra_kwargs = {
            "id": {"help_text": "The notification's id."},
            "text": {"help_text": "What happened, in the user's language."},
            "created_at": {"help_text": "When it happened."},
            "read_at": {"help_text": "When it was marked read."},
        }

    def get_is_read(self, notification) -> bool:
        return notification.read_at is not None


class MarkReadSerializer(StrictSerializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=100,
        help_text="The notifications to mark read; all unread ones when left out.",
    )


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many notifications were marked read.")


class ReminderOptOutSerializer(StrictModelSerializer):
    member = serializers.PrimaryKeyRelatedField(
        queryset=Member.objects.none(),
        help_text="Which of the user's memberships (its id; see /api/v1/me/).",
    )
    cohort = serializers.CharField(
        source="member.cohort.slug", read_only=True, help_text="The membership's cohort."
    )

    class Meta:
        model = ReminderOptOut
        fields = ["id", "member", "cohort", "kind"]
        extra_kwargs = {
            "id": {"help_text": "The opt-out's id."},
            "kind": {"help_text": "The kind of milestone the member gets no reminders about."},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["member"].queryset = own_memberships(request.user)


def own_memberships(user):
    """The user's memberships whose profile and preferences are theirs to change."""
    if not user.is_authenticated:
        return Member.objects.none()
    return Member.objects.active().filter(user=user)


# --- Filters ----------------------------------------------------------------------------------


class MemberFilter(FilterSet):
    cohort = django_filters.CharFilter(
        field_name="cohort__slug", help_text="Members of this cohort (its slug)."
    )
    topic = django_filters.CharFilter(
        field_name="topic__slug", help_text="Members of this topic's group (its slug)."
    )

    class Meta:
        model = Member
        fields = ["cohort", "topic"]


class MilestoneFilter(FilterSet):
    cohort = django_filters.CharFilter(
        field_name="cohort__slug", help_text="This cohort's schedule (its slug)."
    )
    topic = django_filters.CharFilter(
        field_name="topic__slug", help_text="Milestones of this topic's group (its slug)."
    )
    kind = django_filters.ChoiceFilter(
        choices=Milestone.Kind.choices, help_text="Only milestones of this kind."
    )
    starts_from = DayFilter(
        field_name="starts_at", lookup_expr="gte", help_text="On or after this day."
    )
    starts_until = DayFilter(
        field_name="starts_at", lookup_expr="lte", help_text="On or before this day."
    )

    class Meta:
        model = Milestone
        fields = ["cohort", "topic", "kind", "starts_from", "starts_until"]


class NotificationFilter(FilterSet):
    is_read = BooleanFilter(
        field_name="read_at",
        lookup_expr="isnull",
        exclude=True,
        help_text="Only read ones (`true`) or unread ones (`false`).",
    )

    class Meta:
        model = Notification
        fields = ["is_read"]


# --- Views ------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List cohorts", description="Every cohort, latest first."),
    retrieve=extend_schema(summary="Read a cohort"),
)
class CohortViewSet(ReadOnlyViewSet):
    serializer_class = CohortSerializer
    lookup_field = "slug"
    lookup_value_regex = SLUG
    ordering_fields = {"starts_on": "starts_on", "name": "name"}
    default_ordering_description = "latest first"

    def get_queryset(self):
        return cohorts_with_counts()


def with_profile_access(members, user):
    """`members` annotated with `sees_profile`: whether `user` sees each one's whole profile.

    The rule of `can_see_group`, for many members in one query: organisers see all, the
    group's members and reviewers their group's.
    """
    if is_staff_side(user):
        return members.annotate(sees_profile=Value(True))
    if not user.is_authenticated:
        return members.annotate(sees_profile=Value(False))
    access = group_access(user, cohort=OuterRef("cohort"), topic=OuterRef("topic"))
    return members.annotate(sees_profile=ExpressionWrapper(access, output_field=BooleanField()))


@extend_schema_view(
    list=extend_schema(
        summary="List members",
        description="Members the caller may see: those listed in the public directory, with "
        "the fields each made public; to their group, reviewers and organisers, whole.",
    ),
    retrieve=extend_schema(summary="Read a member"),
)
class MemberViewSet(ReadOnlyViewSet):
    serializer_class = MemberSerializer
    filterset_class = MemberFilter
    lookup_value_regex = ID
    ordering_fields = {"name": "name"}
    default_ordering_description = "by cohort, topic and name"

    def get_queryset(self):
        members = Member.objects.visible_to(self.request.user).select_related("cohort", "topic")
        return with_profile_access(members, self.request.user).order_by(
            "cohort__starts_on", "cohort_id", "topic__position", "topic_id", "name", "id"
        )


@extend_schema_view(
    list=extend_schema(
        summary="List milestones",
        description="The cohorts' schedules, as their public pages show them; soonest first.",
    ),
    retrieve=extend_schema(summary="Read a milestone"),
)
class MilestoneViewSet(ReadOnlyViewSet):
    serializer_class = MilestoneSerializer
    filterset_class = MilestoneFilter
    lookup_value_regex = ID
    ordering_fields = {"starts_at": "starts_at", "title": "title"}
    default_ordering_description = "soonest first"

    def get_queryset(self):
        return Milestone.objects.select_related("cohort", "topic").order_by("starts_at", "id")


@extend_schema_view(
    list=extend_schema(
        summary="List my notifications",
        description="The signed-in user's notifications, newest first.",
    ),
    retrieve=extend_schema(summary="Read one of my notifications"),
)
class NotificationViewSet(ReadOnlyViewSet):
    serializer_class = NotificationSerializer
    pagination_class = CursorPagination
    filterset_class = NotificationFilter
    permission_classes = [IsAuthenticated]
    lookup_value_regex = ID

    def get_queryset(self):
        return Notification.objects.visible_to(self.request.user).order_by("-id")

    @extend_schema(
        operation_id="notifications_read",
        summary="Mark one notification read",
        request=None,
        responses={200: NotificationSerializer},
    )
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = self.get_object()
        StrictSerializer(data=request.data).is_valid(raise_exception=True)
        services.mark_notifications_read(request.user, notification_ids=[notification.pk])
        notification.refresh_from_db()
        return Response(self.get_serializer(notification).data)

    @extend_schema(
        operation_id="notifications_read_all",
        summary="Mark notifications read",
        description="The given unread notifications of the user, or all of them.",
        request=MarkReadSerializer,
        responses={200: MarkedSerializer},
    )
    @action(detail=False, methods=["post"], url_path="read", url_name="read-all")
    def read_all(self, request):
        serializer = MarkReadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        marked = services.mark_notifications_read(
            request.user, notification_ids=serializer.validated_data.get("ids")
        )
        return Response({"marked": marked})


@extend_schema_view(
    list=extend_schema(
        summary="List my reminder opt-outs",
        description="The kinds of milestone the signed-in member gets no reminders about.",
    ),
    retrieve=extend_schema(summary="Read one of my reminder opt-outs"),
    create=extend_schema(
        summary="Opt out of a kind of reminder",
        description="No more reminders of this kind of milestone, for one of the user's "
        "memberships.",
    ),
    destroy=extend_schema(
        summary="Opt back in", description="Reminders of this kind of milestone again."
    ),
)
class ReminderOptOutViewSet(mixins.CreateModelMixin, mixins.DestroyModelMixin, ReadOnlyViewSet):
    serializer_class = ReminderOptOutSerializer
    permission_classes = [IsAuthenticated]
    lookup_value_regex = ID
    ordering_fields = {"kind": "kind"}
    default_ordering_description = "by membership, then kind"

    def get_queryset(self):
        return (
            ReminderOptOut.objects.filter(member__in=own_memberships(self.request.user))
            .select_related("member__cohort")
            .order_by("member_id", "kind", "id")
        )
