"""The API of topics, deliverables, their versions (submissions) and reviews.

Deliverables, versions and reviews come through `visible_to(user)`: a group's members, its
named reviewers and the organisers see them, nobody else. Handing in goes through the
workspace page's form (the same file checks) and `topics.services.hand_in_deliverable`.
"""

import django_filters
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response

from topics import services
from topics.forms import HandInForm
from topics.models import Deliverable, Review, Submission, Topic
from topics.workspace_views import own_member
from wecity.api import (
    FilterSet,
    IdFilter,
    PageLinkField,
    ReadOnlyViewSet,
    StrictSerializer,
)
from wecity.api_policies import CursorPagination
from wecity.filters import DayFilter

SLUG = r"[-\w]+"
ID = r"[0-9]+"

# --- Serializers ------------------------------------------------------------------------------


class TopicSerializer(serializers.ModelSerializer):
    url = PageLinkField(help_text="The topic's page.")

    class Meta:
        model = Topic
        fields = ["slug", "name", "name_en", "position", "brief", "url"]
        extra_kwargs = {
            "slug": {"help_text": "The topic's identifier in the API and in page addresses."},
            "name": {"help_text": "The topic's name (课题), in Chinese."},
            "name_en": {"help_text": "The topic's name in English."},
            "position": {"help_text": "The topic's place among the six."},
            "brief": {"help_text": "The challenge brief."},
        }


class MilestoneSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The deadline milestone's id.")
    title = serializers.CharField(help_text="The deadline's title.")
    starts_at = serializers.DateTimeField(help_text="When the deliverable is due.")


class DeliverableSerializer(serializers.ModelSerializer):
    cohort = serializers.CharField(
        source="milestone.cohort.slug", read_only=True, help_text="The cohort (its slug)."
    )
    topic = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, help_text="The topic whose group hands it in."
    )
    milestone = MilestoneSummarySerializer(read_only=True, help_text="The deadline.")
    due_at = serializers.DateTimeField(read_only=True, help_text="When it is due.")
    is_overdue = serializers.BooleanField(read_only=True, help_text="Whether the time is past.")
    url = PageLinkField(help_text="The deliverable's page in the group's workspace.")

    class Meta:
        model = Deliverable
        fields = ["id", "title", "description", "cohort", "topic", "milestone", "due_at"]
        fields += ["is_overdue", "url"]
        extra_kwargs = {
            "id": {"help_text": "The deliverable's id."},
            "title": {"help_text": "What the group hands in."},
            "description": {"help_text": "What is expected."},
        }


class MemberSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The member's id.")
    name = serializers.CharField(
        source="display_name", help_text="The member's name (or “a removed member”)."
    )


