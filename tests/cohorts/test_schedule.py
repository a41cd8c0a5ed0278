"""The schedule: the default generator, organisers' milestone pages with their validation,
a member's schedule page (list and month), reminder settings, and who may open what.
"""

import datetime
import re
import zoneinfo
from dataclasses import dataclass
from html import unescape

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLResolver, get_resolver, reverse
from django.utils import translation

from accounts.models import Role
from cohorts import schedule
from cohorts.models import Milestone, Reminder, ReminderOptOut
from tests.cohorts.helpers import build_world
from tests.factories import (
    CohortFactory,
    DeliverableFactory,
    MemberFactory,
    MilestoneFactory,
    ReminderFactory,
    SubmissionFactory,
    TopicFactory,
    UserFactory,
)
from tests.html import elements, texts
from topics.models import Deliverable

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def local(zone, *args):
    return datetime.datetime(*args, tzinfo=zone)


def field_errors(html, name):
    """The error messages shown next to the form field `name`."""
    fields = [f for f in elements(html, "<div") if f'name="{name}"' in f]
    return [unescape(t) for t in texts(fields[0], '<ul class="errorlist"')] if fields else []


@pytest.fixture
def signed_in_organiser(client, organiser):
    client.force_login(organiser)
    return client


# --- The default schedule -----------------------------------------------------------------


def test_generate_default_schedule_fills_eight_months_with_each_topics_deliverables():
    topics = TopicFactory.create_batch(6)
    cohort = CohortFactory(starts_on=datetime.date(2027, 3, 1), time_zone="Europe/Berlin")

    milestones = schedule.generate_default_schedule(cohort)

    zone = cohort.zone
    assert len(milestones) == 11
    assert [m.kind for m in milestones].count(Milestone.Kind.DEADLINE) == 4
    assert milestones[0].starts_at == local(zone, 2027, 3, 1, 10, 0)
    assert all(
        cohort.starts_on <= m.starts_at.astimezone(zone).date() <= cohort.ends_on
        for m in milestones
    )
    assert Deliverable.objects.filter(milestone__cohort=cohort).count() == 4 * len(topics)
    # Created in the programme's language, whatever the organiser's.
    assert milestones[0].title == "开营仪式"


def test_generate_default_schedule_stretches_to_a_shorter_cohort():
    cohort = CohortFactory(starts_on=datetime.date(2027, 1, 1), length_months=4)

    milestones = schedule.generate_default_schedule(cohort)

    last = milestones[-1].starts_at.astimezone(cohort.zone).date()
    assert (len(milestones), cohort.starts_on <= last <= cohort.ends_on) == (11, True)
    assert last > cohort.ends_on - datetime.timedelta(days=14)


def test_generate_default_schedule_twice_is_refused():
    cohort = CohortFactory()
    schedule.generate_default_schedule(cohort)

    with translation.override("en"), pytest.raises(ValidationError) as excinfo:
        schedule.generate_default_schedule(cohort)

    assert excinfo.value.messages == [
        "This cohort has a schedule already: change its milestones instead."
    ]
    assert Milestone.objects.filter(cohort=cohort).count() == 11


def test_organiser_generates_the_default_schedule_from_the_schedule_page(signed_in_organiser):
    cohort = CohortFactory(starts_on=datetime.date(2027, 3, 1))
    url = reverse("organise-schedule:milestones", kwargs={"slug": cohort.slug})
    empty = signed_in_organiser.get(url)

    response = signed_in_organiser.post(
        reverse("organise-schedule:generate", kwargs={"slug": cohort.slug}), follow=True
    )

    assert 'data-testid="generate"' in empty.text
    assert len(re.findall(r'<tr id="milestone-\d+"', response.text)) == 11
    assert texts(response.text, '<time class="schedule__when"')[0] == "2027年3月1日 10:00–12:00"


# --- Adding, changing and removing milestones ---------------------------------------------


def milestone_post(**fields):
    data = {
        "kind": "workshop",
        "title": "数据共享工作坊",
        "topic": "",
        "starts_at": "2027-03-10T14:00",
        "ends_at": "2027-03-10T17:00",
        "location": "深圳 腾讯滨海大厦",
        "online_url": "",
        "description": "",
    }
    return {**data, **fields}


