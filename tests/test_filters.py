"""The day filters of the pages and the API: whole days in the portal's time zone."""

import datetime
import zoneinfo

import pytest
from django.urls import reverse

from forums.models import Forum
from tests.api.conftest import published_forum

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def slugs(client, **query):
    response = client.get(reverse("api-v1:forum-list"), query)
    assert response.status_code == 200, response.content
    return sorted(forum["slug"] for forum in response.json()["results"])


@pytest.fixture
def forums(db):
    """Forums at the first and the last minute of 1 March 2026, Shanghai time (the portal's),
    which are 28 February 16:00 and 1 March 15:59 in UTC, and one a day later.
    """
    moments = {
        "first-minute": datetime.datetime(2026, 3, 1, 0, 0, tzinfo=SHANGHAI),
        "last-minute": datetime.datetime(2026, 3, 1, 23, 59, tzinfo=SHANGHAI),
        "next-day": datetime.datetime(2026, 3, 2, 0, 0, tzinfo=SHANGHAI),
    }
    for slug, moment in moments.items():
        forum, _theme, _speaker = published_forum(slug=slug, title=slug)
        Forum.objects.filter(pk=forum.pk).update(starts_at=moment)


def test_on_or_after_a_day_starts_at_its_first_minute_in_the_portals_zone(client, forums):
    assert slugs(client, starts_from="2026-03-01") == ["first-minute", "last-minute", "next-day"]
    assert slugs(client, starts_from="2026-03-02") == ["next-day"]


def test_on_or_before_a_day_ends_after_its_last_minute_in_the_portals_zone(client, forums):
    assert slugs(client, starts_until="2026-03-01") == ["first-minute", "last-minute"]
    assert slugs(client, starts_until="2026-02-28") == []


def test_one_day_from_and_until_is_that_day(client, forums):
    assert slugs(client, starts_from="2026-03-01", starts_until="2026-03-01") == [
        "first-minute",
        "last-minute",
    ]
