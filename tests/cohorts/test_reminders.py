"""Reminders: when they go out (local hours across daylight saving), to whom (opt-outs,
groups that handed in, members without email), what moving or removing a milestone does, and
exactly once: retries, workers that die mid-send, two sweeps at once, a bounded sweep cost.

Tasks run eagerly here (test settings); `test_reminders_celery.py` runs a real worker.
Sending tests count "now" from the real clock and use hour offsets (REMINDER_OFFSETS accepts
them), so that what is due is due now; the local-hour rules are tested with explicit times.
"""

import datetime
import smtplib
import threading
import zoneinfo

import pytest
from django.core import mail
from django.core.mail.backends import locmem
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import formats, timezone, translation

from accounts.models import Role
from cohorts import reminders, schedule, tasks
from cohorts.models import Milestone, Notification, Reminder
from tests.factories import (
    CohortFactory,
    DeliverableFactory,
    MemberFactory,
    MilestoneFactory,
    ReminderFactory,
    ReminderOptOutFactory,
    SubmissionFactory,
    TopicFactory,
    UserFactory,
)
from tests.html import texts

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
MINUTE = datetime.timedelta(minutes=1)
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)
KINDS = [kind.value for kind in Milestone.Kind]


# --- When: local hours across daylight saving ---------------------------------------------


@pytest.mark.parametrize(
    ("starts_at", "offset", "due_at"),
    [
        # Spring forward in Berlin (28 March 2027): 09:00 is 08:00 UTC before, 07:00 after.
        (
            datetime.datetime(2027, 3, 30, 14, tzinfo=BERLIN),
            -7,
            datetime.datetime(2027, 3, 23, 8, tzinfo=UTC),
        ),
        (
            datetime.datetime(2027, 3, 30, 14, tzinfo=BERLIN),
            -1,
            datetime.datetime(2027, 3, 29, 7, tzinfo=UTC),
        ),
        (
            datetime.datetime(2027, 3, 29, 8, tzinfo=BERLIN),
            -1,
            datetime.datetime(2027, 3, 28, 7, tzinfo=UTC),
        ),
        # Fall back (31 October 2027).
        (
            datetime.datetime(2027, 11, 2, 14, tzinfo=BERLIN),
            -7,
            datetime.datetime(2027, 10, 26, 7, tzinfo=UTC),
        ),
        (
            datetime.datetime(2027, 11, 1, 14, tzinfo=BERLIN),
            -1,
            datetime.datetime(2027, 10, 31, 8, tzinfo=UTC),
        ),
        (
            datetime.datetime(2027, 10, 31, 18, tzinfo=BERLIN),
            -7,
            datetime.datetime(2027, 10, 24, 7, tzinfo=UTC),
        ),
        # A deadline's overdue reminder, the morning after.
        (
            datetime.datetime(2027, 3, 27, 18, tzinfo=BERLIN),
            1,
            datetime.datetime(2027, 3, 28, 7, tzinfo=UTC),
        ),
    ],
)
def test_reminder_goes_out_at_nine_local_time_across_daylight_saving(starts_at, offset, due_at):
    result = reminders.reminder_due_at(starts_at, datetime.timedelta(days=offset), BERLIN)

    assert result == due_at
    assert result.astimezone(BERLIN).time() == datetime.time(9)


def test_reminder_of_less_than_a_day_counts_from_the_exact_time():
    starts_at = datetime.datetime(2027, 3, 28, 10, tzinfo=BERLIN)

    result = reminders.reminder_due_at(starts_at, -2 * HOUR, BERLIN)

    assert result == datetime.datetime(2027, 3, 28, 6, tzinfo=UTC)


def test_default_offsets_are_a_week_and_a_day_before_and_a_day_after_a_deadline():
    assert [reminders.offsets_for(kind) for kind in ("workshop", "deadline")] == [
        [-7 * DAY, -DAY],
        [-7 * DAY, -DAY, DAY],
    ]


def berlin_programme():
    cohort = CohortFactory(starts_on=datetime.date(2027, 3, 1), time_zone="Europe/Berlin")
    member = MemberFactory(cohort=cohort)
    workshop = MilestoneFactory(
        cohort=cohort, starts_at=datetime.datetime(2027, 3, 30, 14, tzinfo=BERLIN), ends_at=None
    )
    return cohort, member, workshop


