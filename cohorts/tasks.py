"""Emails of the cohorts app, sent by the worker after the transaction that asked commits.

Each task loads its rows by id and returns quietly when they are gone or no longer apply.
"""

import smtplib
import uuid

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import transaction
from django.urls import reverse

from accounts.models import Role, User
from cohorts import reminders
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


# --- Reminders ----------------------------------------------------------------------------


def queue_reminder_chunks(claim, chunks):
    """One send task per chunk of claimed reminders, queued once the claim is committed.

    A broker that is down loses nothing: the rows stay claimed, and the sweep queues them
    again once their lease runs out.
    """
    for chunk in chunks:
        transaction.on_commit(
            lambda chunk=chunk: send_reminders.delay(reminder_ids=chunk, claim=str(claim)),
            robust=True,
        )


@shared_task(
    name="cohorts.sweep_reminders", ignore_result=True, soft_time_limit=240, time_limit=280
)
def sweep_reminders():
    """Beat's job: create what is due, recover what dead workers left, fan sending out."""
    sweep = reminders.sweep_reminders()
    queue_reminder_chunks(sweep.claim, sweep.chunks)
    return {"created": sweep.created, "requeued": sweep.requeued, "claimed": len(sweep.claimed)}


# The time limit stays far below REMINDER_LEASE_SECONDS: a live worker never holds a claim
# long enough for the sweep to hand it to another. Retries are the task's own (below), with
# short countdowns; a lost retry message is recovered by the sweep when the lease runs out.
@shared_task(
    bind=True,
    name="cohorts.send_reminders",
    ignore_result=True,
    soft_time_limit=100,
    time_limit=120,
)
def send_reminders(self, *, reminder_ids, claim):
    """Send one chunk of claimed reminders; retry the mail server's failures with backoff."""
    claim = uuid.UUID(claim)
    try:
        delivery = reminders.deliver_reminders(reminder_ids, claim=claim)
    except SoftTimeLimitExceeded:
        reminders.release_claim(reminder_ids, claim=claim)
        return None
    if delivery.retry:
        raise self.retry(
            kwargs={"reminder_ids": delivery.retry, "claim": str(claim)},
            countdown=delivery.retry_after,
            max_retries=None,
        )
    return {"sent": len(delivery.sent), "skipped": len(delivery.skipped)}
