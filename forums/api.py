"""The API of forums, recaps, speakers, transcripts and quotes, quote curation, and search.

Every object comes through its model's `visible_to(user)`, as on the pages: the public sees
what is published, organisers and admins also what is not yet. Curation calls
`forums.curation`, which checks who may curate; the API adds no rule of its own.
"""

import django_filters
from django.db.models import F, Prefetch
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from forums import curation, search
from forums.filters import SpeakerFilter, visible_forums
from forums.models import (
    Appearance,
    Forum,
    Quote,
    Recap,
    SearchEntry,
    Speaker,
    Theme,
    TranscriptTurn,
)
from forums.sanitize import render_markdown
from forums.views import (
    SEARCH_LIMIT,
    appearances_prefetch,
    attribute_highlights,
    with_attribution,
)
from topics.models import Topic
from wecity.api import (
    ApiView,
    BooleanFilter,
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


class SpeakerSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Speaker
        fields = ["slug", "name"]
        extra_kwargs = {
            "slug": {"help_text": "The speaker's identifier in the API and in page addresses."},
            "name": {"help_text": "The speaker's name."},
        }


class ThemeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Theme
        fields = ["id", "title", "position"]
        extra_kwargs = {
            "id": {"help_text": "The theme's id, to filter the transcript by."},
            "title": {"help_text": "The theme (议题) as the forum named it."},
            "position": {"help_text": "The theme's place in the forum, from 1."},
        }


class AppearanceSerializer(serializers.ModelSerializer):
    speaker = SpeakerSummarySerializer(help_text="Who spoke.")

    class Meta:
        model = Appearance
        fields = ["speaker", "role", "organisation", "title", "is_cohort_representative"]
        extra_kwargs = {
            "role": {"help_text": "The speaker's role at the forum."},
            "organisation": {"help_text": "The speaker's organisation as of the forum."},
            "title": {"help_text": "The speaker's job title as of the forum."},
            "is_cohort_representative": {
                "help_text": "A panelist presenting the cohort's discussion results (学员代表)."
            },
        }


class RecapSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Recap
        fields = ["headline", "status", "published_at"]
        extra_kwargs = {
            "headline": {"help_text": "The recap's headline."},
            "status": {"help_text": "Draft, scheduled or published; the public sees published."},
            "published_at": {"help_text": "When the recap went public."},
        }


class ForumSerializer(serializers.ModelSerializer):
    recap = RecapSummarySerializer(
        read_only=True, allow_null=True, help_text="The forum's recap, if it has one."
    )
    url = PageLinkField(help_text="The forum's recap page.")

    class Meta:
        model = Forum
        fields = ["slug", "title", "starts_at", "ends_at", "format", "location", "lede"]
        fields += ["recap", "url"]
        extra_kwargs = {
            "slug": {"help_text": "The forum's identifier in the API and in page addresses."},
            "title": {"help_text": "The forum's title."},
            "starts_at": {"help_text": "When the forum starts (UTC offset included)."},
            "ends_at": {"help_text": "When the forum ends."},
            "format": {"help_text": "Online or on site."},
            "location": {"help_text": "Where an on-site forum takes place."},
            "lede": {"help_text": "The forum's introduction."},
        }


@extend_schema_field(OpenApiTypes.URI)
class TranscriptLinkField(serializers.Field):
    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, forum):
        path = reverse("api-v1:forum-turn-list", kwargs={"forum_slug": forum.slug})
        return self.context["request"].build_absolute_uri(path)


class ForumDetailSerializer(ForumSerializer):
    themes = ThemeSerializer(many=True, read_only=True, help_text="The themes, in order.")
    appearances = AppearanceSerializer(
        many=True, read_only=True, help_text="The speakers and their roles, in the recap's order."
    )
    released_topics = serializers.SlugRelatedField(
        many=True, read_only=True, slug_field="slug", help_text="Topics released at the forum."
    )
    transcript = TranscriptLinkField(help_text="The forum's transcript, turn by turn.")

    class Meta(ForumSerializer.Meta):
        fields = [*ForumSerializer.Meta.fields, "themes", "appearances", "released_topics"]
        fields += ["transcript"]


class HighlightSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="quote.pk", help_text="The quote's id.")
    text = serializers.CharField(source="quote.text", help_text="The quote.")
    speaker = SpeakerSummarySerializer(source="quote.speaker", help_text="Who said it.")
    organisation = serializers.CharField(help_text="The speaker's organisation that day.")
    title = serializers.CharField(help_text="The speaker's job title that day.")


