"""Reminders through a real Celery worker and the configured broker (Redis in CI, the
filesystem transport on a bare machine), not eager tasks.

1. A worker in a thread (`celery.contrib.testing.worker.start_worker`) runs beat's sweep
   and the send tasks it fans out, end to end into Django's mail outbox.
2. `celery -A wecity worker` in a subprocess, sending through a slow local SMTP server, is
   killed with SIGKILL in the middle of a run and started again: every reminder arrives, and
   at most the one message in flight at the kill arrives twice (the documented window).
"""

import contextlib
import datetime
import os
import signal
import socketserver
import subprocess
import sys
import threading
import time
import uuid
import zoneinfo
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.conf import settings as django_settings
from django.core import mail
from django.db import connection, connections
from django.utils import timezone

from accounts.models import Role
from cohorts import tasks
from cohorts.models import Notification, Reminder
from tests.factories import (
    CohortFactory,
    MemberFactory,
    MilestoneFactory,
    ReminderFactory,
    TopicFactory,
    UserFactory,
)
from wecity.celery import app

pytestmark = pytest.mark.django_db(transaction=True)

HOUR = datetime.timedelta(hours=1)
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
ROOT = Path(django_settings.BASE_DIR)


def running_cohort(now):
    return CohortFactory(
        starts_on=now.astimezone(BERLIN).date() - datetime.timedelta(days=30),
        time_zone="Europe/Berlin",
    )


def wait_for(condition, *, timeout, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def close_connections(**kwargs):
    # The worker thread's database connection must not outlive the test database.
    connections.close_all()


@contextlib.contextmanager
def worker_app(tmp_path):
    """The project's app, sending to the broker for real; a filesystem broker in tmp_path."""
    conf = app.conf
    saved = {
        "task_always_eager": conf.task_always_eager,
        "broker_transport_options": dict(conf.broker_transport_options or {}),
    }
    conf.task_always_eager = False
    if str(conf.broker_url).startswith("filesystem://"):
        folders = {
            "data_folder_in": tmp_path / "queue",
            "data_folder_out": tmp_path / "queue",
            "processed_folder": tmp_path / "processed",
            "control_folder": tmp_path / "control",
        }
        for folder in folders.values():
            folder.mkdir(exist_ok=True)
        conf.broker_transport_options = {
            **{key: str(value) for key, value in folders.items()},
            "store_processed": False,
        }
    reset_connections()
    task_postrun.connect(close_connections)
    try:
        with app.connection_for_write() as conn:
            app.amqp.queues[conf.task_default_queue].bind(conn).purge()
        yield app
    finally:
        task_postrun.disconnect(close_connections)
        for key, value in saved.items():
            setattr(conf, key, value)
        reset_connections()


def reset_connections():
    app._pool = None
    app.amqp.__dict__.pop("_producer_pool", None)


def test_real_worker_sends_due_reminders_once_end_to_end(settings, tmp_path):
    settings.REMINDER_OFFSETS = {
        kind: [-2 * HOUR] for kind in ("kick_off", "workshop", "forum", "deadline", "demo_day")
    }
    settings.REMINDER_CHUNK_SIZE = 2
    now = timezone.now()
    cohort = running_cohort(now)
    topic = TopicFactory()
    members = [
        MemberFactory(cohort=cohort, topic=topic, user=UserFactory(roles=[Role.MEMBER]))
        for _ in range(5)
    ]
    MilestoneFactory(cohort=cohort, topic=topic, title="本组工作坊", starts_at=now + HOUR)

    with (
        worker_app(tmp_path) as celery_app,
        start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30),
    ):
        tasks.sweep_reminders.delay()
        # The outbox, not the database: SQLite's shared in-memory test database locks whole
        # tables, so this thread keeps out of the worker's way until it has stopped.
        done = wait_for(lambda: len(mail.outbox) >= 5, timeout=30)
        tasks.sweep_reminders.delay()  # a second beat finds nothing left to send
        time.sleep(1.5)

    assert done
    assert Reminder.objects.filter(status=Reminder.Status.SENT).count() == 5
    assert sorted(address for m in mail.outbox for address in m.to) == sorted(
        m.user.email for m in members
    )
    assert {m.subject for m in mail.outbox} == {mail.outbox[0].subject}
    assert Notification.objects.count() == 5
    assert app.conf.task_always_eager is True