def test_organiser_adds_a_milestone_in_the_cohorts_time_zone(signed_in_organiser):
    cohort = CohortFactory(starts_on=datetime.date(2027, 3, 1), time_zone="Europe/Berlin")

    response = signed_in_organiser.post(
        reverse("organise-schedule:milestone-add", kwargs={"slug": cohort.slug}),
        milestone_post(),
    )

    milestone = Milestone.objects.get(cohort=cohort)
    assert response.status_code == 302
    assert (milestone.title, milestone.starts_at, milestone.ends_at) == (
        "数据共享工作坊",
        datetime.datetime(2027, 3, 10, 13, 0, tzinfo=UTC),
        datetime.datetime(2027, 3, 10, 16, 0, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"ends_at": "2027-03-10T13:00"},
            "ends_at",
            "The end is before the start.",
        ),
        (
            {"starts_at": "2027-11-02T14:00", "ends_at": ""},
            "starts_at",
            "Outside the cohort's programme: choose a time from March 1, 2027 to Oct. 31, 2027.",
        ),
        (
            {"starts_at": "2027-02-28T23:30", "ends_at": ""},
            "starts_at",
            "Outside the cohort's programme: choose a time from March 1, 2027 to Oct. 31, 2027.",
        ),
    ],
)
def test_milestone_that_does_not_fit_is_refused_next_to_the_field(
    signed_in_organiser, fields, field, message
):
    cohort = CohortFactory(starts_on=datetime.date(2027, 3, 1))

    response = signed_in_organiser.post(
        reverse("organise-schedule:milestone-add", kwargs={"slug": cohort.slug}),
        milestone_post(**fields),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 400
    assert field_errors(response.text, field) == [message]
    assert not Milestone.objects.filter(cohort=cohort).exists()


def test_milestone_in_a_topic_of_another_cohort_is_refused_next_to_the_field(
    signed_in_organiser,
):
    cohort = CohortFactory(starts_on=datetime.date(2027, 3, 1))
    own = MemberFactory(cohort=cohort).topic
    elsewhere = MemberFactory(cohort=CohortFactory()).topic
    url = reverse("organise-schedule:milestone-add", kwargs={"slug": cohort.slug})

    refused = signed_in_organiser.post(
        url, milestone_post(topic=elsewhere.pk), HTTP_ACCEPT_LANGUAGE="en"
    )
    accepted = signed_in_organiser.post(url, milestone_post(topic=own.pk))

    assert (refused.status_code, accepted.status_code) == (400, 302)
    assert field_errors(refused.text, "topic") == ["No group of this cohort works on this topic."]
    assert list(Milestone.objects.filter(cohort=cohort).values_list("topic", flat=True)) == [own.pk]
    # Only the cohort's topics are offered.
    assert f'value="{elsewhere.pk}"' not in signed_in_organiser.get(url).text


def test_moving_a_milestone_bumps_its_revision_and_moves_unsent_reminders(
    signed_in_organiser,
):
    cohort = CohortFactory(starts_on=datetime.date(2027, 3, 1))
    milestone = MilestoneFactory(
        cohort=cohort, starts_at=local(SHANGHAI, 2027, 4, 20, 14), ends_at=None
    )
    sent = ReminderFactory(
        milestone=milestone,
        offset=datetime.timedelta(days=-7),
        status=Reminder.Status.SENT,
        sent_at=local(SHANGHAI, 2027, 4, 13, 9),
    )
    waiting = ReminderFactory(milestone=milestone, member=sent.member)
    sent_due_at = sent.due_at

    response = signed_in_organiser.post(
        reverse(
            "organise-schedule:milestone-edit", kwargs={"slug": cohort.slug, "pk": milestone.pk}
        ),
        milestone_post(title=milestone.title, starts_at="2027-04-27T14:00", ends_at=""),
    )

    milestone.refresh_from_db()
    sent.refresh_from_db()
    waiting.refresh_from_db()
    assert response.status_code == 302
    assert (milestone.starts_at, milestone.sequence) == (local(SHANGHAI, 2027, 4, 27, 14), 1)
    assert (sent.status, sent.sequence, sent.due_at) == (Reminder.Status.SENT, 0, sent_due_at)
    assert (waiting.status, waiting.sequence, waiting.due_at) == (
        Reminder.Status.PENDING,
        1,
        local(SHANGHAI, 2027, 4, 26, 9),
    )


def test_changing_only_the_title_keeps_the_revision():
    milestone = MilestoneFactory(cohort=CohortFactory(starts_on=datetime.date(2027, 3, 1)))

    schedule.update_milestone(milestone, user=UserFactory(roles=[Role.ORGANISER]), title="新的标题")

    milestone.refresh_from_db()
    assert (milestone.title, milestone.sequence) == ("新的标题", 0)


def test_removing_a_milestone_cancels_unsent_reminders_and_keeps_the_sent_ones(
    signed_in_organiser,
):
    milestone = MilestoneFactory(title="课题拆解工作坊")
    pending = ReminderFactory(milestone=milestone, milestone_title=milestone.title)
    sent = ReminderFactory(
        milestone=milestone,
        milestone_title=milestone.title,
        offset=datetime.timedelta(days=-7),
        status=Reminder.Status.SENT,
        sent_at=milestone.starts_at - datetime.timedelta(days=7),
    )
    url = reverse(
        "organise-schedule:milestone-remove",
        kwargs={"slug": milestone.cohort.slug, "pk": milestone.pk},
    )
    confirm = signed_in_organiser.get(url, HTTP_ACCEPT_LANGUAGE="en")

    response = signed_in_organiser.post(url)

    pending.refresh_from_db()
    sent.refresh_from_db()
    assert "1 reminder not yet sent is cancelled." in texts(confirm.text, "<li")
    assert response.status_code == 302
    assert not Milestone.objects.filter(pk=milestone.pk).exists()
    assert (pending.status, pending.reason, pending.milestone) == (
        Reminder.Status.CANCELLED,
        "The milestone was removed.",
        None,
    )
    with translation.override("en"):
        label = str(sent)
    assert (sent.status, label) == (
        Reminder.Status.SENT,
        f"课题拆解工作坊 → {sent.member} (7 days before)",
    )


def test_removing_a_deadline_with_work_handed_in_is_refused(signed_in_organiser):
    submission = SubmissionFactory()
    milestone = submission.deliverable.milestone

    response = signed_in_organiser.post(
        reverse(
            "organise-schedule:milestone-remove",
            kwargs={"slug": milestone.cohort.slug, "pk": milestone.pk},
        ),
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert Milestone.objects.filter(pk=milestone.pk).exists()
    assert texts(response.text, '<li class="message message--error"') == [
        "Groups have handed in work for this deadline: move it instead of removing it."
    ]


def test_removing_a_deadline_without_work_takes_its_deliverables(signed_in_organiser):
    deliverable = DeliverableFactory()
    milestone = deliverable.milestone

    schedule.remove_milestone(milestone, user=UserFactory(roles=[Role.ORGANISER]))

    assert not Deliverable.objects.filter(pk=deliverable.pk).exists()


# --- A member's schedule ------------------------------------------------------------------


@dataclass
class Programme:
    cohort: object
    member: object
    other_topic: object


@pytest.fixture
def programme():
    cohort = CohortFactory(
        starts_on=datetime.date(2027, 3, 1), time_zone="Europe/Berlin", slug="berlin"
    )
    member = MemberFactory(cohort=cohort, user=UserFactory(roles=[Role.MEMBER]))
    other = MemberFactory(cohort=cohort).topic
    zone = cohort.zone
    MilestoneFactory(
        cohort=cohort, kind="kick_off", title="开营仪式", starts_at=local(zone, 2027, 3, 1, 10)
    )
    # The night the clocks go forward: 10:00 is 08:00 UTC, not 09:00.
    MilestoneFactory(
        cohort=cohort,
        title="本组工作坊",
        topic=member.topic,
        starts_at=local(zone, 2027, 3, 28, 10),
    )
    MilestoneFactory(
        cohort=cohort, title="他组工作坊", topic=other, starts_at=local(zone, 2027, 3, 29, 10)
    )
    deadline = MilestoneFactory(
        cohort=cohort,
        kind="deadline",
        title="交付物一",
        starts_at=local(zone, 2027, 4, 15, 18),
        ends_at=None,
    )
    DeliverableFactory(milestone=deadline, topic=member.topic, title="问题定义与调研报告")
    DeliverableFactory(milestone=deadline, topic=other, title="他组的报告")
    return Programme(cohort, member, other)


def test_schedule_list_shows_the_cohorts_and_own_groups_milestones_in_local_time(client, programme):
    client.force_login(programme.member.user)

    response = client.get(
        reverse("schedule:member-schedule", kwargs={"cohort": programme.cohort.slug})
    )

    items = elements(response.text, '<li class="schedule__item')
    assert [texts(item, '<span class="schedule__title"') for item in items] == [
        ["开营仪式"],
        ["本组工作坊"],
        ["交付物一"],
    ]
    assert [texts(item, '<time class="schedule__when"')[0] for item in items] == [
        "2027年3月1日 10:00–13:00",
        "2027年3月28日 10:00–13:00",
        "2027年4月15日 18:00",
    ]
    assert texts(response.text, '<ul class="schedule__deliverables"') == [
        "问题定义与调研报告 未开始"
    ]


def test_schedule_month_view_puts_milestones_on_their_local_day(client, programme):
    client.force_login(programme.member.user)
    url = reverse("schedule:member-schedule", kwargs={"cohort": programme.cohort.slug})

    march = client.get(url, {"view": "month", "month": "2027-03"})
    april = client.get(url, {"view": "month", "month": "2027-04"})
    outside = client.get(url, {"view": "month", "month": "2031-01"})

    busy = re.findall(
        r'data-date="([0-9-]+)">\s*<span class="month__date"[^>]*>\d+</span>\s*'
        r'<a class="month__item[^"]*"[^>]*>\s*'
        r'<span class="month__time">([^<]*)</span> ([^<]*?)\s*</a>',
        march.text,
    )
    assert texts(march.text, '<h2 class="panel__title" id="month-title"') == ["2027年3月"]
    assert busy == [("2027-03-01", "10:00", "开营仪式"), ("2027-03-28", "10:00", "本组工作坊")]
    assert texts(april.text, '<a class="month__item') == ["18:00 交付物一"]
    assert len(texts(outside.text, '<h2 class="panel__title" id="month-title"')) == 1


def test_schedule_page_of_another_cohort_is_404(client, programme):
    client.force_login(programme.member.user)

    response = client.get(reverse("schedule:member-schedule", kwargs={"cohort": "elsewhere"}))

    assert response.status_code == 404


@pytest.mark.parametrize("view", ["list", "month"])
def test_schedule_page_queries_do_not_grow_with_the_schedule(
    client, programme, django_assert_num_queries, view
):
    client.force_login(programme.member.user)
    url = reverse("schedule:member-schedule", kwargs={"cohort": programme.cohort.slug})
    client.get(url, {"view": view, "month": "2027-03"})
    with CaptureQueriesContext(connection) as small:
        client.get(url, {"view": view, "month": "2027-03"})
    for day in range(2, 22):
        deadline = MilestoneFactory(
            cohort=programme.cohort,
            kind="deadline",
            starts_at=local(programme.cohort.zone, 2027, 3, day, 18),
            ends_at=None,
        )
        DeliverableFactory(milestone=deadline, topic=programme.member.topic)

    with django_assert_num_queries(len(small.captured_queries)):
        client.get(url, {"view": view, "month": "2027-03"})


# --- Reminder settings --------------------------------------------------------------------


def test_member_chooses_the_kinds_of_reminders_and_a_time_zone(client, programme):
    member = programme.member
    client.force_login(member.user)
    url = reverse("schedule:preferences", kwargs={"cohort": programme.cohort.slug})

    response = client.post(url, {"kinds": ["deadline", "demo_day"], "time_zone": "Asia/Tokyo"})

    member.refresh_from_db()
    assert response.status_code == 302
    assert sorted(ReminderOptOut.objects.filter(member=member).values_list("kind", flat=True)) == [
        "forum",
        "kick_off",
        "workshop",
    ]
    assert member.time_zone == "Asia/Tokyo"
    page = client.get(url)
    assert re.findall(r'name="kinds" value="(\w+)"[^>]* checked', page.text) == [
        "deadline",
        "demo_day",
    ]


def test_member_with_an_unknown_time_zone_is_refused(client, programme):
    client.force_login(programme.member.user)

    response = client.post(
        reverse("schedule:preferences", kwargs={"cohort": programme.cohort.slug}),
        {"kinds": ["deadline"], "time_zone": "Mars/Olympus"},
    )

    assert response.status_code == 400
    assert ReminderOptOut.objects.filter(member=programme.member).count() == 0


# --- Who may open what --------------------------------------------------------------------

NAMESPACES = {"schedule", "organise-schedule"}
ROLES = ["anonymous", "member_a", "member_b", "organiser", "admin"]
LOGIN = "login"
ORGANISERS_GET = (LOGIN, 403, 403, 200, 200)
ORGANISERS_POST = (LOGIN, 403, 403, 302, 302)
OWN_MEMBERSHIP = (LOGIN, 200, 200, 404, 404)

RULES = {
    "schedule:cohort-feed": ("get", "slug", (200,) * 5),
    "schedule:member-feed": ("get", "token", (200,) * 5),
    "schedule:member-schedule": ("get", "cohort", OWN_MEMBERSHIP),
    "schedule:preferences": ("get", "cohort", OWN_MEMBERSHIP),
    "schedule:feed-reset": ("post", "cohort", (LOGIN, 302, 302, 404, 404)),
    "organise-schedule:milestones": ("get", "slug", ORGANISERS_GET),
    "organise-schedule:generate": ("post", "slug", ORGANISERS_POST),
    "organise-schedule:milestone-add": ("get", "slug", ORGANISERS_GET),
    "organise-schedule:milestone-edit": ("get", "slug_milestone", ORGANISERS_GET),
    "organise-schedule:milestone-remove": ("get", "slug_milestone", ORGANISERS_GET),
    "organise-schedule:send-reminders": ("post", "slug_milestone", ORGANISERS_POST),
    "organise-schedule:reminders": ("get", "slug", ORGANISERS_GET),
}


def url_names():
    names = set()
    for pattern in get_resolver().url_patterns:
        if isinstance(pattern, URLResolver) and pattern.namespace in NAMESPACES:
            names |= {f"{pattern.namespace}:{p.name}" for p in pattern.url_patterns}
    return names


def test_every_schedule_url_has_a_permission_rule():
    assert url_names() == set(RULES)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(RULES))
def test_schedule_url_answers_each_role_as_its_rule_says(client, name, role):
    world = build_world()
    member = world.member_a
    member.calendar_token = "secret-token-of-member-a"
    member.save()
    method, kind, expected = RULES[name]
    kwargs = {
        "slug": {"slug": world.cohort.slug},
        "cohort": {"cohort": world.cohort.slug},
        "token": {"token": member.calendar_token},
        "slug_milestone": {"slug": world.cohort.slug, "pk": world.deliverable_a.milestone_id},
    }[kind]
    users = {
        "anonymous": None,
        "member_a": member.user,
        "member_b": world.member_b.user,
        "organiser": UserFactory(roles=[Role.ORGANISER]),
        "admin": UserFactory(is_staff=True, is_superuser=True, roles=[Role.ADMIN]),
    }
    if users[role]:
        client.force_login(users[role])

    response = getattr(client, method)(reverse(name, kwargs=kwargs))

    outcome = (
        LOGIN
        if response.status_code == 302 and response.url.startswith("/accounts/login/")
        else response.status_code
    )
    assert outcome == expected[ROLES.index(role)]