@pytest.mark.parametrize(
    ("now", "offsets"),
    [
        (datetime.datetime(2027, 3, 23, 7, 59, tzinfo=UTC), []),
        (datetime.datetime(2027, 3, 23, 8, 0, tzinfo=UTC), [-7 * DAY]),
        (datetime.datetime(2027, 3, 23, 19, 59, tzinfo=UTC), [-7 * DAY]),
        (datetime.datetime(2027, 3, 29, 6, 59, tzinfo=UTC), []),
        (datetime.datetime(2027, 3, 29, 7, 0, tzinfo=UTC), [-DAY]),
    ],
)
def test_sweep_creates_the_reminders_due_at_nine_in_berlin_across_the_change(now, offsets):
    _cohort, member, workshop = berlin_programme()

    sweep = reminders.sweep_reminders(now=now)

    rows = Reminder.objects.filter(milestone=workshop)
    assert [(r.offset, r.member_id, r.status) for r in rows] == [
        (offset, member.pk, Reminder.Status.CLAIMED) for offset in offsets
    ]
    assert (sweep.created, len(sweep.claimed)) == (len(offsets), len(offsets))


def test_sweep_lets_go_of_a_reminder_older_than_the_catch_up_window():
    _cohort, _member, workshop = berlin_programme()

    reminders.sweep_reminders(now=datetime.datetime(2027, 3, 23, 20, 1, tzinfo=UTC))

    assert not Reminder.objects.filter(milestone=workshop).exists()


@pytest.mark.parametrize(
    ("starts_on", "now"),
    [
        # The cohort starts on 1 March: a week before its kick-off it has not started.
        (datetime.date(2027, 3, 1), datetime.datetime(2027, 2, 22, 8, tzinfo=UTC)),
        # A cohort of one month ended on 31 March; its overdue reminder would be 1 April.
        (datetime.date(2027, 3, 1), datetime.datetime(2027, 4, 1, 7, tzinfo=UTC)),
    ],
)
def test_nothing_is_created_for_a_cohort_not_started_or_ended(starts_on, now):
    cohort = CohortFactory(starts_on=starts_on, length_months=1, time_zone="Europe/Berlin")
    MemberFactory(cohort=cohort)
    MilestoneFactory(
        cohort=cohort, kind="kick_off", starts_at=datetime.datetime(2027, 3, 1, 10, tzinfo=BERLIN)
    )
    MilestoneFactory(
        cohort=cohort,
        kind="deadline",
        starts_at=datetime.datetime(2027, 3, 31, 18, tzinfo=BERLIN),
        ends_at=None,
    )

    sweep = reminders.sweep_reminders(now=now)

    assert (sweep.created, Reminder.objects.count()) == (0, 0)


# --- Sending, end to end (eager tasks) ----------------------------------------------------


@pytest.fixture
def hourly(settings):
    """Reminders 2 hours before every milestone and 2 hours after a deadline."""
    settings.REMINDER_OFFSETS = {kind: [-48 * HOUR, -2 * HOUR] for kind in KINDS}
    settings.REMINDER_OFFSETS["deadline"] = [-48 * HOUR, -2 * HOUR, 2 * HOUR]
    settings.SITE_URL = "https://portal.example.org"
    return settings


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def cohort(now):
    return CohortFactory(
        slug="running",
        starts_on=now.astimezone(BERLIN).date() - datetime.timedelta(days=30),
        time_zone="Europe/Berlin",
    )


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    """Run beat's sweep task as the worker would, with the send tasks it queues."""

    def run():
        with django_capture_on_commit_callbacks(execute=True):
            tasks.sweep_reminders.delay()

    return run


def member_in(cohort, topic=None, **user):
    return MemberFactory(
        cohort=cohort,
        topic=topic or TopicFactory(),
        user=UserFactory(roles=[Role.MEMBER], **user),
    )


def recipients():
    return sorted(address for message in mail.outbox for address in message.to)


def test_sweep_reminds_the_members_a_milestone_concerns_once(hourly, cohort, now, sweep):
    topic, other = TopicFactory(), TopicFactory()
    a1, a2 = member_in(cohort, topic), member_in(cohort, topic)
    b = member_in(cohort, other)
    MilestoneFactory(cohort=cohort, topic=topic, title="本组工作坊", starts_at=now + HOUR)
    MilestoneFactory(cohort=cohort, title="全体论坛", kind="forum", starts_at=now + HOUR)
    MilestoneFactory(cohort=cohort, title="下周工作坊", starts_at=now + 7 * DAY)

    sweep()
    sweep()

    assert recipients() == sorted([a1.user.email, a2.user.email] * 2 + [b.user.email])
    assert set(Reminder.objects.values_list("status", flat=True)) == {Reminder.Status.SENT}
    assert Reminder.objects.filter(sent_at__isnull=False).count() == 5
    assert Notification.objects.filter(recipient=b.user).count() == 1