@extend_schema_field(OpenApiTypes.URI)
class SubmissionFileField(serializers.Field):
    """The address of a handed-in file: the workspace's download, which checks who asks."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, allow_null=True, **kwargs)

    def to_representation(self, submission):
        if submission.kind != Submission.Kind.FILE:
            return None
        path = reverse("workspace:file", kwargs={"pk": submission.pk})
        return self.context["request"].build_absolute_uri(path)


class SubmissionSerializer(serializers.ModelSerializer):
    deliverable = serializers.PrimaryKeyRelatedField(
        read_only=True, help_text="The deliverable's id."
    )
    member = MemberSummarySerializer(read_only=True, help_text="Who handed it in.")
    file = SubmissionFileField(help_text="Where to download the file, for a file version.")
    url = PageLinkField(help_text="The version on the deliverable's page.")

    class Meta:
        model = Submission
        fields = ["id", "deliverable", "version", "kind", "member", "file", "file_name"]
        fields += ["file_size", "content_type", "checksum", "link", "text", "comment"]
        fields += ["submitted_at", "is_late", "url"]
        extra_kwargs = {
            "id": {"help_text": "The version's id."},
            "version": {"help_text": "1 for the first version handed in, then 2, 3, …"},
            "kind": {"help_text": "A file, a link or a text."},
            "file_name": {"help_text": "The file's name as handed in."},
            "file_size": {"help_text": "The file's size in bytes."},
            "content_type": {"help_text": "The file's media type, as its content showed."},
            "checksum": {"help_text": "The file's SHA-256, in hex."},
            "link": {"help_text": "The link handed in."},
            "text": {"help_text": "The text handed in."},
            "comment": {"help_text": "What changed, or what the reviewers should know."},
            "submitted_at": {"help_text": "When it was handed in."},
            "is_late": {"help_text": "Whether it came after the due time."},
        }


class HandInSerializer(StrictSerializer):
    """The workspace page's hand-in form, field for field; the form itself checks the input."""

    deliverable = serializers.PrimaryKeyRelatedField(
        queryset=Deliverable.objects.none(), help_text="The deliverable's id."
    )
    kind = serializers.ChoiceField(
        choices=Submission.Kind.choices, help_text="What is handed in: a file, a link or a text."
    )
    file = serializers.FileField(
        required=False,
        help_text="For a file: PDF, Word, PowerPoint, Excel, PNG, JPEG or ZIP; its content "
        "is checked, not only its name. Send the request as multipart/form-data.",
    )
    link = serializers.CharField(
        required=False, allow_blank=True, max_length=500, help_text="For a link: the address."
    )
    text = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, help_text="For a text: the text."
    )
    comment = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text="What changed since the last version, or what the reviewers should know.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["deliverable"].queryset = Deliverable.objects.visible_to(
                request.user
            ).select_related("milestone__cohort", "topic")

    def validate(self, attrs):
        attrs = super().validate(attrs)
        upload = attrs.get("file")
        form = HandInForm(
            data={name: attrs.get(name, "") for name in ("kind", "link", "text", "comment")},
            files={"file": upload} if upload else {},
        )
        if not form.is_valid():
            raise serializers.ValidationError(form.errors)
        return {**attrs, **form.cleaned_data, "checked": form.checked}


class ReviewSerializer(serializers.ModelSerializer):
    submission = serializers.PrimaryKeyRelatedField(
        read_only=True, help_text="The reviewed version's id."
    )
    deliverable = serializers.IntegerField(
        source="submission.deliverable_id", read_only=True, help_text="The deliverable's id."
    )
    reviewer = serializers.CharField(
        read_only=True, allow_null=True, help_text="Who reviewed it (empty once they are gone)."
    )

    class Meta:
        model = Review
        fields = ["id", "submission", "deliverable", "status", "feedback", "reviewer"]
        fields += ["created_at"]
        extra_kwargs = {
            "id": {"help_text": "The review's id."},
            "status": {"help_text": "Accepted, or changes requested."},
            "feedback": {"help_text": "The reviewer's feedback."},
            "created_at": {"help_text": "When the review was given."},
        }


# --- Filters ----------------------------------------------------------------------------------


class DeliverableFilter(FilterSet):
    cohort = django_filters.CharFilter(
        field_name="milestone__cohort__slug", help_text="Deliverables of this cohort (its slug)."
    )
    topic = django_filters.CharFilter(
        field_name="topic__slug", help_text="Deliverables of this topic (its slug)."
    )
    due_from = DayFilter(
        field_name="milestone__starts_at",
        lookup_expr="gte",
        help_text="Due on or after this day.",
    )
    due_until = DayFilter(
        field_name="milestone__starts_at",
        lookup_expr="lte",
        help_text="Due on or before this day.",
    )

    class Meta:
        model = Deliverable
        fields = ["cohort", "topic", "due_from", "due_until"]


class SubmissionFilter(FilterSet):
    deliverable = IdFilter(
        field_name="deliverable", help_text="Versions of this deliverable (its id)."
    )
    cohort = django_filters.CharFilter(
        field_name="deliverable__milestone__cohort__slug",
        help_text="Versions handed in in this cohort (its slug).",
    )
    topic = django_filters.CharFilter(
        field_name="deliverable__topic__slug", help_text="Versions of this topic's group."
    )
    kind = django_filters.ChoiceFilter(
        choices=Submission.Kind.choices, help_text="Only files, links or texts."
    )

    class Meta:
        model = Submission
        fields = ["deliverable", "cohort", "topic", "kind"]


