"""The project's plumbing: settings, the Compose file, the broker, the documented variables."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def compose_command():
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    ):
        return [docker, "compose"]
    if shutil.which("docker-compose"):
        return [shutil.which("docker-compose")]
    pytest.skip("neither `docker compose` nor `docker-compose` is installed")


def test_docker_compose_file_parses_with_the_five_services():
    command = compose_command()

    result = subprocess.run(
        [*command, "--env-file", ".env.example", "config", "--services"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.split()) == ["beat", "db", "redis", "web", "worker"]


def test_docker_compose_refuses_to_start_without_a_secret_key(tmp_path):
    command = compose_command()
    env = {key: value for key, value in os.environ.items() if key != "SECRET_KEY"}
    empty = tmp_path / "empty.env"
    empty.write_text("")

    result = subprocess.run(
        [*command, "--env-file", str(empty), "config"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def production_environment():
    """The environment of a production deployment configured as `.env.example` says."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key] = value.strip('"')
    env["DJANGO_SETTINGS_MODULE"] = "wecity.settings"
    return env


def test_check_deploy_is_clean_with_the_documented_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=production_environment(),
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_settings_fail_loudly_without_a_secret_key():
    env = production_environment()
    del env["SECRET_KEY"]

    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, capture_output=True, text=True, env=env
    )

    assert result.returncode != 0
    assert "Set the SECRET_KEY environment variable" in result.stderr


def test_every_setting_read_from_the_environment_is_documented_in_env_example():
    source = (ROOT / "wecity" / "settings.py").read_text(encoding="utf-8")
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', source))
    documented = set(
        re.findall(r"^#?\s*([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE)
    )

    assert read - documented == set()
    assert {"DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY", "EMAIL_URL"} <= read


def test_configured_celery_broker_carries_a_message():
    from kombu import Connection, Exchange, Queue

    from wecity.celery import app

    queue = Queue("wecity-test-roundtrip", Exchange("wecity-test-roundtrip"), "roundtrip")

    with Connection(
        app.conf.broker_url, transport_options=app.conf.broker_transport_options
    ) as conn:
        conn.ensure_connection(max_retries=3)
        with conn.SimpleQueue(queue) as simple:
            simple.clear()
            simple.put({"hello": "数据与价值"})
            message = simple.get(timeout=5)
            message.ack()

    assert message.payload == {"hello": "数据与价值"}
    if os.environ.get("CI"):
        assert app.conf.broker_url.startswith("redis://")