def test_reminder_email_is_in_the_members_language_with_the_time_in_their_zone(
    hourly, cohort, now, sweep
):
    member = member_in(cohort, language="en")
    member.time_zone = "Asia/Tokyo"
    member.save()
    milestone = MilestoneFactory(
        cohort=cohort,
        topic=member.topic,
        title="本组工作坊",
        starts_at=(now + HOUR).replace(second=0, microsecond=0),
        ends_at=None,
        location="腾讯滨海大厦",
    )
    tokyo = milestone.starts_at.astimezone(zoneinfo.ZoneInfo("Asia/Tokyo"))

    sweep()

    (message,) = mail.outbox
    html, mime = message.alternatives[0]
    link = f"https://portal.example.org/programme/schedule/running/#milestone-{milestone.pk}"
    with translation.override("en"):
        day, time = formats.date_format(tokyo, "DATE_FORMAT"), formats.time_format(tokyo)
    assert message.subject == f"Reminder: 本组工作坊 on {day}"
    assert f"{day} {time}" in message.body
    assert "(Asia/Tokyo)" in message.body
    assert link in message.body
    assert (mime, f'href="{link}"' in html, "腾讯滨海大厦" in html) == ("text/html", True, True)
    notification = Notification.objects.get(recipient=member.user)
    assert notification.text.startswith("Reminder: 本组工作坊, ")
    assert notification.url == f"/programme/schedule/running/#milestone-{milestone.pk}"


def test_member_who_opted_out_of_a_kind_is_skipped_with_the_reason(hourly, cohort, now, sweep):
    keen, tired = member_in(cohort), member_in(cohort)
    ReminderOptOutFactory(member=tired, kind="workshop")
    MilestoneFactory(cohort=cohort, starts_at=now + HOUR)

    sweep()

    assert recipients() == [keen.user.email]
    skipped = Reminder.objects.get(member=tired)
    assert (skipped.status, skipped.reason) == (
        Reminder.Status.SKIPPED,
        "The member opted out of reminders of this kind.",
    )


def test_deadline_reminds_only_groups_that_have_not_handed_in(hourly, cohort, now, sweep):
    done, late = TopicFactory(), TopicFactory()
    diligent, lagging = member_in(cohort, done), member_in(cohort, late)
    deadline = MilestoneFactory(
        cohort=cohort, kind="deadline", title="交付物一", starts_at=now - 3 * HOUR, ends_at=None
    )
    SubmissionFactory(
        deliverable=DeliverableFactory(milestone=deadline, topic=done), member=diligent
    )
    DeliverableFactory(milestone=deadline, topic=late)

    sweep()

    overdue = Reminder.objects.filter(offset=2 * HOUR)
    before = Reminder.objects.filter(offset=-2 * HOUR)
    assert recipients() == [lagging.user.email]
    assert mail.outbox[0].subject == "逾期：交付物一"
    assert {(r.member_id, r.status, r.reason) for r in overdue} == {
        (diligent.pk, Reminder.Status.SKIPPED, "The member's group has handed in."),
        (lagging.pk, Reminder.Status.SENT, ""),
    }
    # The "2 hours before" one was due while the sweep was away and the deadline is past.
    assert {r.reason for r in before} == {
        "The member's group has handed in.",
        "The milestone has passed.",
    }


def test_member_without_email_is_skipped_with_the_reason(hourly, cohort, now, sweep):
    MemberFactory(cohort=cohort, user=None)
    MilestoneFactory(cohort=cohort, starts_at=now + HOUR)

    sweep()

    row = Reminder.objects.get()
    assert (len(mail.outbox), row.status, row.reason) == (
        0,
        Reminder.Status.SKIPPED,
        "The member has no email address.",
    )


