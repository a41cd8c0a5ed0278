"""Benchmark of the reminder sweep: 100 cohorts × 35 members × 40 milestones.

Runs in a throwaway test database (SQLite in memory by default; PostgreSQL when
DATABASE_URL says so: a `test_…` database is created and dropped), and prints the time and
the number of queries of a sweep with reminders due, of one with nothing due, and of
sending what the first claimed (into Django's in-memory mail outbox). `make bench` runs it
on its PostgreSQL cluster and reports the figures `run()` returns (`--json FILE` writes them).
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


def build(today):
    """The data: cohorts started on staggered days, a milestone every 6 days in each."""
    from accounts.models import User
    from cohorts.models import Cohort, Member, Milestone
    from topics.models import Topic

    topics = Topic.objects.bulk_create(
        Topic(slug=f"topic-{n}", name=f"课题{n}", position=n) for n in range(6)
    )
    cohorts = Cohort.objects.bulk_create(
        Cohort(
            name=f"第{n}期",
            slug=f"cohort-{n}",
            starts_on=today - datetime.timedelta(days=60 + n % 30),
            time_zone=ZONES[n % len(ZONES)],
        )
        for n in range(COHORTS)
    )
    users = User.objects.bulk_create(
        User(email=f"member{n}@bench.example", name=f"学员{n}", password="!")
        for n in range(COHORTS * MEMBERS)
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


def run():
    """Build the data in a throwaway database, sweep and send; returns the figures."""
    from cohorts import reminders
    from cohorts.models import Reminder

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
        build(today)
        figures["build_seconds"] = round(time.perf_counter() - started, 1)
        print(
            f"{COHORTS} cohorts × {MEMBERS} members × {MILESTONES} milestones on "
            f"{connection.vendor} ({name}), built in {time.perf_counter() - started:.1f} s"
        )
        # 09:05 in Shanghai: the reminders of the Asian cohorts are due.
        now = datetime.datetime.combine(today, datetime.time(1, 5), tzinfo=UTC)
        sweep = measure(
            "sweep, reminders due", lambda: reminders.sweep_reminders(now=now), figures, "sweep"
        )
        figures["sweep"].update(
            created=sweep.created, claimed=len(sweep.claimed), chunks=len(sweep.chunks)
        )
        print(
            f"    created {sweep.created} rows, claimed {len(sweep.claimed)} to send "
            f"in {len(sweep.chunks)} chunks of {settings.REMINDER_CHUNK_SIZE}"
        )

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
