"""A programme to ask the API about: one published forum with its transcript and quotes, a
draft forum, and the cohort of tests.cohorts.helpers with its groups 数字政府 (A) and
智慧医疗 (B), a version handed in by each, a review, notifications and an opt-out."""

from dataclasses import dataclass

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import Role, User
from accounts.services import create_api_token
from cohorts.models import Member, Milestone, ReminderOptOut
from forums.models import Forum, Quote
from tests.cohorts.helpers import World, build_world
from tests.factories import (
    AppearanceFactory,
    NotificationFactory,
    QuoteFactory,
    RecapFactory,
    ReminderOptOutFactory,
    ReviewFactory,
    SpeakerFactory,
    SubmissionFactory,
    ThemeFactory,
    TranscriptTurnFactory,
    UserFactory,
)
from topics.models import Review, Submission

ROLES = ["anonymous", "member_a", "member_b", "organiser", "admin"]


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path):
    """Members' files go to the test's own folder, never to the checkout's private/."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.PRIVATE_FILES_ACCEL_PREFIX = ""
    return settings.PRIVATE_MEDIA_ROOT


@pytest.fixture(autouse=True)
def api_limits(settings):
    """No test is throttled by the ones before it, unless it sets small rates itself."""
    cache.clear()
    settings.API_THROTTLE_ANON_RATE = "10000/minute"
    settings.API_THROTTLE_USER_RATE = "10000/minute"
    settings.API_PAGE_SIZE = 20
    settings.API_MAX_PAGE_SIZE = 100
    yield
    cache.clear()


@dataclass
class Programme:
    world: World
    users: dict
    forum: Forum
    draft: Forum
    approved: Quote
    featured: Quote
    proposed: Quote
    submission_a: Submission
    submission_b: Submission
    review_a: Review
    opt_out_a: ReminderOptOut

    @property
    def member_a(self) -> Member:
        return self.world.member_a

    @property
    def milestone(self) -> Milestone:
        return self.world.deliverable_a.milestone


def published_forum(*, slug="future-city", title="WeCity 未来城市圆桌论坛"):
    forum = RecapFactory(
        forum__slug=slug, forum__title=title, published=True, headline=f"{title}回顾"
    ).forum
    theme = ThemeFactory(forum=forum, title="城市与未来", position=1)
    speaker = SpeakerFactory(name="王城", slug=f"{slug}-wang", organisation="腾讯云")
    AppearanceFactory(forum=forum, speaker=speaker, title="智慧城市总经理")
    TranscriptTurnFactory(theme=theme, speaker=speaker, position=1)
    return forum, theme, speaker


@pytest.fixture
def programme(db):
    world = build_world()
    forum, theme, speaker = published_forum()
    draft = RecapFactory(forum__slug="draft-forum", forum__title="草稿论坛").forum
    AppearanceFactory(forum=draft, speaker=SpeakerFactory(slug="draft-speaker", name="未公开"))
    users = {
        "anonymous": None,
        "member_a": world.member_a.user,
        "member_b": world.member_b.user,
        "organiser": UserFactory(email="organiser@example.com", roles=[Role.ORGANISER]),
        "admin": UserFactory(
            email="curator@example.com", is_staff=True, is_superuser=True, roles=[Role.ADMIN]
        ),
    }
    submission_a = SubmissionFactory(deliverable=world.deliverable_a, member=world.member_a)
    submission_b = SubmissionFactory(deliverable=world.deliverable_b, member=world.member_b)
    for role in ("member_a", "member_b"):
        NotificationFactory(recipient=users[role], text=f"{role} 的通知")
    return Programme(
        world=world,
        users=users,
        forum=forum,
        draft=draft,
        approved=QuoteFactory(forum=forum, speaker=speaker, theme=theme, approved=True),
        featured=QuoteFactory(forum=forum, speaker=speaker, theme=theme, featured=True),
        proposed=QuoteFactory(forum=forum, speaker=speaker, theme=theme),
        submission_a=submission_a,
        submission_b=submission_b,
        review_a=ReviewFactory(submission=submission_a, reviewer=users["organiser"]),
        opt_out_a=ReminderOptOutFactory(member=world.member_a, kind="workshop"),
    )


def api_client(user=None):
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def clients(programme):
    return {role: api_client(programme.users[role]) for role in ROLES}


def token_for(user: User):
    _token, secret = create_api_token(user, name="tests")
    return secret
