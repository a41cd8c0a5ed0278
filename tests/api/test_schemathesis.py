"""Schemathesis fuzzes every operation of the schema against the running portal, anonymous
and with a member's token: no server error, no response the schema does not describe.

It sends real writes and deletes, to the test database. In CI (CI=true) it draws 100
examples per operation; elsewhere 10, to keep a local run short. SCHEMATHESIS_SEED makes a
run reproducible (by default every run draws the same examples).
"""

import io
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.servers.basehttp import WSGIRequestHandler

from accounts.models import User
from accounts.services import create_api_token

PASSWORD = "schemathesis-demo-password"
MAX_EXAMPLES = 100 if os.environ.get("CI") == "true" else 10
SEED = os.environ.get("SCHEMATHESIS_SEED", "20261127")
# Everything but positive_data_acceptance: the schema cannot say which deliverable a member
# may hand in for or which quote is approved, so valid-looking input rightly gets a 400.
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "missing_required_header",
    "unsupported_method",
    "use_after_free",
    "ensure_resource_availability",
    "ignored_auth",
]


@pytest.fixture
def demo_portal(transactional_db, live_server, settings, tmp_path, monkeypatch, caplog):
    # Django's test server answers a keep-alive request's body ~40 ms late (Nagle's algorithm
    # against the client's delayed ACK): four times the run's length, for nothing.
    monkeypatch.setattr(WSGIRequestHandler, "disable_nagle_algorithm", True)
    caplog.set_level(logging.ERROR, logger="django.request")  # thousands of 4xx by design
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.API_THROTTLE_ANON_RATE = "1000000/minute"
    settings.API_THROTTLE_USER_RATE = "1000000/minute"
    call_command("load_demo", password=PASSWORD, stdout=io.StringIO())
    return live_server


def schemathesis(url, *, tmp_path, headers=()):
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{url}/api/schema/",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        SEED,
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--checks",
        ",".join(CHECKS),
        "--suppress-health-check",
        "too_slow,filter_too_much",
        *(argument for header in headers for argument in ("--header", header)),
    ]
    started = time.monotonic()
    result = subprocess.run(
        command,
        cwd=tmp_path,  # its example database (.hypothesis) stays out of the checkout
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=1800,
    )
    lines = result.stdout.splitlines()
    cases = next(
        (lines[i + 1].strip() for i, line in enumerate(lines) if "Test cases:" in line), ""
    )
    who = "with a member's token" if headers else "anonymous"
    print(f"schemathesis {who}: {time.monotonic() - started:.0f} s, {cases}")
    return result


def test_no_operation_errs_or_breaks_the_schema_for_the_public(demo_portal, tmp_path):
    result = schemathesis(demo_portal.url, tmp_path=tmp_path)

    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]


def test_no_operation_errs_or_breaks_the_schema_for_a_member(demo_portal, tmp_path):
    member = User.objects.get(email="member@wecity.example")
    _token, secret = create_api_token(member, name="schemathesis")

    result = schemathesis(
        demo_portal.url, tmp_path=tmp_path, headers=[f"Authorization: Bearer {secret}"]
    )

    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
