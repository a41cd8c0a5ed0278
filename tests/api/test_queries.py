"""Every list of the API costs the same number of queries with a few rows as with many."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from forums.search import index_forum
from tests.api.conftest import api_client, published_forum
from tests.factories import (
    AppearanceFactory,
    CohortFactory,
    DeliverableFactory,
    MemberFactory,
    MilestoneFactory,
    NotificationFactory,
    QuoteFactory,
    RecapFactory,
    ReminderOptOutFactory,
    ReviewFactory,
    SpeakerFactory,
    SubmissionFactory,
    TopicFactory,
    TranscriptTurnFactory,
)

pytestmark = pytest.mark.django_db


def forums(programme, n):
    for i in range(n):
        forum, _theme, speaker = published_forum(slug=f"forum-{n}-{i}", title=f"论坛{n}-{i}")
        QuoteFactory(forum=forum, speaker=speaker, featured=True)
        forum.released_topics.add(programme.world.topic_a)


def turns(programme, n):
    theme = programme.forum.themes.get()
    speaker = theme.turns.first().speaker
    for _ in range(n):
        TranscriptTurnFactory(theme=theme, speaker=speaker, position=theme.turns.count() + 1)


def speakers(programme, n):
    for _ in range(n):
        AppearanceFactory(forum=programme.forum, speaker=SpeakerFactory())


def quotes(programme, n):
    QuoteFactory.create_batch(
        n, forum=programme.forum, speaker=programme.approved.speaker, approved=True
    )


def topics(programme, n):
    TopicFactory.create_batch(n)


def deliverables(programme, n):
    DeliverableFactory.create_batch(n, milestone=programme.milestone, topic=programme.world.topic_a)


def submissions(programme, n):
    for _ in range(n):
        ReviewFactory(
            submission=SubmissionFactory(
                deliverable=programme.world.deliverable_a, member=programme.member_a
            )
        )


def cohorts(programme, n):
    for cohort in CohortFactory.create_batch(n):
        MemberFactory(cohort=cohort, topic=programme.world.topic_a)


def members(programme, n):
    MemberFactory.create_batch(
        n, cohort=programme.world.cohort, topic=programme.world.topic_a, is_public=True
    )


def milestones(programme, n):
    MilestoneFactory.create_batch(n, cohort=programme.world.cohort, topic=programme.world.topic_a)


def notifications(programme, n):
    NotificationFactory.create_batch(n, recipient=programme.users["member_a"])


def opt_outs(programme, n):
    taken = set(programme.member_a.reminder_opt_outs.values_list("kind", flat=True))
    free = [kind for kind in ["kick_off", "forum", "deadline", "demo_day"] if kind not in taken]
    for kind in free[:n]:
        ReminderOptOutFactory(member=programme.member_a, kind=kind)


def highlights(programme, n):
    QuoteFactory.create_batch(
        n, forum=programme.forum, speaker=programme.approved.speaker, featured=True
    )


def appearances(programme, n):
    speaker = programme.approved.speaker
    for i in range(n):
        forum, _theme, _speaker = published_forum(slug=f"more-{n}-{i}", title=f"论坛{n}-{i}")
        AppearanceFactory(forum=forum, speaker=speaker, role="host")


def search_entries(programme, n):
    forums(programme, n)
    for forum in programme.forum.__class__.objects.all():
        index_forum(forum)


def recaps(programme, n):
    forums(programme, n)
    RecapFactory.create_batch(n)  # drafts, seen by organisers


LISTS = [
    ("api-v1:forum-list", {}, "organiser", forums),
    ("api-v1:forum-turn-list", {"forum_slug": "future-city"}, "anonymous", turns),
    ("api-v1:recap-list", {}, "organiser", recaps),
    ("api-v1:speaker-list", {}, "anonymous", speakers),
    ("api-v1:quote-list", {}, "admin", quotes),
    ("api-v1:topic-list", {}, "anonymous", topics),
    ("api-v1:deliverable-list", {}, "member_a", deliverables),
    ("api-v1:submission-list", {}, "member_a", submissions),
    ("api-v1:review-list", {}, "member_a", submissions),
    ("api-v1:cohort-list", {}, "anonymous", cohorts),
    ("api-v1:member-list", {}, "member_a", members),
    ("api-v1:member-list", {}, "anonymous", members),
    ("api-v1:milestone-list", {}, "anonymous", milestones),
    ("api-v1:notification-list", {}, "member_a", notifications),
    ("api-v1:reminder-opt-out-list", {}, "member_a", opt_outs),
    ("api-v1:search", {}, "anonymous", search_entries),
]
DETAILS = [
    ("api-v1:forum-detail", {"slug": "future-city"}, "anonymous", speakers),
    ("api-v1:recap-detail", {"forum_slug": "future-city"}, "anonymous", highlights),
    ("api-v1:speaker-detail", {"slug": "future-city-wang"}, "organiser", appearances),
]


def query_count(client, url):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(context.captured_queries), response.json()


@pytest.mark.parametrize(
    ("name", "kwargs", "role", "grow"),
    LISTS + DETAILS,
    ids=[f"{name}-{role}" for name, _kwargs, role, _grow in LISTS + DETAILS],
)
def test_list_costs_the_same_queries_with_more_rows(
    programme, django_assert_max_num_queries, name, kwargs, role, grow
):
    client = api_client(programme.users[role])
    url = reverse(name, kwargs=kwargs) + ("?q=城市" if name == "api-v1:search" else "")
    grow(programme, 1)
    small, small_data = query_count(client, url)
    grow(programme, 3)

    with django_assert_max_num_queries(small):
        response = client.get(url)

    assert len(str(response.json())) > len(str(small_data))
