"""Public pages of the cohorts: schedule and the directory of members who opted in."""

from itertools import groupby

from django.db.models import Count
from django.views.generic import DetailView, ListView

from cohorts.models import Cohort, Member
from wecity.render import EvaluatedListMixin

PAGE_SIZE = 20


def cohorts_with_counts():
    # A GROUP BY query drops Meta.ordering, so the order is spelled out for the paginator.
    return Cohort.objects.annotate(member_count=Count("members")).order_by("-starts_on", "-id")


class CohortListView(EvaluatedListMixin, ListView):
    template_name = "cohorts/cohort_list.html"
    context_object_name = "cohorts"
    paginate_by = PAGE_SIZE

    def get_queryset(self):
        return cohorts_with_counts()


class CohortDetailView(DetailView):
    template_name = "cohorts/cohort_detail.html"
    context_object_name = "cohort"

    def get_queryset(self):
        return cohorts_with_counts()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        cohort = self.object
        milestones = cohort.milestones.select_related("topic").order_by("starts_at", "id")
        # Only members who chose to be listed: the others must never reach the page.
        members = list(
            Member.objects.public()
            .filter(cohort=cohort)
            .select_related("topic")
            .order_by("topic__position", "topic_id", "name", "id")
        )
        directory = []
        for _topic_id, group in groupby(members, key=lambda member: member.topic_id):
            topic_members = list(group)
            directory.append({"topic": topic_members[0].topic, "members": topic_members})
        context.update(milestones=list(milestones), directory=directory)
        return context