class RecapSerializer(serializers.ModelSerializer):
    forum = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, help_text="The forum the recap is about."
    )
    lede = serializers.CharField(source="forum.lede", help_text="The forum's introduction.")
    body_html = serializers.SerializerMethodField(
        help_text="The body as sanitised HTML, as the recap page shows it."
    )
    highlights = serializers.SerializerMethodField(
        help_text="The featured quotes (亮点速读), in the admins' order."
    )
    url = PageLinkField(help_text="The recap page.")

    class Meta:
        model = Recap
        fields = ["forum", "headline", "lede", "body", "body_html", "status", "publish_at"]
        fields += ["published_at", "updated_at", "highlights", "url"]
        extra_kwargs = {
            "headline": {"help_text": "The recap's headline."},
            "body": {"help_text": "The recap's body, in Markdown."},
            "status": {"help_text": "Draft, scheduled or published; the public sees published."},
            "publish_at": {"help_text": "When a scheduled recap goes public."},
            "published_at": {"help_text": "When the recap went public."},
            "updated_at": {"help_text": "When the recap was last changed."},
        }

    def get_body_html(self, recap) -> str:
        return str(render_markdown(recap.body))

    @extend_schema_field(HighlightSerializer(many=True))
    def get_highlights(self, recap):
        forum = recap.forum
        highlights = attribute_highlights(forum.highlight_quotes, forum.appearances.all())
        return HighlightSerializer(highlights, many=True, context=self.context).data


class SpeakerAppearanceSerializer(serializers.ModelSerializer):
    forum = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, help_text="The forum spoken at."
    )
    forum_title = serializers.CharField(source="forum.title", help_text="The forum's title.")

    class Meta:
        model = Appearance
        fields = ["forum", "forum_title", "role", "organisation", "title"]
        fields += ["is_cohort_representative"]
        extra_kwargs = AppearanceSerializer.Meta.extra_kwargs


class SpeakerSerializer(serializers.ModelSerializer):
    photo = serializers.ImageField(read_only=True, help_text="The speaker's photo, if any.")
    url = PageLinkField(help_text="The speaker's page.")

    class Meta:
        model = Speaker
        fields = ["slug", "name", "organisation", "title", "bio", "photo", "url"]
        extra_kwargs = {
            **SpeakerSummarySerializer.Meta.extra_kwargs,
            "organisation": {"help_text": "The speaker's organisation now."},
            "title": {"help_text": "The speaker's job title now."},
            "bio": {"help_text": "A short biography."},
        }


class SpeakerDetailSerializer(SpeakerSerializer):
    appearances = SpeakerAppearanceSerializer(
        many=True, read_only=True, help_text="The forums the speaker spoke at, latest first."
    )

    class Meta(SpeakerSerializer.Meta):
        fields = [*SpeakerSerializer.Meta.fields, "appearances"]


class TurnSerializer(serializers.ModelSerializer):
    theme = serializers.PrimaryKeyRelatedField(read_only=True, help_text="The theme's id.")
    speaker = SpeakerSummarySerializer(read_only=True, help_text="Who spoke.")
    paragraphs = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="The turn's paragraphs."
    )

    class Meta:
        model = TranscriptTurn
        fields = ["id", "theme", "position", "speaker", "body", "paragraphs"]
        extra_kwargs = {
            "id": {"help_text": "The turn's id."},
            "position": {"help_text": "The turn's place in its theme, from 1."},
            "body": {"help_text": "What was said; paragraphs separated by a blank line."},
        }


class QuoteSerializer(serializers.ModelSerializer):
    forum = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, help_text="The forum the quote is from."
    )
    theme = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The theme's id, where known."
    )
    speaker = SpeakerSummarySerializer(read_only=True, help_text="Who said it.")
    organisation_then = serializers.CharField(
        read_only=True, allow_null=True, help_text="The speaker's organisation that day."
    )
    title_then = serializers.CharField(
        read_only=True, allow_null=True, help_text="The speaker's job title that day."
    )
    url = serializers.HyperlinkedIdentityField(
        view_name="forums:quote-detail", help_text="The quote's own page."
    )

    class Meta:
        model = Quote
        fields = ["id", "text", "state", "rejection_reason", "is_featured"]
        fields += ["highlight_position", "forum", "theme", "speaker", "organisation_then"]
        fields += ["title_then", "created_at", "updated_at", "url"]
        extra_kwargs = {
            "id": {"help_text": "The quote's id."},
            "text": {"help_text": "The speaker's words."},
            "state": {"help_text": "Proposed, approved or rejected; the public sees approved."},
            "rejection_reason": {"help_text": "Why an admin rejected the quote."},
            "is_featured": {"help_text": "Whether the quote is one of its forum's highlights."},
            "highlight_position": {"help_text": "The quote's place in the highlights, from 1."},
            "created_at": {"help_text": "When the quote was proposed."},
            "updated_at": {"help_text": "When the quote was last changed."},
        }


