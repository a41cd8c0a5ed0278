"""Emails of the topics app, sent by the worker after the transaction that asked commits."""

from celery import shared_task

from accounts.models import User
from cohorts.mail import absolute_url, send_email
from cohorts.models import Member
from cohorts.tasks import MAIL_TASK
from topics.models import Review, Submission


@shared_task(name="topics.send_receipt", **MAIL_TASK)
def send_receipt(*, submission_id):
    submission = (
        Submission.objects.select_related(
            "deliverable__milestone__cohort", "deliverable__topic", "member__user"
        )
        .filter(pk=submission_id)
        .first()
    )
    if submission is None or submission.member.user is None:
        return
    user = submission.member.user
    send_email(
        to=user.email,
        template="topics/email/receipt",
        context={
            "submission": submission,
            "deliverable": submission.deliverable,
            "cohort": submission.deliverable.milestone.cohort,
            "url": absolute_url(submission.get_absolute_url()),
        },
        language=user.language,
    )


@shared_task(name="topics.send_review_notice", **MAIL_TASK)
def send_review_notice(*, review_id):
    review = (
        Review.objects.select_related(
            "submission__deliverable__milestone__cohort", "submission__deliverable__topic"
        )
        .filter(pk=review_id)
        .first()
    )
    if review is None:
        return
    deliverable = review.submission.deliverable
    group = User.objects.filter(
        memberships__in=Member.objects.active().filter(
            cohort_id=deliverable.milestone.cohort_id, topic_id=deliverable.topic_id
        ),
        is_active=True,
    ).distinct()
    for user in group:
        send_email(
            to=user.email,
            template="topics/email/review",
            context={
                "review": review,
                "submission": review.submission,
                "deliverable": deliverable,
                "url": absolute_url(review.submission.get_absolute_url()),
            },
            language=user.language,
        )
