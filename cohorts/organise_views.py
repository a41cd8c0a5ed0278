"""The organisers' cohort pages, under /organise/cohorts/ (every view requires an organiser).

A view gets its objects, validates a form, calls one service and redirects back; the cohort
page is built in one place (`manage_page`) at a fixed number of queries.
"""

import csv

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import ListView

from cohorts import services
from cohorts.forms import (
    CohortForm,
    DecisionForm,
    InvitationForm,
    InvitationImportForm,
    MoveMemberForm,
    ReviewerForm,
)
from cohorts.importers import read_invitations
from cohorts.models import Cohort, DeletionRequest, Invitation, Member, Reviewer
from cohorts.programme_views import add_service_errors
from forums.organise_views import OrganiserRequiredMixin
from topics.boards import board_csv_rows, build_board, progress_chart
from topics.models import Topic
from wecity.render import EvaluatedListMixin, evaluate_choices

DELETION_PAGE_SIZE = 50


def cohorts_for_organisers():
    return Cohort.objects.annotate(
        member_count=Count("members", filter=Q(members__removed_at__isnull=True), distinct=True),
    ).order_by("-starts_on", "-id")


def manage_url(cohort, anchor=""):
    url = reverse("organise-cohorts:cohort", kwargs={"slug": cohort.slug})
    return f"{url}#{anchor}" if anchor else url


class CohortListView(OrganiserRequiredMixin, EvaluatedListMixin, ListView):
    template_name = "cohorts/organise/cohort_list.html"
    context_object_name = "cohorts"
    paginate_by = 50

    def get_queryset(self):
        return cohorts_for_organisers()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["pending_deletions"] = DeletionRequest.objects.filter(
            status=DeletionRequest.Status.PENDING
        ).count()
        return context


class CohortCreateView(OrganiserRequiredMixin, View):
    template_name = "cohorts/organise/cohort_create.html"

    def get(self, request):
        return render(request, self.template_name, {"form": CohortForm()})

    def post(self, request):
        form = CohortForm(request.POST)
        if form.is_valid():
            try:
                cohort = services.create_cohort(user=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("The cohort is created. Now invite its members."))
                return redirect(manage_url(cohort))
        return render(request, self.template_name, {"form": form})


def manage_page(request, slug, *, invite_form=None, reviewer_form=None, status=200):
    """The cohort's page: members by topic, invitations, reviewers; a fixed number of queries."""
    cohort = get_object_or_404(cohorts_for_organisers(), slug=slug)
    topics = list(Topic.objects.order_by("position", "id"))
    members = list(
        Member.objects.filter(cohort=cohort)
        .select_related("topic", "user")
        .order_by("topic__position", "topic_id", "name", "id")
    )
    groups = [
        {"topic": topic, "members": [m for m in members if m.topic_id == topic.pk]}
        for topic in topics
    ]
    invitations = list(
        Invitation.objects.filter(cohort=cohort, accepted_at__isnull=True)
        .select_related("topic", "invited_by")
        .order_by("-created_at", "-id")
    )
    reviewers = list(
        Reviewer.objects.filter(cohort=cohort)
        .select_related("user", "topic")
        .order_by("topic__position", "user__email")
    )
    context = {
        "cohort": cohort,
        "topics": topics,
        "groups": groups,
        "active_count": sum(1 for m in members if not m.removed_at),
        "invitations": invitations,
        "reviewers": reviewers,
        "invite_form": evaluate_choices(invite_form or InvitationForm(auto_id="invite-%s")),
        "reviewer_form": evaluate_choices(reviewer_form or ReviewerForm(auto_id="reviewer-%s")),
    }
    return render(request, "cohorts/organise/cohort_manage.html", context, status=status)


class CohortManageView(OrganiserRequiredMixin, View):
    def get(self, request, slug):
        return manage_page(request, slug)


class InviteView(OrganiserRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request, slug):
        cohort = get_object_or_404(Cohort, slug=slug)
        form = InvitationForm(request.POST, auto_id="invite-%s")
        if form.is_valid():
            try:
                invitation = services.invite_member(
                    cohort, invited_by=request.user, **form.cleaned_data
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request, _("The invitation is sent to %(email)s.") % {"email": invitation.email}
                )
                return redirect(manage_url(cohort, "invitations"))
        return manage_page(request, slug, invite_form=form, status=400)


class ImportView(OrganiserRequiredMixin, View):
    """Invite from a CSV: a report of every row; nothing is saved unless every row is fine."""

    template_name = "cohorts/organise/import.html"

    def get(self, request, slug):
        cohort = get_object_or_404(Cohort, slug=slug)
        return render(
            request, self.template_name, {"cohort": cohort, "form": InvitationImportForm()}
        )

    def post(self, request, slug):
        cohort = get_object_or_404(Cohort, slug=slug)
        form = InvitationImportForm(request.POST, request.FILES)
        report = None
        if form.is_valid():
            report = read_invitations(form.cleaned_data["file"], cohort=cohort)
            if report.is_ok:
                try:
                    services.import_invitations(
                        cohort,
                        invited_by=request.user,
                        rows=report.rows,
                        language=form.cleaned_data["language"],
                    )
                except ValidationError as error:
                    report.errors.extend(error.messages)
                else:
                    messages.success(
                        request,
                        _("%(count)s invitations are sent.") % {"count": len(report.rows)},
                    )
        context = {"cohort": cohort, "form": form, "report": report}
        status = 200 if report is not None and report.is_ok else 400
        return render(request, self.template_name, context, status=status)