class ApproveSerializer(StrictSerializer):
    text = serializers.CharField(
        required=False, help_text="The quote's words, if they change on approval."
    )


class RejectSerializer(StrictSerializer):
    reason = serializers.CharField(help_text="Why the quote is rejected.")


class SearchQuerySerializer(StrictSerializer):
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="The words to find, Chinese or English; only the first 100 characters count.",
    )
    kind = serializers.ChoiceField(
        choices=SearchEntry.Kind.choices, required=False, help_text="Only results of this kind."
    )


class SearchResultSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=SearchEntry.Kind.choices, help_text="What was found.")
    kind_label = serializers.CharField(help_text="The kind in the user's language.")
    title = serializers.CharField(help_text="The recap's headline, or the speaker's name.")
    snippet = serializers.CharField(source="snippet_text", help_text="The text around a match.")
    context = serializers.CharField(help_text="The forum a turn or quote is from.")
    url = serializers.SerializerMethodField(help_text="Where it is on the portal.")
    is_public = serializers.BooleanField(help_text="False for what only organisers see yet.")

    def get_url(self, result) -> str:
        return self.context["request"].build_absolute_uri(result.url)


class SearchSerializer(serializers.Serializer):
    query = serializers.CharField(help_text="The query as searched.")
    count = serializers.IntegerField(help_text="How many results there are in all.")
    counts = serializers.DictField(
        child=serializers.IntegerField(), help_text="How many results there are of each kind."
    )
    results = SearchResultSerializer(
        many=True, help_text=f"The best {SEARCH_LIMIT} results, best first."
    )


# --- Filters ----------------------------------------------------------------------------------


class ForumFilter(FilterSet):
    format = django_filters.ChoiceFilter(
        choices=Forum.Format.choices, help_text="Only online or on-site forums."
    )
    starts_from = DayFilter(
        field_name="starts_at", lookup_expr="gte", help_text="Forums on or after this day."
    )
    starts_until = DayFilter(
        field_name="starts_at", lookup_expr="lte", help_text="Forums on or before this day."
    )
    topic = django_filters.ModelChoiceFilter(
        field_name="released_topics",
        queryset=Topic.objects.all(),
        to_field_name="slug",
        help_text="Forums that released this topic (its slug).",
    )

    class Meta:
        model = Forum
        fields = ["format", "starts_from", "starts_until", "topic"]


class RecapFilter(FilterSet):
    status = django_filters.ChoiceFilter(
        choices=Recap.Status.choices, help_text="Only recaps in this state."
    )

    class Meta:
        model = Recap
        fields = ["status"]


@extend_schema_field(
    {
        "type": "string",
        "description": "Speakers of this forum (its slug); with `role`, in that role.",
    }
)
class ForumSlugFilter(django_filters.ModelChoiceFilter):
    """A forum the caller may see, by its slug (a callable queryset hides the type)."""


class ApiSpeakerFilter(FilterSet, SpeakerFilter):
    """The speaker directory's filter, with the forum named by its slug as everywhere here."""

    forum = ForumSlugFilter(queryset=visible_forums, to_field_name="slug", method="by_appearance")


class TurnFilter(FilterSet):
    theme = IdFilter(field_name="theme", help_text="Only this theme's turns.")
    speaker = django_filters.CharFilter(
        field_name="speaker__slug", help_text="Only this speaker's turns (their slug)."
    )

    class Meta:
        model = TranscriptTurn
        fields = ["theme", "speaker"]


