"""Writes of the topics app: handing in a version of a deliverable, and reviewing it.

Each function owns its transaction, returns what it changed and raises ValidationError or
PermissionDenied. Emails are queued after commit.
"""

import errno
import hashlib
import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from cohorts.models import Member, Reviewer
from cohorts.services import notify
from topics import tasks
from topics.models import Deliverable, Review, Submission
from wecity.celery import queue_after_commit

logger = logging.getLogger(__name__)


def checksum(upload):
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def storage_refusal(name, error):
    """The hand-in form's error when the private storage could not write a file."""
    logger.error("Could not store the hand-in %r: %s", name, error)
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        message = _(
            "“%(name)s” could not be stored: the portal's storage is full. Nothing was handed "
            "in and the earlier versions are unchanged; try again later."
        )
    else:
        message = _(
            "“%(name)s” could not be stored because of a problem on the portal's side. Nothing "
            "was handed in and the earlier versions are unchanged; try again later."
        )
    return ValidationError({"file": message % {"name": name}}, code="storage")


def hand_in_deliverable(
    deliverable, *, member, kind, file=None, checked=None, link="", text="", comment=""
):
    """Hand in the next version (v1, v2, …) of a deliverable for the member's group.

    `file` must have passed `filechecks.check_upload` (`checked` is its result). Nothing is
    ever overwritten; a version after the due time is kept and marked late. Side effects:
    the file is stored in the private storage, the submitter gets a receipt by email.
    Raises PermissionDenied when the member is not in the deliverable's group.
    """
    if (
        member.removed_at
        or member.topic_id != deliverable.topic_id
        or member.cohort_id != deliverable.milestone.cohort_id
    ):
        raise PermissionDenied(_("Only the members of this topic's group can hand in its work."))
    submission = None
    try:
        with transaction.atomic():
            # Locked, so that two members handing in at once get v2 and v3, not one error.
            deliverable = Deliverable.objects.select_for_update().get(pk=deliverable.pk)
            latest = deliverable.submissions.aggregate(latest=Max("version"))["latest"] or 0
            now = timezone.now()
            submission = Submission(
                deliverable=deliverable,
                member=member,
                version=latest + 1,
                kind=kind,
                link=link if kind == Submission.Kind.LINK else "",
                text=text if kind == Submission.Kind.TEXT else "",
                comment=comment,
                submitted_at=now,
                is_late=now > deliverable.milestone.starts_at,
            )
            if kind == Submission.Kind.FILE:
                submission.file_name = checked.name
                submission.file_size = checked.size
                submission.content_type = checked.content_type
                submission.checksum = checksum(file)
                try:
                    submission.file.save(checked.name, file, save=False)
                except OSError as error:
                    raise storage_refusal(checked.name, error) from error
            submission.save()
            queue_after_commit(tasks.send_receipt, submission_id=submission.pk)
    except BaseException:
        # The row is gone with the transaction; the stored file must go too.
        if submission is not None and submission.file:
            submission.file.storage.delete(submission.file.name)
        raise
    return submission


def can_review(user, deliverable):
    """Organisers, and reviewers named for the deliverable's topic or its whole cohort."""
    if not user.is_authenticated:
        return False
    if user.is_organiser:
        return True
    return (
        Reviewer.objects.filter(user=user, cohort_id=deliverable.milestone.cohort_id)
        .filter(Q(topic__isnull=True) | Q(topic_id=deliverable.topic_id))
        .exists()
    )


def review_submission(submission, *, reviewer, status, feedback=""):
    """Accept a version or ask for changes, with feedback; the group is told.

    Side effects: a notification and an email to each member of the group.
    Raises PermissionDenied for anyone who may not review this deliverable, ValidationError
    when changes are asked for without saying which.
    """
    deliverable = submission.deliverable
    if not can_review(reviewer, deliverable):
        raise PermissionDenied(_("Only organisers and named reviewers can review this work."))
    if status == Review.Status.CHANGES_REQUESTED and not feedback.strip():
        raise ValidationError({"feedback": _("Say which changes are needed.")})
    with transaction.atomic():
        review = Review.objects.create(
            submission=submission, reviewer=reviewer, status=status, feedback=feedback
        )
        group = User.objects.filter(
            memberships__in=Member.objects.active().filter(
                cohort_id=deliverable.milestone.cohort_id, topic_id=deliverable.topic_id
            ),
            is_active=True,
        ).distinct()
        message = (
            gettext_noop("%(deliverable)s v%(version)s is accepted.")
            if status == Review.Status.ACCEPTED
            else gettext_noop("Changes are requested on %(deliverable)s v%(version)s.")
        )
        notify(
            group,
            message=message,
            url=submission.get_absolute_url(),
            params={"deliverable": deliverable.title, "version": submission.version},
        )
        queue_after_commit(tasks.send_review_notice, review_id=review.pk)
    return review