@pytest.mark.parametrize("kind", ["deadline", "workshop"])
@pytest.mark.parametrize("for_one_topic", [False, True])
def test_rows_the_database_writes_skip_whom_the_sender_would(
    hourly, cohort, now, kind, for_one_topic
):
    # The sweep's INSERT … SELECT decides who is skipped and why in SQL; the sender checks
    # again in Python (Audience.skip_reason). Both must agree, for every rule and their order.
    done, partly, none = TopicFactory(), TopicFactory(), TopicFactory()
    milestone = MilestoneFactory(
        cohort=cohort,
        kind=kind,
        starts_at=now + HOUR,
        ends_at=None,
        topic=done if for_one_topic else None,
    )
    members = [
        member_in(cohort, done),
        member_in(cohort, partly),
        member_in(cohort, none),
        member_in(cohort, none, is_active=False),
        member_in(cohort, done, email=""),
        MemberFactory(cohort=cohort, topic=partly, user=None),
        MemberFactory(cohort=cohort, topic=none, removed_at=now),
        member_in(CohortFactory(starts_on=cohort.starts_on), done),
    ]
    for topic, by, handed_in in ((done, 0, [True, True]), (partly, 1, [True, False])):
        for has in handed_in:
            deliverable = DeliverableFactory(milestone=milestone, topic=topic)
            if has:
                SubmissionFactory(deliverable=deliverable, member=members[by])
    for member, opted_out in ((members[1], kind), (members[5], kind), (members[2], "forum")):
        ReminderOptOutFactory(member=member, kind=opted_out)
    slot = reminders.Slot(Milestone.objects.get(), -2 * HOUR, now - MINUTE)

    created = reminders.create_reminders([slot])

    audience = reminders.Audience.of([slot.milestone])
    expected = {
        member.pk: audience.skip_reason(slot.milestone, member)
        for member in audience.recipients(slot.milestone)
    }
    rows = {r.member_id: r for r in Reminder.objects.all()}
    assert created == len(rows) == (2 if for_one_topic else 6)
    assert {pk: row.reason for pk, row in rows.items()} == expected
    assert {pk for pk, row in rows.items() if row.status == Reminder.Status.PENDING} == {
        pk for pk, reason in expected.items() if not reason
    }
    # Every rule comes into play: ("", opted out, no email, handed in) where they can.
    reasons = {(False, "deadline"): 4, (False, "workshop"): 3, (True, "deadline"): 1}
    assert len(set(expected.values())) == reasons.get((for_one_topic, kind), 2)
    assert reminders.create_reminders([slot]) == 0  # each row once


def test_moved_milestone_is_reminded_again_for_its_new_time(hourly, cohort, now, sweep):
    member = member_in(cohort, language="en")
    milestone = MilestoneFactory(cohort=cohort, starts_at=now + HOUR, ends_at=None)
    sweep()

    schedule.update_milestone(
        milestone, user=UserFactory(roles=[Role.ORGANISER]), starts_at=now + HOUR + 30 * MINUTE
    )
    sweep()

    rows = list(Reminder.objects.order_by("sequence"))
    assert [(r.sequence, r.status) for r in rows] == [
        (0, Reminder.Status.SENT),
        (1, Reminder.Status.SENT),
    ]
    assert recipients() == [member.user.email] * 2


def test_removed_milestone_cancels_reminders_already_queued(hourly, cohort, now):
    member_in(cohort)
    milestone = MilestoneFactory(cohort=cohort, starts_at=now + HOUR)
    swept = reminders.sweep_reminders()

    schedule.remove_milestone(milestone, user=UserFactory(roles=[Role.ORGANISER]))
    tasks.send_reminders.delay(reminder_ids=swept.claimed, claim=str(swept.claim))

    row = Reminder.objects.get()
    assert (len(mail.outbox), row.status, row.milestone, row.reason) == (
        0,
        Reminder.Status.CANCELLED,
        None,
        "The milestone was removed.",
    )


# --- Failures and exactly once ------------------------------------------------------------


class FlakyBackend(locmem.EmailBackend):
    """A mail server that drops the connection the first `failures` times."""

    failures = 0

    def send_messages(self, messages):
        if FlakyBackend.failures:
            FlakyBackend.failures -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


class WorkerKilled(BaseException):
    """Stands for SIGKILL: nothing in the worker gets to handle it."""


class DyingBackend(locmem.EmailBackend):
    """The worker dies while sending to `victim`, before or after the server accepted it."""

    victim = None
    after_accept = True

    def send_messages(self, messages):
        for message in messages:
            if message.to == [DyingBackend.victim]:
                DyingBackend.victim = None
                if DyingBackend.after_accept:
                    super().send_messages([message])
                raise WorkerKilled
        return super().send_messages(messages)