class QuoteFilter(FilterSet):
    forum = django_filters.CharFilter(
        field_name="forum__slug", help_text="Quotes from this forum (its slug)."
    )
    speaker = django_filters.CharFilter(
        field_name="speaker__slug", help_text="Quotes of this speaker (their slug)."
    )
    state = django_filters.ChoiceFilter(
        choices=Quote.State.choices, help_text="Only quotes in this state."
    )
    is_featured = BooleanFilter(help_text="Only the highlights (`true`), or the others.")
    q = django_filters.CharFilter(
        field_name="text", lookup_expr="icontains", help_text="Quotes whose text contains this."
    )

    class Meta:
        model = Quote
        fields = ["forum", "speaker", "state", "is_featured", "q"]


# --- Views ------------------------------------------------------------------------------------

FORUM_SLUG = OpenApiParameter(
    "forum_slug", str, OpenApiParameter.PATH, description="The forum's slug."
)


@extend_schema_view(
    list=extend_schema(summary="List forums", description="Forums the caller may see."),
    retrieve=extend_schema(
        summary="Read a forum",
        description="A forum with its themes, speakers by role and the released topics.",
    ),
)
class ForumViewSet(ReadOnlyViewSet):
    lookup_field = "slug"
    lookup_value_regex = SLUG
    filterset_class = ForumFilter
    ordering_fields = {"starts_at": "starts_at", "title": "title"}
    default_ordering_description = "latest first"

    def get_queryset(self):
        forums = Forum.objects.visible_to(self.request.user).select_related("recap")
        if self.action == "retrieve":
            forums = forums.prefetch_related(
                appearances_prefetch(),
                Prefetch("themes", queryset=Theme.objects.order_by("position")),
                Prefetch("released_topics", queryset=Topic.objects.order_by("position", "id")),
            )
        return forums.order_by(F("starts_at").desc(nulls_last=True), "-id")

    def get_serializer_class(self):
        return ForumDetailSerializer if self.action == "retrieve" else ForumSerializer


class TranscriptPagination(CursorPagination):
    """In the order spoken: theme by theme; within a theme the cursor counts its turns."""

    ordering = ("theme_position", "position")


@extend_schema_view(
    list=extend_schema(
        summary="Read a forum's transcript",
        description="The forum's transcript turns, theme by theme, in the order spoken.",
        parameters=[FORUM_SLUG],
    ),
    retrieve=extend_schema(summary="Read a transcript turn", parameters=[FORUM_SLUG]),
)
class TurnViewSet(ReadOnlyViewSet):
    serializer_class = TurnSerializer
    pagination_class = TranscriptPagination
    filterset_class = TurnFilter
    lookup_value_regex = ID

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular reading the view
            return TranscriptTurn.objects.none()
        # A forum the caller may not see has no transcript for them: 404, as for the forum.
        forum = get_object_or_404(
            Forum.objects.visible_to(self.request.user), slug=self.kwargs["forum_slug"]
        )
        return (
            TranscriptTurn.objects.filter(theme__forum=forum)
            .select_related("speaker")
            .annotate(theme_position=F("theme__position"))
            .order_by("theme_position", "position")
        )


def recaps_with_highlights(user):
    """Recaps of the forums `user` may see, with what their highlights need prefetched."""
    return (
        Recap.objects.filter(forum__in=Forum.objects.visible_to(user))
        .select_related("forum")
        .prefetch_related(
            Prefetch(
                "forum__appearances",
                queryset=Appearance.objects.select_related("speaker").order_by("position", "id"),
            ),
            Prefetch(
                "forum__quotes",
                queryset=Quote.objects.highlights().select_related("speaker"),
                to_attr="highlight_quotes",
            ),
        )
    )


@extend_schema_view(
    list=extend_schema(
        summary="List recaps", description="Published recaps; organisers also see drafts."
    ),
    retrieve=extend_schema(summary="Read a recap", description="A forum's recap, by its slug."),
)
class RecapViewSet(ReadOnlyViewSet):
    serializer_class = RecapSerializer
    filterset_class = RecapFilter
    lookup_field = "forum__slug"
    lookup_url_kwarg = "forum_slug"
    lookup_value_regex = SLUG
    ordering_fields = {"published_at": "published_at", "updated_at": "updated_at"}
    default_ordering_description = "latest published first"

    def get_queryset(self):
        return recaps_with_highlights(self.request.user).order_by(
            F("published_at").desc(nulls_last=True), "-id"
        )