# --- A worker killed mid-run, in a subprocess ---------------------------------------------


class SlowSMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for Django's backend; each message takes `delay` to be accepted."""

    def reply(self, line):
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self):
        self.reply("220 test SMTP")
        recipients = []
        while line := self.rfile.readline():
            command = line.decode("utf-8", "replace").strip()
            verb = command.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.reply("250-test")
                self.reply("250 8BITMIME")
            elif verb in {"HELO", "MAIL", "RSET", "NOOP"}:
                recipients = [] if verb in {"MAIL", "RSET"} else recipients
                self.reply("250 OK")
            elif verb == "RCPT":
                recipients.append(command.split(":", 1)[1].strip(" <>"))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 go on")
                while self.rfile.readline() not in {b".\r\n", b""}:
                    pass
                time.sleep(self.server.delay)
                self.server.accepted.extend(recipients)
                self.reply("250 accepted")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not here")


class SlowSMTPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, delay):
        super().__init__(("127.0.0.1", 0), SlowSMTPHandler)
        self.delay, self.accepted = delay, []


def database_url():
    db = connection.settings_dict
    user = db["USER"] or "postgres"
    auth = f"{user}:{db['PASSWORD']}" if db["PASSWORD"] else user
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_celery(env, log):
    return subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "wecity", "worker",
            "--pool", "solo", "--loglevel", "INFO",
            "--without-heartbeat", "--without-mingle", "--without-gossip",
            "--queues", env["CELERY_TASK_DEFAULT_QUEUE"],
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip


def test_worker_killed_mid_run_and_restarted_loses_and_repeats_nothing(settings, tmp_path):
    if connection.vendor != "postgresql" or not settings.CELERY_BROKER_URL.startswith("redis"):
        pytest.skip("needs PostgreSQL and Redis, which a second process can share (CI has both)")
    now = timezone.now()
    cohort = running_cohort(now)
    milestone = MilestoneFactory(cohort=cohort, starts_at=now + 2 * 24 * HOUR)
    members = [
        MemberFactory(cohort=cohort, user=UserFactory(roles=[Role.MEMBER])) for _ in range(20)
    ]
    for member in members:
        ReminderFactory(
            milestone=milestone, member=member, due_at=now - datetime.timedelta(minutes=1)
        )
    smtp = SlowSMTPServer(delay=0.15)
    threading.Thread(target=smtp.serve_forever, daemon=True).start()
    queue = f"wecity-test-{uuid.uuid4().hex[:8]}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))},
        "DJANGO_SETTINGS_MODULE": "wecity.settings",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp.server_address[1]}",
        "REMINDER_LEASE_SECONDS": "4",
        "REMINDER_CHUNK_SIZE": "3",
        "DEBUG": "1",
    }
    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115 (closed in finally)
    workers = []

    def sweep():
        app.conf.task_always_eager = False  # else Celery warns that send_task ignores it
        try:
            app.send_task("cohorts.sweep_reminders", queue=queue)
        finally:
            app.conf.task_always_eager = True

    def all_sent():
        return Reminder.objects.filter(status=Reminder.Status.SENT).count() == 20

    try:
        workers.append(start_celery(env, log))
        sweep()
        started = wait_for(lambda: len(smtp.accepted) >= 5, timeout=20, step=0.02)
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(timeout=10)
        at_kill = len(smtp.accepted)
        stranded = Reminder.objects.exclude(status=Reminder.Status.SENT).count()
        workers.append(start_celery(env, log))
        finished = wait_for(lambda: all_sent() or sweep(), timeout=30, step=1)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGKILL)
                worker.wait(timeout=10)
        smtp.shutdown()
        smtp.server_close()
        log.close()

    output = (tmp_path / "worker.log").read_text()
    assert started, output
    assert finished, output
    assert 5 <= at_kill < 20 and stranded > 0
    counts = {m.user.email: smtp.accepted.count(m.user.email) for m in members}
    assert set(counts.values()) <= {1, 2}
    assert sum(counts.values()) - 20 <= 1  # the documented window: one message, at most
    assert Notification.objects.count() == 20