@pytest.fixture
def eager_retries():
    """Eager tasks run their retries at once (the countdown is a worker's) instead of raising."""
    conf = tasks.send_reminders.app.conf
    propagates = conf.task_eager_propagates
    conf.task_eager_propagates = False
    yield
    conf.task_eager_propagates = propagates


def test_mail_server_failure_is_retried_and_sent_once(hourly, cohort, now, sweep, eager_retries):
    hourly.EMAIL_BACKEND = "tests.cohorts.test_reminders.FlakyBackend"
    FlakyBackend.failures = 2
    member = member_in(cohort)
    MilestoneFactory(cohort=cohort, starts_at=now + HOUR)

    sweep()

    row = Reminder.objects.get()
    assert recipients() == [member.user.email]
    assert (row.status, row.attempts, row.reason) == (Reminder.Status.SENT, 3, "")


def test_mail_server_failing_every_time_is_recorded_as_failed_with_why(
    hourly, cohort, now, sweep, eager_retries
):
    hourly.EMAIL_BACKEND = "tests.cohorts.test_reminders.FlakyBackend"
    hourly.REMINDER_MAX_ATTEMPTS = 3
    FlakyBackend.failures = 99
    member_in(cohort)
    MilestoneFactory(cohort=cohort, starts_at=now + HOUR)

    sweep()
    sweep()

    row = Reminder.objects.get()
    assert (len(mail.outbox), row.status, row.attempts, row.reason) == (
        0,
        Reminder.Status.FAILED,
        3,
        "SMTPServerDisconnected: Connection unexpectedly closed",
    )
    FlakyBackend.failures = 0


def test_retry_waits_double_each_time_and_never_long():
    assert [reminders.retry_delay(attempt) for attempt in range(1, 7)] == [
        30,
        60,
        120,
        240,
        300,
        300,
    ]


def after_the_lease():
    """Ten minutes and a second pass, as far as the claims are concerned."""
    Reminder.objects.filter(claimed_at__isnull=False).update(
        claimed_at=F("claimed_at") - datetime.timedelta(seconds=601)
    )


@pytest.mark.parametrize("after_accept", [False, True])
def test_worker_killed_while_sending_is_finished_by_the_next_sweep(
    hourly, cohort, now, sweep, after_accept
):
    hourly.EMAIL_BACKEND = "tests.cohorts.test_reminders.DyingBackend"
    hourly.REMINDER_CHUNK_SIZE = 3
    members = [member_in(cohort) for _ in range(7)]
    MilestoneFactory(cohort=cohort, starts_at=now + HOUR)
    DyingBackend.victim, DyingBackend.after_accept = members[3].user.email, after_accept

    with pytest.raises(WorkerKilled):
        sweep()
    stranded = {r.member_id: r.status for r in Reminder.objects.exclude(status="sent")}
    sweep()  # within the lease: the dead worker's claims are left alone
    within_lease = len(mail.outbox)
    after_the_lease()
    sweep()

    emails = recipients()
    expected = sorted(m.user.email for m in members)
    if after_accept:
        # The documented window: accepted by the server, not yet marked sent. One message.
        expected = sorted([*expected, members[3].user.email])
    assert emails == expected
    assert stranded[members[3].pk] == Reminder.Status.SENDING
    assert within_lease == (3 + after_accept)
    assert set(Reminder.objects.values_list("status", flat=True)) == {Reminder.Status.SENT}
    assert Notification.objects.count() == 7


