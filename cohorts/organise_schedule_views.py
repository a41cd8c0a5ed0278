"""The organisers' schedule pages, under /organise/cohorts/<slug>/: the milestones (with the
default schedule generator), adding, changing and removing one, and the reminders' outbox
and log. Times are read and shown in the cohort's time zone.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from cohorts import reminders, schedule
from cohorts.forms import MilestoneForm, ReminderLogFilterForm
from cohorts.models import Cohort, Milestone, Reminder
from cohorts.programme_views import add_service_errors
from forums.organise_views import OrganiserRequiredMixin

LOG_PAGE_SIZE = 50
OUTBOX_DAYS = 7


def schedule_url(cohort, anchor=""):
    url = reverse("organise-schedule:milestones", kwargs={"slug": cohort.slug})
    return f"{url}#{anchor}" if anchor else url


class CohortZoneMixin:
    """Forms read, and pages show, times in the cohort's time zone."""

    def dispatch(self, request, *args, **kwargs):
        self.cohort = get_object_or_404(Cohort, slug=kwargs["slug"])
        with timezone.override(self.cohort.zone):
            return super().dispatch(request, *args, **kwargs)


class MilestoneListView(OrganiserRequiredMixin, CohortZoneMixin, View):
    """The cohort's schedule, with what each milestone's reminders have done."""

    def get(self, request, slug):
        cohort = self.cohort
        counts = {
            status: Count("reminders", filter=Q(reminders__status=status))
            for status in (Reminder.Status.SENT, Reminder.Status.FAILED)
        }
        milestones = list(
            cohort.milestones.select_related("topic")
            .annotate(sent_count=counts["sent"], failed_count=counts["failed"])
            .order_by("starts_at", "id")
        )
        return render(
            request,
            "cohorts/organise/milestones.html",
            {"cohort": cohort, "milestones": milestones, "now": timezone.now()},
        )


class GenerateScheduleView(OrganiserRequiredMixin, CohortZoneMixin, View):
    http_method_names = ["post"]

    def post(self, request, slug):
        try:
            milestones = schedule.generate_default_schedule(self.cohort, user=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("The default schedule is in place: %(count)s milestones. Adjust them below.")
                % {"count": len(milestones)},
            )
        return redirect(schedule_url(self.cohort))


class MilestoneFormView(OrganiserRequiredMixin, CohortZoneMixin, View):
    template_name = "cohorts/organise/milestone_form.html"

    def get_milestone(self):
        return None

    def render_form(self, request, form, *, status=200):
        return render(
            request,
            self.template_name,
            {"cohort": self.cohort, "form": form, "milestone": self.get_milestone()},
            status=status,
        )

    def make_form(self, data=None):
        return MilestoneForm(
            data,
            instance=self.get_milestone(),
            cohort_topics=list(schedule.cohort_topics(self.cohort)),
        )

    def get(self, request, slug, **kwargs):
        return self.render_form(request, self.make_form())

    def post(self, request, slug, **kwargs):
        form = self.make_form(request.POST)
        if form.is_valid():
            try:
                milestone = self.save(form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, self.success_message % {"title": milestone.title})
                return redirect(schedule_url(self.cohort, f"milestone-{milestone.pk}"))
        return self.render_form(request, form, status=400)


class MilestoneCreateView(MilestoneFormView):
    @property
    def success_message(self):
        return _("“%(title)s” is added to the schedule.")

    def save(self, data):
        return schedule.create_milestone(self.cohort, user=self.request.user, **data)


class MilestoneEditView(MilestoneFormView):
    @property
    def success_message(self):
        return _("“%(title)s” is saved; its reminders follow the new details.")

    def get_milestone(self):
        if not hasattr(self, "milestone"):
            self.milestone = get_object_or_404(
                Milestone.objects.select_related("cohort", "topic"),
                cohort=self.cohort,
                pk=self.kwargs["pk"],
            )
        return self.milestone

    def save(self, data):
        return schedule.update_milestone(self.get_milestone(), user=self.request.user, **data)


