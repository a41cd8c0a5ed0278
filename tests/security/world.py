"""One object of every kind the portal's URLs name, and a user for each role.

The cohort has two topic groups: 数字政府 (A), whose member is `member_a`, and 智慧医疗
(B), whose member is `member_b`. Every object a URL names belongs to group A, so that what
group B may see of it is tested everywhere.
"""

import secrets
from dataclasses import dataclass, field

from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from allauth.account.utils import user_pk_to_url_str
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Role
from accounts.services import create_api_token
from cohorts.models import ReminderOptOut
from forums.models import Appearance
from forums.services import record_revision
from tests.cohorts.helpers import PDF, build_world, image
from tests.factories import (
    AppearanceFactory,
    DeletionRequestFactory,
    InvitationFactory,
    NotificationFactory,
    QuoteFactory,
    RecapFactory,
    RecapShareLinkFactory,
    ReviewerFactory,
    ReviewFactory,
    SpeakerFactory,
    SubmissionFactory,
    ThemeFactory,
    TranscriptTurnFactory,
    UserFactory,
)
from topics.models import Submission

ROLES = ("anonymous", "member_a", "member_b", "organiser", "admin")


@dataclass
class World:
    users: dict  # role name -> user (None for anonymous)
    objects: dict = field(default_factory=dict)  # what the URLs and the tests refer to
    kwargs: dict = field(default_factory=dict)  # kwargs key -> URL kwargs

    def __getattr__(self, name):
        try:
            return self.__dict__["objects"][name]
        except KeyError:
            raise AttributeError(name) from None


def verified(user):
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def build_security_world():
    group = build_world()
    cohort, member_a = group.cohort, group.member_a
    users = {
        "anonymous": None,
        "member_a": verified(member_a.user),
        "member_b": verified(group.member_b.user),
        "organiser": verified(UserFactory(email="organiser@example.com", roles=[Role.ORGANISER])),
        "admin": verified(
            UserFactory(
                email="admin@example.com", is_staff=True, is_superuser=True, roles=[Role.ADMIN]
            )
        ),
    }

    # A published forum with a theme, a speaker, a transcript turn and quotes.
    forum = RecapFactory(published=True, forum__slug="forum-a").forum
    theme = ThemeFactory(forum=forum)
    speaker = SpeakerFactory(slug="speaker-a")
    appearance = AppearanceFactory(forum=forum, speaker=speaker, role=Appearance.Role.PANELIST)
    turn = TranscriptTurnFactory(theme=theme, speaker=speaker)
    featured = QuoteFactory(forum=forum, speaker=speaker, theme=theme, turn=turn, featured=True)
    proposed = QuoteFactory(forum=forum, speaker=speaker, theme=theme)
    revision = record_revision(forum, user=users["organiser"])
    share_link = RecapShareLinkFactory(recap=forum.recap, created_by=users["organiser"])

    # Group A's work: a file version with a review, a photo, a calendar, a notification.
    member_a.photo = SimpleUploadedFile("me.png", image("PNG"))
    member_a.calendar_token = secrets.token_urlsafe(32)
    member_a.save()
    submission = SubmissionFactory(
        deliverable=group.deliverable_a,
        member=member_a,
        kind=Submission.Kind.FILE,
        text="",
        file=SimpleUploadedFile("方案.pdf", PDF),
        file_name="方案.pdf",
        content_type="application/pdf",
    )
    review = ReviewFactory(submission=submission, reviewer=users["organiser"])
    notification = NotificationFactory(recipient=member_a.user)
    opt_out = ReminderOptOut.objects.create(member=member_a, kind="workshop")
    invitation = InvitationFactory(
        cohort=cohort, topic=group.topic_a, invited_by=users["organiser"]
    )
    reviewer = ReviewerFactory(cohort=cohort, topic=group.topic_a)
    deletion = DeletionRequestFactory(user=group.member_b.user)
    token, _secret = create_api_token(member_a.user, name="仪表盘")
    milestone = group.deliverable_a.milestone

    # allauth's keys: an address to confirm, a password to reset.
    unconfirmed = EmailAddress.objects.create(
        user=UserFactory(email="new@example.com"), email="new@example.com", verified=False
    )
    reset_user = users["member_a"]

    world = World(users=users)
    world.objects.update(
        group=group,
        cohort=cohort,
        topic_a=group.topic_a,
        topic_b=group.topic_b,
        member_a=member_a,
        member_b=group.member_b,
        deliverable_a=group.deliverable_a,
        deliverable_b=group.deliverable_b,
        forum=forum,
        theme=theme,
        speaker=speaker,
        appearance=appearance,
        turn=turn,
        featured=featured,
        proposed=proposed,
        submission=submission,
        review=review,
        notification=notification,
        invitation=invitation,
        milestone=milestone,
        api_token=token,
    )
    world.kwargs.update(
        {
            "none": {},
            "language": {"code": "en"},
            # forums
            "forum_slug": {"slug": forum.slug},
            "forum_pk": {"pk": forum.pk},
            "forum_theme": {"pk": forum.pk, "theme_pk": theme.pk},
            "forum_appearance": {"pk": forum.pk, "appearance_pk": appearance.pk},
            "forum_turn": {"pk": forum.pk, "turn_pk": turn.pk},
            "forum_revision": {"pk": forum.pk, "number": revision.number},
            "speaker_slug": {"slug": speaker.slug},
            "quote_pk": {"pk": featured.pk},
            "proposed_pk": {"pk": proposed.pk},
            "share_token": {"token": share_link.token},
            # topics and cohorts
            "topic_slug": {"slug": group.topic_a.slug},
            "cohort_slug": {"slug": cohort.slug},
            "cohort": {"cohort": cohort.slug},
            "invitation_token": {"token": invitation.token},
            "member_pk": {"pk": member_a.pk},
            "calendar_token": {"token": member_a.calendar_token},
            "group": {"cohort": cohort.slug, "topic": group.topic_a.slug},
            "deliverable": {
                "cohort": cohort.slug,
                "topic": group.topic_a.slug,
                "pk": group.deliverable_a.pk,
            },
            "submission_pk": {"pk": submission.pk},
            "deletion_pk": {"pk": deletion.pk},
            "cohort_invitation": {"slug": cohort.slug, "pk": invitation.pk},
            "cohort_member": {"slug": cohort.slug, "pk": member_a.pk},
            "cohort_reviewer": {"slug": cohort.slug, "pk": reviewer.pk},
            "cohort_milestone": {"slug": cohort.slug, "pk": milestone.pk},
            "api_token_pk": {"pk": token.pk},
            # the API's routes
            "api_forum_turn": {"forum_slug": forum.slug, "pk": turn.pk},
            "api_forum_slug": {"forum_slug": forum.slug},
            "api_forum": {"forum_slug": forum.slug},
            "deliverable_pk": {"pk": group.deliverable_a.pk},
            "review_pk": {"pk": review.pk},
            "milestone_pk": {"pk": milestone.pk},
            "notification_pk": {"pk": notification.pk},
            "opt_out_pk": {"pk": opt_out.pk},
            # allauth
            "confirm_email": {"key": EmailConfirmationHMAC(unconfirmed).key},
            "reset_key": {
                "uidb36": user_pk_to_url_str(reset_user),
                "key": default_token_generator.make_token(reset_user),
            },
        }
    )
    return world