def test_sweep_requeues_only_claims_older_than_the_lease(hourly, cohort, now, sweep):
    milestone = MilestoneFactory(cohort=cohort, starts_at=now + 5 * HOUR)
    stale, fresh = member_in(cohort), member_in(cohort)
    for member, age in ((stale, 11), (fresh, 1)):
        ReminderFactory(
            milestone=milestone,
            member=member,
            offset=-48 * HOUR,
            due_at=now - HOUR,
            status=Reminder.Status.CLAIMED,
            claimed_at=now - age * datetime.timedelta(minutes=1),
        )

    sweep()

    assert recipients() == [stale.user.email]
    assert Reminder.objects.get(member=fresh).status == Reminder.Status.CLAIMED


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_send_each_reminder_once(hourly, now):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite lets one writer in at a time, so nothing races")
    hourly.REMINDER_CHUNK_SIZE = 4
    cohort = CohortFactory(
        starts_on=now.astimezone(BERLIN).date() - datetime.timedelta(days=30),
        time_zone="Europe/Berlin",
    )
    members = [member_in(cohort) for _ in range(30)]
    MilestoneFactory(cohort=cohort, starts_at=now + HOUR)
    MilestoneFactory(cohort=cohort, kind="forum", starts_at=now + HOUR)
    barrier = threading.Barrier(2)
    errors = []

    def beat():
        try:
            barrier.wait(timeout=10)
            tasks.sweep_reminders.apply()
        except Exception as error:  # reported below: a thread's failure must fail the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=beat) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert recipients() == sorted(m.user.email for m in members for _ in range(2))
    assert Reminder.objects.filter(status=Reminder.Status.SENT).count() == 60
    assert Notification.objects.count() == 60


# --- Cost ---------------------------------------------------------------------------------


def test_sweep_queries_do_not_grow_with_milestones_not_due():
    _cohort, _member, _workshop = berlin_programme()
    now = datetime.datetime(2027, 3, 23, 8, 0, tzinfo=UTC)
    with CaptureQueriesContext(connection) as few:
        reminders.sweep_reminders(now=now)
    Reminder.objects.all().delete()
    for day in range(2, 22):
        other = CohortFactory(starts_on=datetime.date(2027, 3, 1), time_zone="Europe/Berlin")
        MemberFactory.create_batch(3, cohort=other)
        MilestoneFactory(cohort=other, starts_at=datetime.datetime(2027, 3, day, 14, tzinfo=BERLIN))

    with CaptureQueriesContext(connection) as many:
        sweep = reminders.sweep_reminders(now=now)

    assert (sweep.created, len(many.captured_queries)) == (1, len(few.captured_queries))


def due_within_the_hour(cohort, now, *, size):
    """3 × size members (the first opted out of workshops) and size workshops and size
    deadlines in an hour: 6 × size² reminders due, size of them skipped.
    """
    members = [member_in(cohort) for _ in range(3 * size)]
    ReminderOptOutFactory(member=members[0], kind="workshop")
    for _ in range(size):
        MilestoneFactory(cohort=cohort, starts_at=now + HOUR)
        deadline = MilestoneFactory(
            cohort=cohort, kind="deadline", starts_at=now + HOUR, ends_at=None
        )
        DeliverableFactory(milestone=deadline, topic=members[0].topic)


def sweep_queries(*, new, due):
    """What a sweep costs. On PostgreSQL: the milestones due (with whether their reminders
    exist), one INSERT … SELECT when some are new, and the claim, one UPDATE that also takes
    back dead workers' rows. Elsewhere the claim is the requeue, a SELECT, and an UPDATE when
    something is due (the claim's transaction is the test's own here: no BEGIN or COMMIT)."""
    claim = 1 if connection.vendor == "postgresql" else 2 + due
    return 1 + new + claim


@pytest.mark.parametrize("size", [1, 3])
def test_sweep_queries_do_not_grow_with_the_reminders_due(
    hourly, cohort, now, size, django_assert_num_queries
):
    due_within_the_hour(cohort, now, size=size)

    with django_assert_num_queries(sweep_queries(new=True, due=True)):
        sweep = reminders.sweep_reminders(now=now)

    assert (sweep.created, len(sweep.claimed)) == (6 * size**2, 6 * size**2 - size)
    assert sweep.claimed == list(
        Reminder.objects.filter(claim=sweep.claim)
        .order_by("due_at", "id")
        .values_list("pk", flat=True)
    )


@pytest.mark.parametrize("size", [1, 3])
def test_sweep_with_nothing_new_changes_no_row_and_costs_the_same(
    hourly, cohort, now, size, django_assert_num_queries
):
    due_within_the_hour(cohort, now, size=size)
    reminders.sweep_reminders(now=now)
    before = list(Reminder.objects.values_list("pk", "status", "claim", "claimed_at"))

    with django_assert_num_queries(sweep_queries(new=False, due=False)):
        sweep = reminders.sweep_reminders(now=now + 5 * MINUTE)

    assert (sweep.created, sweep.requeued, sweep.claimed) == (0, 0, [])
    assert list(Reminder.objects.values_list("pk", "status", "claim", "claimed_at")) == before


