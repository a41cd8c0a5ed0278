"""`make run`'s last step: the web server and a Celery worker with beat, stopped by Ctrl-C."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_health(url, process, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return json.loads(response.read())
        except OSError:
            time.sleep(0.5)
    return None


def processes_in_group(pgid):
    result = subprocess.run(["pgrep", "-g", str(pgid)], capture_output=True, text=True)
    return result.stdout.split()


def test_run_dev_serves_the_portal_with_a_worker_and_stops_on_ctrl_c(tmp_path):
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PYTEST_"))
    }
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        CELERY_BROKER_DATA_DIR=str(tmp_path / "broker"),
        CELERY_BEAT_SCHEDULE_FILE=str(tmp_path / "beat-schedule"),
        PORT=str(port),
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    log = (tmp_path / "run.log").open("w")
    process = subprocess.Popen(
        ["bash", "scripts/run-dev.sh"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        # As in a terminal: Ctrl-C's SIGINT is not ignored.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        health = wait_for_health(f"http://127.0.0.1:{port}/healthz", process)
        worker_ready = False
        for _ in range(60):
            worker_ready = "ready." in (tmp_path / "run.log").read_text()
            if worker_ready:
                break
            time.sleep(0.5)

        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=30)
        time.sleep(1)
        left = processes_in_group(process.pid)
    finally:
        if process.poll() is None or processes_in_group(process.pid):
            os.killpg(process.pid, signal.SIGKILL)
        log.close()

    assert health == {"status": "ok"}
    assert worker_ready, (tmp_path / "run.log").read_text()
    assert left == []
