import datetime
import re
from urllib.parse import quote

import pytest
from django.urls import reverse

from accounts.models import Role
from cohorts.models import Milestone
from tests.factories import (
    CohortFactory,
    MemberFactory,
    MilestoneFactory,
    TopicFactory,
    UserFactory,
)
from tests.html import elements, texts

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


@pytest.fixture(params=["anonymous", "member", "organiser"])
def any_client(request, client):
    """Whoever visits: the directory is the same public one for all of them."""
    if request.param == "member":
        client.force_login(UserFactory(roles=[Role.MEMBER]))
    elif request.param == "organiser":
        client.force_login(UserFactory(roles=[Role.ORGANISER]))
    return client


def test_cohort_list_shows_cohorts_newest_first_with_places_taken(client):
    older = CohortFactory(name="WeCity 加速器第一期", starts_on=datetime.date(2025, 11, 27))
    newer = CohortFactory(
        name="WeCity 加速器第二期", starts_on=datetime.date(2026, 11, 27), capacity=30
    )
    MemberFactory(cohort=newer, is_public=True)
    MemberFactory(cohort=newer, is_public=False)
    MemberFactory(cohort=older)

    response = client.get(reverse("cohorts:cohort-list"))

    assert (
        texts(response.text, '<h2 class="entry__title"'),
        re.findall(r"已录取 \d+ / \d+ 名", response.text),
    ) == (
        ["WeCity 加速器第二期", "WeCity 加速器第一期"],
        ["已录取 2 / 30 名", "已录取 1 / 35 名"],
    )


def test_cohort_list_without_cohorts_says_so(client):
    response = client.get(reverse("cohorts:cohort-list"))

    assert texts(response.text, '<p class="empty"') == ["还没有班级。"]


def test_cohort_page_directory_lists_public_members_by_topic_in_topic_order(any_client):
    cohort = CohortFactory()
    mobility = TopicFactory(name="智慧交通", position=2)
    government = TopicFactory(name="数字政府", position=1)
    MemberFactory(cohort=cohort, topic=mobility, name="赵六", is_public=True)
    MemberFactory(cohort=cohort, topic=government, name="王五", is_public=True)
    MemberFactory(cohort=cohort, topic=government, name="李四", is_public=True)
    MemberFactory(
        cohort=cohort,
        topic=government,
        name="隐身学员",
        organisation="保密科技有限公司",
        is_public=False,
    )
    MemberFactory(topic=government, name="别期学员", is_public=True)

    response = any_client.get(cohort.get_absolute_url())

    assert (
        texts(response.text, '<h3 class="role-title"'),
        texts(response.text, '<span class="person__name"'),
        "隐身学员" in response.text,
        "保密科技有限公司" in response.text,
    ) == (["数字政府", "智慧交通"], ["李四", "王五", "赵六"], False, False)


def test_cohort_page_without_public_members_says_so(client):
    member = MemberFactory(name="隐身学员", is_public=False)

    response = client.get(member.cohort.get_absolute_url())

    assert (texts(response.text, '<p class="empty"')[-1], "隐身学员" in response.text) == (
        "目前还没有公开的学员。",
        False,
    )


def test_cohort_page_marks_demo_members(client):
    cohort = CohortFactory()
    MemberFactory(cohort=cohort, name="演示学员", is_public=True, is_demo=True)

    response = client.get(cohort.get_absolute_url())

    assert texts(response.text, '<span class="badge badge--demo"') == ["演示"]


def test_cohort_page_schedule_in_time_order_in_the_cohort_time_zone(client):
    cohort = CohortFactory(time_zone="Asia/Tokyo")
    topic = TopicFactory(name="数字政府")
    MilestoneFactory(
        cohort=cohort,
        topic=topic,
        title="共创工作坊",
        starts_at=datetime.datetime(2026, 12, 11, 6, 0, tzinfo=UTC),
        ends_at=datetime.datetime(2026, 12, 11, 9, 0, tzinfo=UTC),
    )
    MilestoneFactory(
        cohort=cohort,
        kind=Milestone.Kind.KICK_OFF,
        title="开营仪式",
        starts_at=datetime.datetime(2026, 11, 27, 1, 0, tzinfo=UTC),
        ends_at=None,
    )

    response = client.get(cohort.get_absolute_url())

    assert [
        texts(item, "<span") for item in elements(response.text, '<li class="schedule__item')
    ] == [
        ["2026年11月27日", "10:00", "开营", "开营仪式", "腾讯滨海大厦"],
        ["2026年12月11日", "15:00–18:00", "工作坊", "共创工作坊", "腾讯滨海大厦"],
    ]
    assert texts(response.text, '<a class="chip"') == ["数字政府"]
    assert texts(response.text, '<p class="note"')[0] == "时间均为 Asia/Tokyo 时区。"


def test_cohort_page_chinese_slug_resolves(client):
    cohort = CohortFactory(slug="第一期", name="WeCity 加速器第一期")

    response = client.get(cohort.get_absolute_url())

    assert (cohort.get_absolute_url(), texts(response.text, "<h1")) == (
        f"/cohorts/{quote('第一期')}/",
        ["WeCity 加速器第一期"],
    )


def test_cohort_page_unknown_slug_is_not_found(client):
    CohortFactory(slug="cohort-1")

    response = client.get("/cohorts/cohort-2/")

    assert (response.status_code, texts(response.text, "<h1")) == (404, ["页面未找到"])
