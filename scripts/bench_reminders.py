"""Benchmark of the reminder sweep: 100 cohorts × 35 members × 40 milestones.

Runs in a throwaway test database (SQLite in memory by default; PostgreSQL when
DATABASE_URL says so: a `test_…` database is created and dropped), and prints the time and
the number of queries of a sweep with reminders due, of one with nothing due, and of
sending what the first claimed (into Django's in-memory mail outbox). `make bench` runs it
on its PostgreSQL cluster and reports the figures `run()` returns (`--json FILE` writes them).

Two scenarios, in the same database one after the other:

- staggered: the cohorts started on 30 different days in four time zones, so the 09:05
  sweep in Shanghai finds the reminders of a few cohorts (under a thousand);
- aligned: a second set of 100 cohorts forms one intake, all starting on the same day in
  Asia/Shanghai on the same schedule, so the 09:05 sweep of its busiest morning finds every
  cohort's reminders at once, more than REMINDER_SWEEP_LIMIT: the sweep claims that many
  and the next sweep the rest. The intake starts a year on, when the staggered cohorts have
  ended, so neither scenario's sweep sees the other's reminders.
"""

import argparse
import datetime
import json
import os
import sys
import time
import zoneinfo
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wecity.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

COHORTS, MEMBERS, MILESTONES = 100, 35, 40
ZONES = ["Asia/Shanghai", "Europe/Berlin", "America/New_York", "Asia/Tokyo"]
KINDS = ["workshop", "forum", "deadline", "workshop", "demo_day"]
UTC = datetime.UTC
# The aligned intake's busiest morning: day 71 is the day before milestone 12 (a deadline)
# and a week before milestone 13 (a workshop), both for every member: 70 reminders per
# cohort, the most any day of this schedule has.
ALIGNED_DAY = 71


def build(starts, *, prefix, topics):
    """Cohorts starting on (day, time zone) each of `starts`, of MEMBERS members, with
    MILESTONES milestones, one every 6 days from the start.
    """
    from accounts.models import User
    from cohorts.models import Cohort, Member, Milestone

    cohorts = Cohort.objects.bulk_create(
        Cohort(name=f"第{n}期", slug=f"{prefix}-{n}", starts_on=day, time_zone=zone)
        for n, (day, zone) in enumerate(starts)
    )
    users = User.objects.bulk_create(
        User(email=f"{prefix}-member{n}@bench.example", name=f"学员{n}", password="!")
        for n in range(len(cohorts) * MEMBERS)
    )
    Member.objects.bulk_create(
        Member(
            cohort=cohort,
            user=users[c * MEMBERS + m],
            topic=topics[m % len(topics)],
            name=f"学员{c}-{m}",
        )
        for c, cohort in enumerate(cohorts)
        for m in range(MEMBERS)
    )
    milestones = []
    for cohort in cohorts:
        zone = zoneinfo.ZoneInfo(cohort.time_zone)
        for m in range(MILESTONES):
            day = cohort.starts_on + datetime.timedelta(days=m * 6)
            starts_at = datetime.datetime.combine(day, datetime.time(14)).replace(tzinfo=zone)
            milestones.append(
                Milestone(
                    cohort=cohort,
                    kind=KINDS[m % len(KINDS)],
                    title=f"里程碑{m}",
                    starts_at=starts_at,
                    topic=topics[m % len(topics)] if m % 4 == 3 else None,
                )
            )
    Milestone.objects.bulk_create(milestones, batch_size=1000)


def measure(label, function, figures, key):
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        result = function()
        elapsed = time.perf_counter() - started
    print(f"  {label}: {elapsed:.3f} s, {len(queries.captured_queries)} queries")
    figures[key] = {"seconds": round(elapsed, 3), "queries": len(queries.captured_queries)}
    return result