class InvitationChangeView(OrganiserRequiredMixin, View):
    http_method_names = ["post"]
    change = None
    success_message = ""

    def post(self, request, slug, pk):
        invitation = get_object_or_404(
            Invitation.objects.select_related("cohort"), cohort__slug=slug, pk=pk
        )
        try:
            self.change(invitation, user=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, self.success_message % {"email": invitation.email})
        return redirect(manage_url(invitation.cohort, "invitations"))


class ResendInvitationView(InvitationChangeView):
    change = staticmethod(services.resend_invitation)

    @property
    def success_message(self):
        return _("The invitation is sent again to %(email)s, with a new link.")


class RevokeInvitationView(InvitationChangeView):
    change = staticmethod(services.revoke_invitation)

    @property
    def success_message(self):
        return _("The invitation to %(email)s is revoked; its link no longer works.")


class MoveMemberView(OrganiserRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request, slug, pk):
        member = get_object_or_404(
            Member.objects.select_related("cohort", "topic"), cohort__slug=slug, pk=pk
        )
        form = MoveMemberForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose the topic to move the member to."))
        else:
            try:
                move = services.move_member(
                    member, topic=form.cleaned_data["topic"], user=request.user
                )
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(
                    request,
                    _("%(name)s moved from %(from)s to %(to)s.")
                    % {
                        "name": member.name,
                        "from": move.from_topic.display_name,
                        "to": move.to_topic.display_name,
                    },
                )
        return redirect(manage_url(member.cohort, "members"))


class AddReviewerView(OrganiserRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request, slug):
        cohort = get_object_or_404(Cohort, slug=slug)
        form = ReviewerForm(request.POST, auto_id="reviewer-%s")
        if form.is_valid():
            try:
                services.name_reviewer(cohort, user=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("The reviewer is named."))
                return redirect(manage_url(cohort, "reviewers"))
        return manage_page(request, slug, reviewer_form=form, status=400)


class RemoveReviewerView(OrganiserRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request, slug, pk):
        reviewer = get_object_or_404(
            Reviewer.objects.select_related("cohort"), cohort__slug=slug, pk=pk
        )
        services.remove_reviewer(reviewer, user=request.user)
        messages.success(request, _("The reviewer is removed."))
        return redirect(manage_url(reviewer.cohort, "reviewers"))


# --- Board --------------------------------------------------------------------------------


class BoardView(OrganiserRequiredMixin, View):
    """The six topics against the deliverables, each cell where it stands; a progress chart."""

    def get(self, request, slug):
        cohort = get_object_or_404(Cohort, slug=slug)
        board = build_board(cohort)
        return render(
            request,
            "cohorts/organise/board.html",
            {"cohort": cohort, "board": board, "chart": progress_chart(board)},
        )


class BoardCSVView(OrganiserRequiredMixin, View):
    def get(self, request, slug):
        cohort = get_object_or_404(Cohort, slug=slug)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="board-{cohort.pk}.csv"'
        # A BOM, so that Excel reads the Chinese text as UTF-8.
        response.write("\ufeff")
        writer = csv.writer(response)
        for row in board_csv_rows(build_board(cohort)):
            writer.writerow(row)
        return response


# --- Account deletion requests ------------------------------------------------------------


class DeletionRequestListView(OrganiserRequiredMixin, EvaluatedListMixin, ListView):
    template_name = "cohorts/organise/deletion_requests.html"
    context_object_name = "deletion_requests"
    paginate_by = DELETION_PAGE_SIZE

    def get_queryset(self):
        return DeletionRequest.objects.select_related("user", "decided_by").order_by(
            "-status", "-requested_at", "-id"
        )


class DeletionDecisionView(OrganiserRequiredMixin, View):
    http_method_names = ["post"]
    decide = None

    def post(self, request, pk):
        deletion = get_object_or_404(DeletionRequest.objects.select_related("user"), pk=pk)
        form = DecisionForm(request.POST)
        note = form.cleaned_data["note"] if form.is_valid() else ""
        try:
            self.decide(deletion, user=request.user, note=note)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, self.success_message())
        return redirect("organise-cohorts:deletion-requests")


class ConfirmDeletionView(DeletionDecisionView):
    decide = staticmethod(services.confirm_account_deletion)

    def success_message(self):
        return _("The account is deleted; the member's work stays with their group.")


class DeclineDeletionView(DeletionDecisionView):
    decide = staticmethod(services.decline_account_deletion)

    def success_message(self):
        return _("The request is declined; the member is told.")
