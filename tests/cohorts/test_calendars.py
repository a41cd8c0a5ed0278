"""The iCalendar feeds, read back by a second, independent parser (`ics`), as a calendar app
would: the cohort's public feed and a member's private one behind a secret address.
"""

import datetime
import zoneinfo

import ics
import pytest
from django.urls import reverse

from accounts.models import Role
from cohorts import schedule, services
from cohorts.models import Milestone
from tests.factories import (
    CohortFactory,
    DeliverableFactory,
    MemberFactory,
    MilestoneFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def read_calendar(response):
    """The events of an .ics response as the `ics` package parses them, by UID."""
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = ics.Calendar(response.content.decode("utf-8"))
    return {event.uid: event for event in calendar.events}


@pytest.fixture
def cohort(settings):
    settings.SITE_URL = "https://portal.example.org"
    return CohortFactory(
        name="WeCity 加速器柏林班",
        slug="berlin",
        starts_on=datetime.date(2027, 3, 1),
        time_zone="Europe/Berlin",
    )


@pytest.fixture
def milestones(cohort):
    member = MemberFactory(cohort=cohort, user=UserFactory(language="en"))
    other = MemberFactory(cohort=cohort).topic
    kick_off = MilestoneFactory(
        cohort=cohort,
        kind="kick_off",
        title="开营仪式",
        starts_at=datetime.datetime(2027, 3, 1, 10, tzinfo=BERLIN),
        ends_at=datetime.datetime(2027, 3, 1, 12, tzinfo=BERLIN),
        location="",
        online_url="https://meeting.example.org/kick-off",
    )
    # After the clocks went forward: 10:00 in Berlin is 08:00 UTC.
    own = MilestoneFactory(
        cohort=cohort,
        title="本组工作坊",
        topic=member.topic,
        starts_at=datetime.datetime(2027, 3, 30, 10, tzinfo=BERLIN),
        ends_at=datetime.datetime(2027, 3, 30, 13, tzinfo=BERLIN),
    )
    theirs = MilestoneFactory(cohort=cohort, title="他组工作坊", topic=other)
    deadline = MilestoneFactory(
        cohort=cohort,
        kind="deadline",
        title="交付物一",
        starts_at=datetime.datetime(2027, 4, 15, 18, tzinfo=BERLIN),
        ends_at=None,
        location="",
    )
    DeliverableFactory(milestone=deadline, topic=member.topic, title="问题定义与调研报告")
    DeliverableFactory(milestone=deadline, topic=other, title="他组的报告")
    return {
        "member": member,
        "kick_off": kick_off,
        "own": own,
        "theirs": theirs,
        "deadline": deadline,
    }


def test_public_feed_lists_every_milestone_with_stable_uids_in_the_cohorts_zone(
    client, cohort, milestones
):
    response = client.get(reverse("schedule:cohort-feed", kwargs={"slug": cohort.slug}))

    events = read_calendar(response)
    own = events[f"milestone-{milestones['own'].pk}@portal.example.org"]
    kick_off = events[f"milestone-{milestones['kick_off'].pk}@portal.example.org"]
    assert len(events) == 4
    assert (own.name, own.begin.datetime, own.end.datetime) == (
        "本组工作坊",
        datetime.datetime(2027, 3, 30, 8, tzinfo=UTC),
        datetime.datetime(2027, 3, 30, 11, tzinfo=UTC),
    )
    assert own.begin.datetime.utcoffset() == datetime.timedelta(hours=2)
    assert (kick_off.begin.datetime.utcoffset(), kick_off.url) == (
        datetime.timedelta(hours=1),
        "https://meeting.example.org/kick-off",
    )
    assert own.location == "腾讯滨海大厦"
    assert b"X-WR-CALNAME:WeCity" in response.content
    assert b"BEGIN:VTIMEZONE" in response.content


def test_feed_of_an_unknown_cohort_is_404(client):
    response = client.get(reverse("schedule:cohort-feed", kwargs={"slug": "no-such"}))

    assert response.status_code == 404


def event_block(content, uid):
    """The lines of one VEVENT of an .ics document."""
    for block in content.decode().split("BEGIN:VEVENT")[1:]:
        if f"UID:{uid}\r\n" in block:
            return block.split("END:VEVENT")[0].split("\r\n")
    raise AssertionError(f"no event {uid}")


def test_moving_a_milestone_keeps_its_uid_and_bumps_sequence_and_last_modified(
    client, cohort, milestones
):
    url = reverse("schedule:cohort-feed", kwargs={"slug": cohort.slug})
    own = milestones["own"]
    Milestone.objects.filter(pk=own.pk).update(
        updated_at=datetime.datetime(2025, 1, 5, 9, tzinfo=UTC)
    )
    uid = f"milestone-{own.pk}@portal.example.org"
    before = client.get(url)

    schedule.update_milestone(
        own,
        user=UserFactory(roles=[Role.ORGANISER]),
        starts_at=datetime.datetime(2027, 4, 6, 10, tzinfo=BERLIN),
        ends_at=datetime.datetime(2027, 4, 6, 13, tzinfo=BERLIN),
    )
    after = client.get(url)

    assert set(read_calendar(after)) == set(read_calendar(before))
    old, new = read_calendar(before)[uid], read_calendar(after)[uid]
    assert new.begin.datetime == datetime.datetime(2027, 4, 6, 8, tzinfo=UTC)
    assert old.last_modified.datetime == datetime.datetime(2025, 1, 5, 9, tzinfo=UTC)
    assert new.last_modified > old.last_modified
    assert ("SEQUENCE:0" in event_block(before.content, uid)) is True
    assert ("SEQUENCE:1" in event_block(after.content, uid)) is True


def test_private_feed_has_the_members_schedule_and_their_groups_deliverables(
    client, cohort, milestones
):
    member = milestones["member"]
    services.reset_calendar_feed(member, user=member.user)
    member.refresh_from_db()

    response = client.get(reverse("schedule:member-feed", kwargs={"token": member.calendar_token}))

    events = read_calendar(response)
    titles = sorted(event.name for event in events.values())
    deadline = events[f"milestone-{milestones['deadline'].pk}@portal.example.org"]
    assert titles == ["Deliverable deadline：交付物一", "开营仪式", "本组工作坊"]
    assert "问题定义与调研报告" in deadline.description
    assert "他组的报告" not in deadline.description
    assert deadline.begin.datetime == datetime.datetime(2027, 4, 15, 16, tzinfo=UTC)
    assert response["Cache-Control"] == "private, no-store"


def test_private_feed_with_a_wrong_token_is_404(client, milestones):
    member = milestones["member"]
    services.reset_calendar_feed(member, user=member.user)

    response = client.get(reverse("schedule:member-feed", kwargs={"token": "not-the-token"}))

    assert response.status_code == 404


def test_reset_token_makes_the_old_address_404_and_the_new_one_work(client, milestones):
    member = milestones["member"]
    client.force_login(member.user)
    reset = reverse("schedule:feed-reset", kwargs={"cohort": member.cohort.slug})
    client.post(reset)
    member.refresh_from_db()
    old = member.calendar_token

    response = client.post(reset, follow=True, HTTP_ACCEPT_LANGUAGE="en")

    member.refresh_from_db()
    new_url = reverse("schedule:member-feed", kwargs={"token": member.calendar_token})
    assert member.calendar_token != old
    assert client.get(reverse("schedule:member-feed", kwargs={"token": old})).status_code == 404
    assert client.get(new_url).status_code == 200
    assert f'value="https://portal.example.org{new_url}"' in response.text
    assert "Your calendar has a new address; the old one no longer works." in response.text


def test_private_feed_of_a_removed_member_is_404(client, milestones):
    member = milestones["member"]
    services.reset_calendar_feed(member, user=member.user)
    member.refresh_from_db()
    member.removed_at = datetime.datetime(2027, 3, 2, tzinfo=UTC)
    member.save()

    response = client.get(reverse("schedule:member-feed", kwargs={"token": member.calendar_token}))

    assert response.status_code == 404


def test_generated_schedule_feed_parses_whole(client, cohort):
    schedule.generate_default_schedule(cohort)

    events = read_calendar(
        client.get(reverse("schedule:cohort-feed", kwargs={"slug": cohort.slug}))
    )

    assert len(events) == 11
    assert all(event.uid.endswith("@portal.example.org") for event in events.values())