@extend_schema_view(
    list=extend_schema(
        summary="List speakers",
        description="Speakers of the forums the caller may see; `q` searches names, "
        "organisations and titles, as the speaker directory does.",
    ),
    retrieve=extend_schema(
        summary="Read a speaker", description="A speaker and the forums they spoke at."
    ),
)
class SpeakerViewSet(ReadOnlyViewSet):
    lookup_field = "slug"
    lookup_value_regex = SLUG
    filterset_class = ApiSpeakerFilter
    ordering_fields = {"name": "name", "organisation": "organisation"}
    default_ordering_description = "by name"

    def get_queryset(self):
        speakers = Speaker.objects.visible_to(self.request.user).order_by("name", "id")
        if self.action == "retrieve":
            appearances = (
                Appearance.objects.filter(forum__in=Forum.objects.visible_to(self.request.user))
                .select_related("forum")
                .order_by(F("forum__starts_at").desc(nulls_last=True), "forum_id", "position")
            )
            speakers = speakers.prefetch_related(Prefetch("appearances", queryset=appearances))
        return speakers

    def get_serializer_class(self):
        return SpeakerDetailSerializer if self.action == "retrieve" else SpeakerSerializer


QUOTE_RESPONSES = {200: QuoteSerializer}


@extend_schema_view(
    list=extend_schema(
        summary="List quotes",
        description="Approved quotes of published forums; organisers and admins see all, "
        "proposed and rejected too. Newest first.",
    ),
    retrieve=extend_schema(summary="Read a quote"),
)
class QuoteViewSet(ReadOnlyViewSet):
    serializer_class = QuoteSerializer
    pagination_class = CursorPagination
    filterset_class = QuoteFilter
    lookup_value_regex = ID

    def get_queryset(self):
        quotes = Quote.objects.visible_to(self.request.user).select_related("forum", "speaker")
        return with_attribution(quotes).order_by("-id")

    def curated(self, quote):
        return Response(self.get_serializer(self.get_queryset().get(pk=quote.pk)).data)

    @extend_schema(
        summary="Approve a quote",
        description="Admins only: a proposed quote becomes public (with new words, if given).",
        request=ApproveSerializer,
        responses=QUOTE_RESPONSES,
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def approve(self, request, pk=None):
        quote = self.get_object()
        data = self.validated(ApproveSerializer)
        return self.curated(curation.approve_quote(quote, user=request.user, **data))

    @extend_schema(
        summary="Reject a quote",
        description="Admins only: a proposed or approved quote is rejected, with a reason.",
        request=RejectSerializer,
        responses=QUOTE_RESPONSES,
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def reject(self, request, pk=None):
        quote = self.get_object()
        data = self.validated(RejectSerializer)
        return self.curated(curation.reject_quote(quote, user=request.user, **data))

    @extend_schema(
        summary="Feature a quote",
        description="Admins only: an approved quote joins the end of its forum's highlights.",
        request=None,
        responses=QUOTE_RESPONSES,
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def feature(self, request, pk=None):
        quote = self.get_object()
        self.validated(StrictSerializer)
        return self.curated(curation.feature_quote(quote, user=request.user))

    @extend_schema(
        summary="Unfeature a quote",
        description="Admins only: the quote leaves its forum's highlights.",
        request=None,
        responses=QUOTE_RESPONSES,
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def unfeature(self, request, pk=None):
        quote = self.get_object()
        self.validated(StrictSerializer)
        return self.curated(curation.unfeature_quote(quote, user=request.user))

    def validated(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class SearchView(ApiView):
    """The portal's search, as its search page: recaps, speakers, quotes and transcripts."""

    @extend_schema(
        summary="Search",
        description=f"The best {SEARCH_LIMIT} matches of `q` the caller may see; Chinese "
        "is found without spaces between words.",
        parameters=[SearchQuerySerializer],
        responses={200: SearchSerializer},
    )
    def get(self, request):
        # A plain dict: DRF would read an empty `kind=` of a QueryDict as left out.
        params = SearchQuerySerializer(data=request.query_params.dict())
        params.is_valid(raise_exception=True)
        query = " ".join(params.validated_data.get("q", "").split())[: search.MAX_QUERY_LENGTH]
        kind = params.validated_data.get("kind") or None
        counts = search.count_matches(query, user=request.user)
        results = search.search(query, user=request.user, limit=SEARCH_LIMIT, kind=kind)
        data = {
            "query": query,
            "count": counts.get(kind, 0) if kind else sum(counts.values()),
            "counts": counts,
            "results": results,
        }
        return Response(SearchSerializer(data, context={"request": request}).data)