class MilestoneRemoveView(OrganiserRequiredMixin, CohortZoneMixin, View):
    """A confirmation page saying what goes with the milestone, then the removal."""

    template_name = "cohorts/organise/milestone_remove.html"

    def get_milestone(self, pk):
        return get_object_or_404(
            Milestone.objects.select_related("topic").annotate(
                deliverable_count=Count("deliverables", distinct=True),
                unsent_count=Count(
                    "reminders",
                    filter=Q(reminders__status__in=reminders.UNSENT),
                    distinct=True,
                ),
            ),
            cohort=self.cohort,
            pk=pk,
        )

    def get(self, request, slug, pk):
        milestone = self.get_milestone(pk)
        return render(request, self.template_name, {"cohort": self.cohort, "milestone": milestone})

    def post(self, request, slug, pk):
        milestone = self.get_milestone(pk)
        try:
            schedule.remove_milestone(milestone, user=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(schedule_url(self.cohort, f"milestone-{milestone.pk}"))
        messages.success(
            request, _("“%(title)s” is removed from the schedule.") % {"title": milestone.title}
        )
        return redirect(schedule_url(self.cohort))


class SendRemindersNowView(OrganiserRequiredMixin, CohortZoneMixin, View):
    http_method_names = ["post"]

    def post(self, request, slug, pk):
        milestone = get_object_or_404(
            Milestone.objects.select_related("cohort"), cohort=self.cohort, pk=pk
        )
        try:
            count = schedule.send_milestone_reminders_now(milestone, user=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            if count:
                messages.success(
                    request,
                    ngettext(
                        "%(count)s reminder about “%(title)s” is on its way.",
                        "%(count)s reminders about “%(title)s” are on their way.",
                        count,
                    )
                    % {"count": count, "title": milestone.title},
                )
            else:
                messages.info(
                    request,
                    _("Everyone concerned has had this reminder about “%(title)s” already.")
                    % {"title": milestone.title},
                )
        if request.POST.get("next") == "reminders":
            return redirect("organise-schedule:reminders", slug=slug)
        return redirect(schedule_url(self.cohort, f"milestone-{milestone.pk}"))


class ReminderLogView(OrganiserRequiredMixin, CohortZoneMixin, View):
    """What will go out in the next days, and every reminder's fate, filterable."""

    template_name = "cohorts/organise/reminders.html"

    def get(self, request, slug):
        cohort = self.cohort
        milestones = list(cohort.milestones.order_by("starts_at", "id"))
        form = ReminderLogFilterForm(request.GET or None, milestones=milestones)
        log = (
            Reminder.objects.filter(member__cohort=cohort)
            .select_related("milestone", "member")
            .order_by("-due_at", "-id")
        )
        if form.is_valid():
            data = form.cleaned_data
            if data["status"]:
                log = log.filter(status=data["status"])
            if data["kind"]:
                log = log.filter(milestone__kind=data["kind"])
            if data["milestone"]:
                log = log.filter(milestone_id=data["milestone"])
            if data["q"]:
                log = log.filter(
                    Q(member__name__icontains=data["q"])
                    | Q(member__user__email__icontains=data["q"])
                )
        totals = dict(
            Reminder.objects.filter(member__cohort=cohort)
            .values_list("status")
            .annotate(count=Count("id"))
            .order_by()
        )
        page = Paginator(log, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
        page.object_list = list(page.object_list)
        query = request.GET.copy()
        query.pop("page", None)
        return render(
            request,
            self.template_name,
            {
                "cohort": cohort,
                "outbox": reminders.outbox(cohort, days=OUTBOX_DAYS),
                "outbox_days": OUTBOX_DAYS,
                "form": form,
                "page_obj": page,
                "log": page.object_list,
                "query": query.urlencode(),
                "totals": [
                    {"status": value, "label": label, "count": totals.get(value, 0)}
                    for value, label in Reminder.Status.choices
                ],
            },
        )
