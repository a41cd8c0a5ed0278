"""The schedule as members and calendar apps see it: a member's schedule page (list and
month), their reminder preferences, and the iCalendar feeds (the cohort's public one, and
each member's private one behind a secret address).
"""

import datetime

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views import View

from cohorts import services
from cohorts.calendars import month_view, programme_months, schedule_calendar
from cohorts.forms import ReminderPreferencesForm
from cohorts.mail import absolute_url
from cohorts.models import Cohort, Member, Milestone, ReminderOptOut
from cohorts.programme_views import add_service_errors, own_membership
from topics.boards import cells, group_deliverables

LIST, MONTH = "list", "month"


def member_milestones(member):
    return list(Milestone.objects.for_member(member).select_related("cohort", "topic"))


def chosen_month(cohort, value, *, today):
    """The month asked for (YYYY-MM) if the programme has it; else today's, or the first."""
    months = programme_months(cohort)
    try:
        asked = datetime.datetime.strptime(value or "", "%Y-%m").date()
    except ValueError:
        asked = None
    if asked in months:
        return asked
    this_month = today.replace(day=1)
    return this_month if this_month in months else months[0]


class ScheduleView(LoginRequiredMixin, View):
    """A member's schedule in their cohort's time zone: a list by month, or a month grid."""

    template_name = "cohorts/schedule.html"

    def get(self, request, cohort):
        member = own_membership(request.user, cohort)
        cohort = member.cohort
        view = MONTH if request.GET.get("view") == MONTH else LIST
        milestones = member_milestones(member)
        group = cells(group_deliverables(cohort_id=cohort.pk, topic_id=member.topic_id))
        by_milestone = {}
        for cell in group:
            by_milestone.setdefault(cell.deliverable.milestone_id, []).append(cell)
        for milestone in milestones:
            milestone.group_cells = by_milestone.get(milestone.pk, [])
        today = timezone.now().astimezone(cohort.zone).date()
        context = {
            "member": member,
            "cohort": cohort,
            "view": view,
            "milestones": milestones,
            "months": months_of(milestones, cohort.zone),
            "feed_url": absolute_url(member_feed_path(member)) if member.calendar_token else "",
            "public_feed_url": absolute_url(cohort_feed_path(cohort)),
            "now": timezone.now(),
        }
        if view == MONTH:
            month = chosen_month(cohort, request.GET.get("month"), today=today)
            context["month"] = month_view(cohort, milestones, month=month, today=today)
        return render(request, self.template_name, context)


def months_of(milestones, zone):
    """The milestones grouped by their month in `zone`: [(first day, [milestone, …])]."""
    months = {}
    for milestone in milestones:
        first = milestone.starts_at.astimezone(zone).date().replace(day=1)
        months.setdefault(first, []).append(milestone)
    return list(months.items())


def member_feed_path(member):
    return reverse("schedule:member-feed", kwargs={"token": member.calendar_token})


def cohort_feed_path(cohort):
    return reverse("schedule:cohort-feed", kwargs={"slug": cohort.slug})


class FeedResetView(LoginRequiredMixin, View):
    """A new secret address for the member's calendar; the old one answers 404 from now."""

    http_method_names = ["post"]

    def post(self, request, cohort):
        member = own_membership(request.user, cohort)
        had_one = bool(member.calendar_token)
        services.reset_calendar_feed(member, user=request.user)
        messages.success(
            request,
            _("Your calendar has a new address; the old one no longer works.")
            if had_one
            else _("Your private calendar address is ready: add it to your calendar app."),
        )
        url = reverse("schedule:member-schedule", kwargs={"cohort": cohort})
        return redirect(f"{url}#subscribe")


class ReminderPreferencesView(LoginRequiredMixin, View):
    template_name = "cohorts/reminder_preferences.html"

    def form(self, member, data=None):
        opted_out = set(ReminderOptOut.objects.filter(member=member).values_list("kind", flat=True))
        initial = {
            "kinds": [kind for kind in Milestone.Kind.values if kind not in opted_out],
            "time_zone": member.time_zone,
        }
        return ReminderPreferencesForm(data, initial=initial, cohort_zone=member.cohort.time_zone)

    def get(self, request, cohort):
        member = own_membership(request.user, cohort)
        return render(request, self.template_name, {"member": member, "form": self.form(member)})

    def post(self, request, cohort):
        member = own_membership(request.user, cohort)
        form = self.form(member, request.POST)
        if form.is_valid():
            try:
                services.update_reminder_preferences(member, user=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Your reminder settings are saved."))
                return redirect("schedule:preferences", cohort=cohort)
        return render(request, self.template_name, {"member": member, "form": form}, status=400)


# --- Feeds --------------------------------------------------------------------------------


def calendar_response(data, *, filename):
    response = HttpResponse(data, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


class CohortFeedView(View):
    """The cohort's public schedule (what its public page lists), for calendar apps."""

    def get(self, request, slug):
        cohort = get_object_or_404(Cohort, slug=slug)
        milestones = cohort.milestones.select_related("cohort", "topic").order_by("starts_at", "id")
        data = schedule_calendar(milestones, cohort=cohort, name=cohort.name)
        return calendar_response(data, filename=f"{cohort.slug}.ics")


class MemberFeedView(View):
    """A member's own schedule, with their group's deliverables, at a secret address.

    Calendar apps do not sign in: the token is the key, and a wrong or replaced one is 404.
    """

    def get(self, request, token):
        member = (
            Member.objects.active()
            .select_related("cohort", "user", "topic")
            .filter(calendar_token=token)
            .first()
        )
        if member is None:
            raise Http404
        deliverables = {}
        for deliverable in group_deliverables(cohort_id=member.cohort_id, topic_id=member.topic_id):
            deliverables.setdefault(deliverable.milestone_id, []).append(deliverable)
        language = member.user.language if member.user else None
        with translation.override(language or translation.get_language()):
            data = schedule_calendar(
                member_milestones(member),
                cohort=member.cohort,
                name=f"{member.cohort.name} · {member.topic.display_name}",
                deliverables=deliverables,
            )
        response = calendar_response(data, filename="wecity-schedule.ics")
        response["Cache-Control"] = "private, no-store"
        response["X-Robots-Tag"] = "noindex"
        return response
