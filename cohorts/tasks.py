"""Emails of the cohorts app, sent by the worker after the transaction that asked commits.

Each task loads its rows by id and returns quietly when they are gone or no longer apply.
"""

import smtplib

from celery import shared_task
from django.urls import reverse

from accounts.models import Role, User
from cohorts.mail import absolute_url, send_email
from cohorts.models import DeletionRequest, Invitation

# Only the outside world's failures are retried: a bug would fail the same way again.
MAIL_TASK = {
    "ignore_result": True,
    "soft_time_limit": 50,
    "time_limit": 60,
    "autoretry_for": (smtplib.SMTPException, ConnectionError, TimeoutError),
    "retry_backoff": True,
    "max_retries": 5,
}


@shared_task(name="cohorts.send_invitation", **MAIL_TASK)
def send_invitation(*, invitation_id):
    invitation = (
        Invitation.objects.select_related("cohort", "topic", "invited_by")
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None or invitation.status != Invitation.Status.PENDING:
        return
    send_email(
        to=invitation.email,
        template="cohorts/email/invitation",
        context={
            "invitation": invitation,
            "url": absolute_url(invitation.get_absolute_url()),
        },
        language=invitation.language,
    )


@shared_task(name="cohorts.send_deletion_request_notice", **MAIL_TASK)
def send_deletion_request_notice(*, request_id):
    deletion = DeletionRequest.objects.select_related("user").filter(pk=request_id).first()
    if deletion is None or deletion.status != DeletionRequest.Status.PENDING:
        return
    organisers = User.objects.filter(groups__name=Role.ORGANISER, is_active=True).distinct()
    for organiser in organisers:
        send_email(
            to=organiser.email,
            template="cohorts/email/deletion_request",
            context={
                "deletion": deletion,
                "url": absolute_url(reverse("organise-cohorts:deletion-requests")),
            },
            language=organiser.language,
        )


@shared_task(name="cohorts.send_account_deleted", **MAIL_TASK)
def send_account_deleted(*, email, language):
    send_email(to=email, template="cohorts/email/account_deleted", context={}, language=language)