def measure_sweep(label, now, figures, key):
    """Time a sweep at `now` and record what it created and claimed."""
    from cohorts import reminders

    sweep = measure(label, lambda: reminders.sweep_reminders(now=now), figures, key)
    claimed = len(sweep.claimed)
    figures[key].update(
        created=sweep.created,
        claimed=claimed,
        chunks=len(sweep.chunks),
        queries_per_1000=round(figures[key]["queries"] / claimed * 1000, 2) if claimed else None,
    )
    print(
        f"    created {sweep.created} rows, claimed {claimed} to send in {len(sweep.chunks)} "
        f"chunks of {settings.REMINDER_CHUNK_SIZE}"
        + (f": {figures[key]['queries_per_1000']} queries per 1,000 claimed" if claimed else "")
    )
    return sweep


def run():
    """Build the data in a throwaway database, sweep and send; returns the figures."""
    from cohorts import reminders
    from cohorts.models import Reminder
    from topics.models import Topic

    setup_test_environment()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    figures = {
        "cohorts": COHORTS,
        "members": MEMBERS,
        "milestones": MILESTONES,
        "database": connection.vendor,
    }
    try:
        today = datetime.date.today()
        started = time.perf_counter()
        topics = Topic.objects.bulk_create(
            Topic(slug=f"topic-{n}", name=f"课题{n}", position=n) for n in range(6)
        )
        staggered = [
            (today - datetime.timedelta(days=60 + n % 30), ZONES[n % len(ZONES)])
            for n in range(COHORTS)
        ]
        build(staggered, prefix="cohort", topics=topics)
        figures["build_seconds"] = round(time.perf_counter() - started, 1)
        print(
            f"{COHORTS} cohorts × {MEMBERS} members × {MILESTONES} milestones on "
            f"{connection.vendor} ({name}), built in {time.perf_counter() - started:.1f} s"
        )
        print("Staggered cohorts")
        # 09:05 in Shanghai: the reminders of the Asian cohorts are due.
        now = datetime.datetime.combine(today, datetime.time(1, 5), tzinfo=UTC)
        sweep = measure_sweep("sweep, reminders due", now, figures, "sweep")

        def send():
            for chunk in sweep.chunks:
                reminders.deliver_reminders(chunk, claim=sweep.claim, now=now)

        measure(f"sending the {len(sweep.claimed)} claimed (in-memory mail)", send, figures, "send")
        figures["send"]["sent"] = Reminder.objects.filter(status=Reminder.Status.SENT).count()
        print(f"    sent {figures['send']['sent']}")
        later = now + datetime.timedelta(minutes=5)
        measure(
            "next sweep, nothing new",
            lambda: reminders.sweep_reminders(now=later),
            figures,
            "next_sweep",
        )
        quiet = now + datetime.timedelta(hours=3)
        measure(
            "sweep, nothing due",
            lambda: reminders.sweep_reminders(now=quiet),
            figures,
            "quiet_sweep",
        )

        started = time.perf_counter()
        intake = today + datetime.timedelta(days=365)
        build([(intake, "Asia/Shanghai")] * COHORTS, prefix="intake", topics=topics)
        built = time.perf_counter() - started
        print(
            f"Aligned intake: {COHORTS} more cohorts, all starting on {intake} in "
            f"Asia/Shanghai, built in {built:.1f} s"
        )
        # 09:05 in Shanghai on the intake's busiest morning.
        day = intake + datetime.timedelta(days=ALIGNED_DAY)
        now = datetime.datetime.combine(day, datetime.time(1, 5), tzinfo=UTC)
        measure_sweep("sweep, reminders due", now, figures, "aligned_sweep")
        left = Reminder.objects.filter(status=Reminder.Status.PENDING, due_at__lte=now).count()
        figures["aligned_sweep"].update(
            build_seconds=round(built, 1),
            day=ALIGNED_DAY,
            limit=settings.REMINDER_SWEEP_LIMIT,
            left_pending=left,
        )
        print(f"    left pending by the limit of {settings.REMINDER_SWEEP_LIMIT}: {left}")
        measure_sweep(
            "next sweep, the rest",
            now + datetime.timedelta(minutes=5),
            figures,
            "aligned_next_sweep",
        )
    finally:
        connection.creation.destroy_test_db(name, verbosity=0)
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    figures = run()
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