class ReviewFilter(FilterSet):
    submission = IdFilter(field_name="submission", help_text="Reviews of this version (its id).")
    deliverable = IdFilter(
        field_name="submission__deliverable", help_text="Reviews of this deliverable's versions."
    )
    status = django_filters.ChoiceFilter(
        choices=Review.Status.choices, help_text="Only accepted ones, or only change requests."
    )

    class Meta:
        model = Review
        fields = ["submission", "deliverable", "status"]


# --- Views ------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List topics", description="The programme's six topics."),
    retrieve=extend_schema(summary="Read a topic"),
)
class TopicViewSet(ReadOnlyViewSet):
    serializer_class = TopicSerializer
    lookup_field = "slug"
    lookup_value_regex = SLUG
    ordering_fields = {"position": "position", "name": "name"}
    default_ordering_description = "in the programme's order"

    def get_queryset(self):
        return Topic.objects.order_by("position", "id")


@extend_schema_view(
    list=extend_schema(
        summary="List deliverables",
        description="Deliverables of the groups the caller works in or reviews (all, for "
        "organisers); soonest due first.",
    ),
    retrieve=extend_schema(summary="Read a deliverable"),
)
class DeliverableViewSet(ReadOnlyViewSet):
    serializer_class = DeliverableSerializer
    filterset_class = DeliverableFilter
    lookup_value_regex = ID
    ordering_fields = {"due_at": "milestone__starts_at", "title": "title"}
    default_ordering_description = "soonest due first"

    def get_queryset(self):
        return (
            Deliverable.objects.visible_to(self.request.user)
            .select_related("milestone__cohort", "topic")
            .order_by("milestone__starts_at", "topic__position", "id")
        )


@extend_schema_view(
    list=extend_schema(
        summary="List versions handed in",
        description="Versions of the deliverables of the groups the caller works in or "
        "reviews (all, for organisers); newest first.",
    ),
    retrieve=extend_schema(summary="Read a version"),
    create=extend_schema(
        summary="Hand in a version",
        description="A member hands in the next version of their group's deliverable: a file "
        "(multipart/form-data), a link or a text. Nothing is overwritten; after the due time "
        "it is marked late. The same checks as the workspace page: a file whose content is "
        "not what its name says is refused.",
        request={
            "multipart/form-data": HandInSerializer,
            "application/json": HandInSerializer,
        },
        responses={201: SubmissionSerializer},
    ),
)
class SubmissionViewSet(mixins.CreateModelMixin, ReadOnlyViewSet):
    serializer_class = SubmissionSerializer
    parser_classes = [MultiPartParser, JSONParser]  # a file, or a link or text
    pagination_class = CursorPagination
    filterset_class = SubmissionFilter
    lookup_value_regex = ID

    def get_queryset(self):
        return (
            Submission.objects.visible_to(self.request.user)
            .select_related("deliverable__milestone__cohort", "deliverable__topic", "member")
            .order_by("-id")
        )

    def create(self, request, *args, **kwargs):
        serializer = HandInSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        deliverable = data["deliverable"]
        member = own_member(request.user, deliverable.milestone.cohort, deliverable.topic)
        if member is None:
            raise PermissionDenied
        submission = services.hand_in_deliverable(
            deliverable,
            member=member,
            kind=data["kind"],
            file=data.get("file"),
            checked=data["checked"],
            link=data.get("link", ""),
            text=data.get("text", ""),
            comment=data.get("comment", ""),
        )
        submission = self.get_queryset().get(pk=submission.pk)
        location = reverse("api-v1:submission-detail", kwargs={"pk": submission.pk})
        return Response(
            self.get_serializer(submission).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": request.build_absolute_uri(location)},
        )


@extend_schema_view(
    list=extend_schema(
        summary="List reviews",
        description="Reviews of the versions the caller may see; newest first.",
    ),
    retrieve=extend_schema(summary="Read a review"),
)
class ReviewViewSet(ReadOnlyViewSet):
    serializer_class = ReviewSerializer
    filterset_class = ReviewFilter
    lookup_value_regex = ID
    ordering_fields = {"created_at": "created_at"}
    default_ordering_description = "newest first"

    def get_queryset(self):
        versions = Submission.objects.visible_to(self.request.user)
        return (
            Review.objects.filter(submission__in=versions)
            .select_related("submission", "reviewer")
            .order_by("-created_at", "-id")
        )
