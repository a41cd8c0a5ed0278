"""Public pages of the six topics."""

from django.utils import timezone
from django.views.generic import DetailView, ListView

from cohorts.models import Cohort, Member
from topics.models import Deliverable, Topic
from wecity.render import EvaluatedListMixin


class TopicListView(EvaluatedListMixin, ListView):
    template_name = "topics/topic_list.html"
    context_object_name = "topics"
    queryset = Topic.objects.order_by("position", "id")


class TopicDetailView(DetailView):
    """A topic's brief, and in the latest cohort its public members and what is due next."""

    template_name = "topics/topic_detail.html"
    context_object_name = "topic"
    queryset = Topic.objects.all()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        topic = self.object
        cohort = Cohort.objects.first()  # the latest: cohorts are ordered by -starts_on
        members, deliverables = [], []
        if cohort:
            members = list(
                Member.objects.public().filter(cohort=cohort, topic=topic).order_by("name", "id")
            )
            deliverables = list(
                Deliverable.objects.filter(
                    topic=topic,
                    milestone__cohort=cohort,
                    milestone__starts_at__gte=timezone.now(),
                )
                .select_related("milestone")
                .order_by("milestone__starts_at", "id")
            )
        context.update(
            cohort=cohort,
            members=members,
            upcoming_deliverables=deliverables,
        )
        return context
