"""Everything the portal holds about one person, for them to download (JSON)."""

from django.db.models import Prefetch

from cohorts.models import DeletionRequest, Invitation, Member, Notification, TopicMove
from topics.models import Review, Submission


def when(value):
    return value.isoformat() if value else None


def member_data(user):
    """The user's account, memberships, profile choices, hand-ins and notifications."""
    memberships = (
        Member.objects.filter(user=user)
        .select_related("cohort", "topic")
        .prefetch_related(
            Prefetch(
                "topic_moves",
                queryset=TopicMove.objects.select_related("from_topic", "to_topic").order_by(
                    "moved_at", "id"
                ),
            ),
            "reminder_opt_outs",
            Prefetch(
                "submissions",
                queryset=Submission.objects.select_related(
                    "deliverable__topic", "deliverable__milestone"
                )
                .prefetch_related(Prefetch("reviews", queryset=Review.objects.order_by("id")))
                .order_by("submitted_at", "id"),
            ),
        )
        .order_by("joined_at", "id")
    )
    return {
        "account": {
            "email": user.email,
            "name": user.name,
            "language": user.language,
            "date_joined": when(user.date_joined),
            "last_login": when(user.last_login),
        },
        "memberships": [membership_data(member) for member in memberships],
        "invitations": [
            {
                "cohort": invitation.cohort.name,
                "topic": invitation.topic.name,
                "name": invitation.name,
                "organisation": invitation.organisation,
                "sent_at": when(invitation.created_at),
                "accepted_at": when(invitation.accepted_at),
            }
            for invitation in Invitation.objects.filter(email__iexact=user.email)
            .select_related("cohort", "topic")
            .order_by("created_at", "id")
        ],
        "notifications": [
            {
                "text": notification.text,
                "url": notification.url,
                "created_at": when(notification.created_at),
                "read_at": when(notification.read_at),
            }
            for notification in Notification.objects.visible_to(user).order_by("created_at", "id")
        ],
        "deletion_requests": [
            {
                "status": request.status,
                "reason": request.reason,
                "requested_at": when(request.requested_at),
                "decided_at": when(request.decided_at),
                "note": request.note,
            }
            for request in DeletionRequest.objects.filter(user=user).order_by("requested_at")
        ],
    }


def membership_data(member):
    return {
        "cohort": member.cohort.name,
        "topic": member.topic.name,
        "joined_at": when(member.joined_at),
        "profile": {
            "name": member.name,
            "organisation": member.organisation,
            "title": member.title,
            "bio": member.bio,
            "photo": member.photo.name.rsplit("/", 1)[-1] if member.photo else None,
        },
        "public": {
            "listed": member.is_public,
            "organisation": member.is_organisation_public,
            "title": member.is_title_public,
            "bio": member.is_bio_public,
            "photo": member.is_photo_public,
        },
        "topic_history": [
            {"from": move.from_topic.name, "to": move.to_topic.name, "at": when(move.moved_at)}
            for move in member.topic_moves.all()
        ],
        "reminder_time_zone": member.time_zone or None,  # None: the cohort's
        "reminders_turned_off": sorted(opt_out.kind for opt_out in member.reminder_opt_outs.all()),
        "submissions": [
            {
                "deliverable": submission.deliverable.title,
                "topic": submission.deliverable.topic.name,
                "version": submission.version,
                "kind": submission.kind,
                "file_name": submission.file_name or None,
                "file_size": submission.file_size,
                "sha256": submission.checksum or None,
                "link": submission.link or None,
                "text": submission.text or None,
                "comment": submission.comment,
                "handed_in_at": when(submission.submitted_at),
                "late": submission.is_late,
                "reviews": [
                    {
                        "status": review.status,
                        "feedback": review.feedback,
                        "at": when(review.created_at),
                    }
                    for review in submission.reviews.all()
                ],
            }
            for submission in member.submissions.all()
        ],
    }
