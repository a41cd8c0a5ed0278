"""Throwaway servers for the fault tests, the backup test and the soak run: a PostgreSQL
cluster of their own, a Redis, and the portal under gunicorn, as production runs it.

Everything listens on 127.0.0.1 only, on free ports, with its files in a temporary folder,
and is stopped by whoever started it. A cluster of its own, not the machine's: restarting
or stopping it must not cut the connections of anything else using PostgreSQL (CI's own
test database lives on the machine's cluster).
"""

import contextlib
import glob
import http.client
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Variables of the developer's or CI's shell that must not leak into the portal started here.
OWN_VARIABLES = {
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "CACHE_URL",
    "DJANGO_SETTINGS_MODULE",
    "PYTEST_ARGS",
}


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition, *, timeout, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def children_of(pid):
    """The ids of the processes whose parent is `pid` (from /proc)."""
    children = set()
    for stat in glob.glob("/proc/[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                children.add(int(Path(stat).parent.name))
    return children


def resident_mb(pids):
    """The resident memory of these processes together, in MB (from /proc)."""
    total_kb = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
    return total_kb / 1024


def postgres_bin():
    """The newest PostgreSQL's programs (Debian keeps them per version)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    if not found:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    return Path(found[-1])


def as_postgres(command, **kwargs):
    """Run a PostgreSQL server program: as the postgres user when we are root (it refuses root)."""
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs)


class PostgresCluster:
    """A PostgreSQL cluster in a temporary folder, trust authentication, user postgres."""

    def __init__(self, *, durable=False):
        # Not durable (fsync off) for tests, where only restarts matter, not power cuts.
        self.durable = durable
        self.folder = Path(tempfile.mkdtemp(prefix="wecity-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.bin = postgres_bin()

    def start(self):
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        as_postgres(
            [
                str(self.bin / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ]
        )
        self.pg_ctl("start")
        return self

    def pg_ctl(self, action, *extra):
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        if not self.durable:
            options += " -c fsync=off"
        as_postgres(
            [
                str(self.bin / "pg_ctl"),
                action,
                "-D",
                str(self.data),
                "-w",
                "-t",
                "60",
                "-l",
                str(self.folder / "server.log"),
                "-o",
                options,
                *extra,
            ]
        )

    def restart(self):
        """Stop (cutting every connection, as a crash or an upgrade does) and start again."""
        self.pg_ctl("restart", "-m", "fast")

    def pids(self):
        """The server's process ids: the postmaster and every backend it started."""
        with contextlib.suppress(OSError, ValueError):
            postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
            return {postmaster, *children_of(postmaster)}
        return set()

    def stop(self):
        with contextlib.suppress(subprocess.CalledProcessError):
            self.pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database):
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, database):
        subprocess.run(
            [
                str(self.bin / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                database,
            ],
            check=True,
        )
        return self.url(database)


class RedisServer:
    """A Redis on a port of its own; stop() and start() again at will. With no persistence,
    or `durable`: it keeps what it holds across a stop and a start (an append-only file in
    `folder`, written through at each write).
    """

    def __init__(self, port=None, *, folder=None, durable=False):
        self.port = port or free_port()
        self.folder = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="wecity-redis-"))
        self.durable = durable
        self.process = None

    def start(self):
        persistence = ("yes", "--appendfsync", "always") if self.durable else ("no",)
        self.process = subprocess.Popen(
            [
                "redis-server",
                *("--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.folder)),
                *("--save", "", "--appendonly", *persistence),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not wait_until(self.answers, timeout=10):
            raise RuntimeError("redis-server did not start")
        return self

    def answers(self):
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", self.port), 1) as s,
        ):
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
        return False

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def url(self, database=0):
        return f"redis://127.0.0.1:{self.port}/{database}"


def portal_environment(database_url, folder, **overrides):
    """Production settings (DEBUG=0, errors as pages without details) for plain HTTP on
    127.0.0.1, with its files under `folder`."""
    folder = Path(folder)
    environment = {k: v for k, v in os.environ.items() if k not in OWN_VARIABLES}
    environment.update(
        DJANGO_SETTINGS_MODULE="wecity.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SITE_URL="http://127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        SECURE_HSTS_SECONDS="0",
        DATABASE_URL=database_url,
        CONN_MAX_AGE="60",
        CACHE_URL="locmemcache://wecity",
        CELERY_BROKER_URL="filesystem://",
        CELERY_BROKER_DATA_DIR=str(folder / "broker"),
        STATIC_ROOT=str(ROOT / "staticfiles"),
        MEDIA_ROOT=str(folder / "media"),
        PRIVATE_MEDIA_ROOT=str(folder / "private"),
        PRIVATE_FILES_ACCEL_PREFIX="",
        EMAIL_URL="dummymail://",
        ACCOUNT_EMAIL_VERIFICATION="optional",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    environment.update(overrides)
    return environment


def manage(*arguments, env, timeout=600):
    return subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def collect_static(env):
    """The static files a DEBUG=0 portal serves, with whitenoise's manifest of them."""
    manage("collectstatic", "--noinput", "-v0", env=env)


def http_get(port, path, *, timeout=10):
    """(status, body) of a GET on the portal, or (None, error) when it does not answer."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    except OSError as error:
        return None, repr(error)
    finally:
        connection.close()


class Portal:
    """The portal under gunicorn, as in production, on a free port of 127.0.0.1."""

    def __init__(self, env, *, workers=2, threads=1, port=None):
        self.env, self.workers, self.threads = env, workers, threads
        self.port = port or free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="wecity-gunicorn-"))
        self.log = self.folder / "gunicorn.log"
        self.process = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        gunicorn = Path(sys.executable).with_name("gunicorn")
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [
                    str(gunicorn),
                    "wecity.wsgi",
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--workers",
                    str(self.workers),
                    "--threads",
                    str(self.threads),
                    "--timeout",
                    "60",
                    "--control-socket",
                    str(self.folder / "control.sock"),
                    "--error-logfile",
                    "-",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if not wait_until(lambda: http_get(self.port, "/healthz")[0] == 200, timeout=60):
            self.stop()
            raise RuntimeError(f"gunicorn did not answer:\n{self.log.read_text()}")
        return self

    def pids(self):
        """The master's and its workers' process ids."""
        return {self.process.pid, *children_of(self.process.pid)}

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        shutil.rmtree(self.folder, ignore_errors=True)
