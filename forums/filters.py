"""The filters of list pages: the speaker directory, the curation queue and the audit log.

Each FilterSet takes the request, so that its choices come through `visible_to(user)`.
"""

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Q
from django.utils.choices import CallableChoiceIterator
from django.utils.translation import gettext_lazy as _

from forums.models import Appearance, CurationEntry, Forum, Quote, Speaker, can_see_unpublished
from wecity.filters import DayFilter
from wecity.pagecache import FORUMS, SPEAKERS, remember
from wecity.widgets import Select

# How many organisations the speaker directory's select offers (those with most speakers).
ORGANISATION_CHOICES = 100


def visibility(user):
    """What of the speakers and forums `user` sees: "all", or "public" ones only."""
    return "all" if can_see_unpublished(user) else "public"


def visible_forums(request):
    # A choice shows the title: the rest of each row stays in the database.
    return Forum.objects.visible_to(request.user if request else None).only("id", "title")


class SpeakerFilter(django_filters.FilterSet):
    """Search by name, organisation or title; narrow by organisation, role and forum.

    A role and a forum together mean one appearance: the speaker in that role at that forum.
    """

    q = django_filters.CharFilter(
        label=_("Search"),
        method="search",
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Name, organisation or title")}
        ),
    )
    # Any organisation typed into the address filters; the select offers the most common.
    organisation = django_filters.CharFilter(label=_("Organisation"), widget=Select)
    role = django_filters.ChoiceFilter(
        label=_("Role"),
        choices=Appearance.Role.choices,
        empty_label=_("Any role"),
        method="by_appearance",
        widget=Select,
    )
    forum = django_filters.ModelChoiceFilter(
        label=_("Forum"),
        queryset=visible_forums,
        empty_label=_("Any forum"),
        method="by_appearance",
        widget=Select,
    )

    class Meta:
        model = Speaker
        fields = ["q", "organisation", "role", "forum"]

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        chosen = (self.data or {}).get("organisation", "")

        def common_organisations():
            return list(
                Speaker.objects.visible_to(request.user)
                .exclude(organisation="")
                .values("organisation")
                .annotate(speakers=Count("id"))
                .order_by("-speakers", "organisation")
                .values_list("organisation", flat=True)[:ORGANISATION_CHOICES]
            )

        def choices():
            # The ORGANISATION_CHOICES organisations with the most speakers, in name order,
            # and the one chosen: the page never lists thousands of organisations. Counted
            # over every speaker, so kept until a speaker or forum changes.
            common = remember(
                f"speaker-organisations:{visibility(request.user)}",
                [SPEAKERS, FORUMS],
                common_organisations,
            )
            names = sorted({*common, *([chosen] if chosen else [])})
            return [("", _("Any organisation"))] + [(name, name) for name in names]

        # A callable: the query runs only when the form is built.
        self.filters["organisation"].extra["widget"] = Select(
            choices=CallableChoiceIterator(choices)
        )

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value) | Q(organisation__icontains=value) | Q(title__icontains=value)
        )

    def by_appearance(self, queryset, name, value):
        # Both filters are applied together in filter_queryset.
        return queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        role, forum = self.form.cleaned_data.get("role"), self.form.cleaned_data.get("forum")
        if not role and not forum:
            return queryset
        appearances = Appearance.objects.filter(
            speaker=OuterRef("pk"), forum__in=visible_forums(self.request)
        )
        if role:
            appearances = appearances.filter(role=role)
        if forum:
            appearances = appearances.filter(forum=forum)
        return queryset.filter(Exists(appearances))


def curation_forums(request):
    return Forum.objects.all()


class QuoteFilter(django_filters.FilterSet):
    """The curation queue: by forum, speaker and state; proposed quotes unless asked otherwise."""

    forum = django_filters.ModelChoiceFilter(
        label=_("Forum"),
        queryset=curation_forums,
        empty_label=_("Any forum"),
        widget=Select,
    )
    speaker = django_filters.ModelChoiceFilter(
        label=_("Speaker"),
        queryset=Speaker.objects.order_by("name", "id"),
        empty_label=_("Any speaker"),
        widget=Select,
    )
    state = django_filters.ChoiceFilter(
        label=_("State"),
        choices=Quote.State.choices,
        empty_label=_("Any state"),
        widget=Select,
    )

    class Meta:
        model = Quote
        fields = ["forum", "speaker", "state"]

    def __init__(self, data=None, *args, **kwargs):
        if data is not None and "state" not in data:
            data = data.copy()
            data["state"] = Quote.State.PROPOSED
        super().__init__(data, *args, **kwargs)


def curation_actors(request):
    """The users who have acted in the audit trail."""
    return get_user_model().objects.filter(
        pk__in=CurationEntry.objects.exclude(actor=None).values("actor")
    )


class DateInput(forms.DateInput):
    input_type = "date"


class CurationEntryFilter(django_filters.FilterSet):
    """The audit log: by action, actor, forum, speaker and the days (in the portal's zone)."""

    action = django_filters.ChoiceFilter(
        label=_("Action"),
        choices=CurationEntry.Action.choices,
        empty_label=_("Any action"),
        widget=Select,
    )
    actor = django_filters.ModelChoiceFilter(
        label=_("By"),
        queryset=curation_actors,
        empty_label=_("Anyone"),
        widget=Select,
    )
    forum = django_filters.ModelChoiceFilter(
        label=_("Forum"),
        queryset=curation_forums,
        empty_label=_("Any forum"),
        widget=Select,
    )
    speaker = django_filters.ModelChoiceFilter(
        label=_("Speaker"),
        queryset=Speaker.objects.order_by("name", "id"),
        empty_label=_("Any speaker"),
        widget=Select,
    )
    since = DayFilter(label=_("From"), field_name="created_at", lookup_expr="gte", widget=DateInput)
    until = DayFilter(label=_("To"), field_name="created_at", lookup_expr="lte", widget=DateInput)

    class Meta:
        model = CurationEntry
        fields = ["action", "actor", "forum", "speaker", "since", "until"]