# --- The organisers' outbox, log and "send now" -------------------------------------------


@pytest.fixture
def organiser_client(client, organiser):
    client.force_login(organiser)
    return client


def test_outbox_lists_what_goes_out_in_the_next_days_with_the_skips(
    hourly, cohort, now, organiser_client
):
    keen, tired = member_in(cohort), member_in(cohort)
    ReminderOptOutFactory(member=tired, kind="workshop")
    MilestoneFactory(cohort=cohort, title="下周工作坊", starts_at=now + 3 * DAY)
    MilestoneFactory(cohort=cohort, title="下月工作坊", starts_at=now + 30 * DAY)

    response = organiser_client.get(
        reverse("organise-schedule:reminders", kwargs={"slug": cohort.slug})
    )

    rows = texts(response.text, '<tr class="outbox__row"')
    assert len(rows) == 2
    assert all("下周工作坊" in row for row in rows)
    assert all("1 名学员" in row and "1 人跳过： 该学员已退订此类提醒。" in row for row in rows)
    assert keen.pk


def test_log_filters_by_status_and_says_why(hourly, cohort, now, organiser_client, sweep):
    keen, tired = member_in(cohort), member_in(cohort)
    ReminderOptOutFactory(member=tired, kind="workshop")
    MilestoneFactory(cohort=cohort, title="本周工作坊", starts_at=now + HOUR)
    sweep()
    url = reverse("organise-schedule:reminders", kwargs={"slug": cohort.slug})

    skipped = organiser_client.get(url, {"status": "skipped"}, HTTP_ACCEPT_LANGUAGE="en")
    sent = organiser_client.get(url, {"status": "sent"})

    assert [
        row.split(" ")[-1] for row in texts(skipped.text, '<tr class="reminder-log__row"')
    ] != []
    assert texts(skipped.text, '<span class="note reminder-log__reason"') == [
        "The member opted out of reminders of this kind."
    ]
    assert [keen.name in row for row in texts(sent.text, '<tr class="reminder-log__row"')] == [True]


@pytest.mark.parametrize("size", [1, 20])
def test_reminder_pages_cost_the_same_whatever_the_log(
    hourly, cohort, now, organiser_client, size, django_assert_max_num_queries
):
    milestone = MilestoneFactory(cohort=cohort, starts_at=now + 3 * DAY)
    for _ in range(size):
        ReminderFactory(milestone=milestone, member=member_in(cohort), reason="SMTP 超时")
    url = reverse("organise-schedule:reminders", kwargs={"slug": cohort.slug})

    with django_assert_max_num_queries(16):
        response = organiser_client.get(url)

    assert len(texts(response.text, '<tr class="reminder-log__row"')) == size


def test_send_now_sends_the_next_reminder_once_however_often_pressed(
    hourly, cohort, now, organiser_client, django_capture_on_commit_callbacks
):
    members = [member_in(cohort) for _ in range(3)]
    milestone = MilestoneFactory(cohort=cohort, title="明天的工作坊", starts_at=now + 26 * HOUR)
    url = reverse(
        "organise-schedule:send-reminders", kwargs={"slug": cohort.slug, "pk": milestone.pk}
    )

    with django_capture_on_commit_callbacks(execute=True):
        first = organiser_client.post(url, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    with django_capture_on_commit_callbacks(execute=True):
        second = organiser_client.post(url, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    reminders.sweep_reminders(now=now + 25 * HOUR)

    assert recipients() == sorted(m.user.email for m in members)
    assert texts(first.text, '<li class="message message--success"') == [
        "3 reminders about “明天的工作坊” are on their way."
    ]
    assert texts(second.text, '<li class="message message--info"') == [
        "Everyone concerned has had this reminder about “明天的工作坊” already."
    ]
    assert {r.offset for r in Reminder.objects.all()} == {-2 * HOUR}


def test_send_now_for_a_cohort_that_has_ended_is_refused(organiser_client):
    cohort = CohortFactory(starts_on=datetime.date(2024, 1, 1))
    milestone = MilestoneFactory(cohort=cohort)

    response = organiser_client.post(
        reverse(
            "organise-schedule:send-reminders", kwargs={"slug": cohort.slug, "pk": milestone.pk}
        ),
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert texts(response.text, '<li class="message message--error"') == [
        "Reminders go out only while the cohort runs, from Jan. 1, 2024 to Aug. 31, 2024."
    ]
