"""A topic group's workspace, under /programme/<cohort>/<topic>/: the brief, the members, the
deliverables with every version and review, handing in and reviewing, and the files.

Only the group's members, its named reviewers and the organisers get in; anyone else gets
the same 404 as for a workspace that does not exist.
"""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.views import View

from cohorts.files import private_file_response
from cohorts.models import Cohort, Member, can_see_group
from cohorts.programme_views import add_service_errors
from topics import services
from topics.boards import Cell, cells, group_deliverables
from topics.forms import HandInForm, ReviewForm
from topics.models import Deliverable, Review, Submission, Topic


def get_group(user, cohort_slug, topic_slug):
    """The cohort and topic of a workspace the user may open; Http404 for any other."""
    cohort = Cohort.objects.filter(slug=cohort_slug).first()
    topic = Topic.objects.filter(slug=topic_slug).first()
    if cohort is None or topic is None:
        raise Http404
    if not can_see_group(user, cohort_id=cohort.pk, topic_id=topic.pk):
        raise Http404
    return cohort, topic


def own_member(user, cohort, topic):
    """The user's membership in this group, if they hand in work for it."""
    return (
        Member.objects.active()
        .filter(user=user, cohort=cohort, topic=topic)
        .select_related("cohort", "topic")
        .first()
    )


class WorkspaceView(LoginRequiredMixin, View):
    def get(self, request, cohort, topic):
        cohort, topic = get_group(request.user, cohort, topic)
        members = list(
            Member.objects.active()
            .filter(cohort=cohort, topic=topic)
            .select_related("user")
            .order_by("name", "id")
        )
        context = {
            "cohort": cohort,
            "topic": topic,
            "members": members,
            "cells": cells(group_deliverables(cohort_id=cohort.pk, topic_id=topic.pk)),
            "is_member": any(m.user_id == request.user.pk for m in members),
        }
        return render(request, "topics/workspace.html", context)


def latest_cell(deliverable, submissions):
    """Where the deliverable stands, from its versions (newest first) and their reviews
    (oldest first) already loaded: what `boards.cells` finds with a query."""
    if not submissions:
        return None
    latest = submissions[0]
    reviews = list(latest.reviews.all())
    latest.latest_review_status = reviews[-1].status if reviews else None
    latest.deliverable = deliverable
    return Cell(deliverable, latest)


def deliverable_page(request, cohort_slug, topic_slug, pk, *, hand_in_form=None, review_forms=None):
    cohort, topic = get_group(request.user, cohort_slug, topic_slug)
    versions = Submission.objects.select_related("member").prefetch_related(
        Prefetch(
            "reviews",
            queryset=Review.objects.select_related("reviewer").order_by("created_at", "id"),
        )
    )
    deliverable = get_object_or_404(
        Deliverable.objects.visible_to(request.user)
        .filter(milestone__cohort=cohort, topic=topic)
        .select_related("milestone__cohort", "topic")
        .prefetch_related(Prefetch("submissions", queryset=versions.order_by("-version"))),
        pk=pk,
    )
    member = own_member(request.user, cohort, topic)
    may_review = services.can_review(request.user, deliverable)
    submissions = list(deliverable.submissions.all())
    review_forms = review_forms or {}
    context = {
        "cohort": cohort,
        "topic": topic,
        "deliverable": deliverable,
        "submissions": [
            {
                "submission": submission,
                "reviews": list(submission.reviews.all()),
                "review_form": review_forms.get(submission.pk)
                or ReviewForm(auto_id=f"review-{submission.pk}-%s"),
            }
            for submission in submissions
        ],
        "latest": latest_cell(deliverable, submissions),
        "member": member,
        "may_review": may_review,
        "hand_in_form": hand_in_form or (HandInForm() if member else None),
    }
    status = 400 if hand_in_form is not None or review_forms else 200
    return render(request, "topics/deliverable.html", context, status=status)


def receipt_message(submission):
    parts = [
        _("Received: %(title)s v%(version)s, handed in %(when)s.")
        % {
            "title": submission.deliverable.title,
            "version": submission.version,
            "when": date_format(localtime(submission.submitted_at), "DATETIME_FORMAT"),
        }
    ]
    if submission.is_late:
        parts.append(_("It is after the due time, so it is marked late."))
    if submission.kind == Submission.Kind.FILE:
        parts.append(
            _("File %(name)s, %(size)s, SHA-256 %(checksum)s.")
            % {
                "name": submission.file_name,
                "size": filesizeformat(submission.file_size),
                "checksum": submission.checksum[:16] + "…",
            }
        )
    parts.append(_("A receipt is on its way to your email."))
    return " ".join(parts)


class DeliverableView(LoginRequiredMixin, View):
    def get(self, request, cohort, topic, pk):
        return deliverable_page(request, cohort, topic, pk)

    def post(self, request, cohort, topic, pk):
        """Hand in a new version."""
        cohort_row, topic_row = get_group(request.user, cohort, topic)
        deliverable = get_object_or_404(
            Deliverable.objects.visible_to(request.user)
            .filter(milestone__cohort=cohort_row, topic=topic_row)
            .select_related("milestone__cohort", "topic"),
            pk=pk,
        )
        member = own_member(request.user, cohort_row, topic_row)
        if member is None:
            raise PermissionDenied
        form = HandInForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                submission = services.hand_in_deliverable(
                    deliverable,
                    member=member,
                    kind=data["kind"],
                    file=data.get("file"),
                    checked=form.checked,
                    link=data.get("link", ""),
                    text=data.get("text", ""),
                    comment=data.get("comment", ""),
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, receipt_message(submission))
                return redirect(submission.get_absolute_url())
        messages.error(request, _("Nothing was handed in; the earlier versions are unchanged."))
        return deliverable_page(request, cohort, topic, pk, hand_in_form=form)


class ReviewView(LoginRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk):
        submission = get_object_or_404(
            Submission.objects.visible_to(request.user).select_related(
                "deliverable__milestone__cohort", "deliverable__topic"
            ),
            pk=pk,
        )
        deliverable = submission.deliverable
        if not services.can_review(request.user, deliverable):
            raise PermissionDenied
        form = ReviewForm(request.POST, auto_id=f"review-{submission.pk}-%s")
        if form.is_valid():
            try:
                services.review_submission(submission, reviewer=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("The review is saved; the group is told."))
                return redirect(submission.get_absolute_url())
        return deliverable_page(
            request,
            deliverable.milestone.cohort.slug,
            deliverable.topic.slug,
            deliverable.pk,
            review_forms={submission.pk: form},
        )


class SubmissionFileView(LoginRequiredMixin, View):
    """A handed-in file, for the group, its reviewers and the organisers only."""

    def get(self, request, pk):
        submission = get_object_or_404(
            Submission.objects.visible_to(request.user).filter(kind=Submission.Kind.FILE), pk=pk
        )
        return private_file_response(
            submission.file,
            filename=submission.file_name or submission.file.name.rsplit("/", 1)[-1],
            content_type=submission.content_type or "application/octet-stream",
        )
