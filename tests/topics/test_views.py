import datetime
import re

import pytest
from django.utils import timezone

from accounts.models import Role
from tests.factories import (
    CohortFactory,
    DeliverableFactory,
    MemberFactory,
    TopicFactory,
    UserFactory,
)
from tests.html import texts

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["anonymous", "member", "organiser"])
def any_client(request, client):
    """Whoever visits: the directory is the same public one for all of them."""
    if request.param == "member":
        client.force_login(UserFactory(roles=[Role.MEMBER]))
    elif request.param == "organiser":
        client.force_login(UserFactory(roles=[Role.ORGANISER]))
    return client


def deliverable_due_in(days, **fields):
    due = timezone.now() + datetime.timedelta(days=days)
    return DeliverableFactory(milestone__starts_at=due, **fields)


@pytest.mark.parametrize(
    ("language", "names", "subtitles"),
    [
        ("zh-hans", ["数字政府", "智慧交通"], ["Digital government", "Smart mobility"]),
        ("en", ["Digital government", "Smart mobility"], []),
    ],
)
def test_topic_list_shows_topics_in_position_order_named_in_the_language(
    client, language, names, subtitles
):
    TopicFactory(name="智慧交通", name_en="Smart mobility", position=2)
    TopicFactory(name="数字政府", name_en="Digital government", position=1)

    response = client.get("/topics/", HTTP_ACCEPT_LANGUAGE=language)

    assert (
        texts(response.text, '<h2 class="card__title"'),
        texts(response.text, '<p class="card__sub"'),
    ) == (names, subtitles)


def test_topic_page_shows_the_chinese_name_and_the_brief(client):
    topic = TopicFactory(name="数字政府", name_en="Digital government", brief="让办事不再跑腿。")

    response = client.get(topic.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")

    assert (
        texts(response.text, "<h1"),
        texts(response.text, '<p class="article__subtitle"'),
        texts(response.text, '<div class="brief"'),
    ) == (["数字政府"], ["Digital government"], ["让办事不再跑腿。"])


def test_topic_page_lists_public_members_of_the_latest_cohort_only(any_client):
    topic = TopicFactory()
    older = CohortFactory(starts_on=datetime.date(2025, 11, 27))
    latest = CohortFactory(name="WeCity 加速器第二期", starts_on=datetime.date(2026, 11, 27))
    MemberFactory(cohort=latest, topic=topic, name="王五", is_public=True)
    MemberFactory(cohort=latest, topic=topic, name="李四", is_public=True)
    MemberFactory(
        cohort=latest,
        topic=topic,
        name="隐身学员",
        organisation="保密科技有限公司",
        is_public=False,
    )
    MemberFactory(cohort=latest, name="别组学员", is_public=True)
    MemberFactory(cohort=older, topic=topic, name="上期学员", is_public=True)

    response = any_client.get(topic.get_absolute_url())

    assert (
        texts(response.text, '<h2 id="members-title"'),
        texts(response.text, '<span class="person__name"'),
        "隐身学员" in response.text,
        "保密科技有限公司" in response.text,
    ) == (["WeCity 加速器第二期 的学员"], ["李四", "王五"], False, False)


def test_topic_page_without_public_members_says_so(client):
    member = MemberFactory(name="隐身学员", is_public=False)

    response = client.get(member.topic.get_absolute_url())

    assert (
        texts(response.text, '<p class="empty"')[0],
        "隐身学员" in response.text,
    ) == ("本课题目前还没有公开的学员。", False)


def test_topic_page_lists_upcoming_deliverables_of_the_latest_cohort_by_due_date(client):
    topic = TopicFactory()
    cohort = CohortFactory()
    deliverable_due_in(14, topic=topic, milestone__cohort=cohort, title="最终方案")
    deliverable_due_in(7, topic=topic, milestone__cohort=cohort, title="中期方案")
    deliverable_due_in(-1, topic=topic, milestone__cohort=cohort, title="已截止的方案")
    deliverable_due_in(3, milestone__cohort=cohort, title="别的课题的方案")

    response = client.get(topic.get_absolute_url())

    assert texts(response.text, '<h3 class="entry__title"') == ["中期方案", "最终方案"]


def test_topic_page_shows_the_due_time_in_the_cohort_time_zone(client):
    topic = TopicFactory()
    cohort = CohortFactory(time_zone="Asia/Tokyo")
    due = (timezone.now() + datetime.timedelta(days=30)).replace(
        hour=6, minute=0, second=0, microsecond=0
    )
    DeliverableFactory(topic=topic, milestone__cohort=cohort, milestone__starts_at=due)

    response = client.get(topic.get_absolute_url())

    assert re.findall(r"\d\d:\d\d</time>", response.text) == ["15:00</time>"]


def test_topic_page_without_a_cohort_shows_the_brief_only(client):
    topic = TopicFactory()

    response = client.get(topic.get_absolute_url())

    assert texts(response.text, "<h2") == ["课题说明"]


def test_topic_page_unknown_slug_is_not_found(client):
    TopicFactory(slug="digital-government")

    response = client.get("/topics/smart-mobility/")

    assert (response.status_code, texts(response.text, "<h1")) == (404, ["页面未找到"])
