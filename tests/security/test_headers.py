"""The headers every answer carries with the production settings of .env.example: a strict
Content-Security-Policy, HSTS, secure HttpOnly cookies, nosniff, Referrer-Policy, no frames."""

import json
import re
import subprocess
import sys

import pytest
from django.test import override_settings
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory
from tests.test_project import ROOT, production_environment

pytestmark = pytest.mark.django_db

SECURITY_SETTINGS = [
    "DEBUG",
    "SECURE_SSL_REDIRECT",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY",
    "SECURE_CROSS_ORIGIN_OPENER_POLICY",
    "X_FRAME_OPTIONS",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_HTTPONLY",
    "CONTENT_SECURITY_POLICY",
    "CONTENT_SECURITY_POLICY_REPORT_ONLY",
]


def settings_of(environment):
    """The security settings as a process started with `environment` has them."""
    code = (
        "import json; from django.conf import settings; "
        f"print(json.dumps({{name: getattr(settings, name) for name in {SECURITY_SETTINGS!r}}}))"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=environment,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def production():
    return settings_of(production_environment())


def test_production_settings_are_the_hardened_ones(production):
    assert {
        name: value for name, value in production.items() if not name.startswith("CONTENT")
    } == {
        "DEBUG": False,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SECURE_HSTS_SECONDS": 31_536_000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "SECURE_REFERRER_POLICY": "same-origin",
        "SECURE_CROSS_ORIGIN_OPENER_POLICY": "same-origin",
        "X_FRAME_OPTIONS": "DENY",
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_SECURE": True,
        "CSRF_COOKIE_HTTPONLY": True,
    }


def test_csp_report_only_switch_sends_the_same_policy_without_enforcing_it(production):
    environment = {**production_environment(), "CSP_REPORT_ONLY": "1"}

    report_only = settings_of(environment)

    assert (
        report_only["CONTENT_SECURITY_POLICY"],
        production["CONTENT_SECURITY_POLICY_REPORT_ONLY"],
    ) == (
        None,
        None,
    )
    assert (
        report_only["CONTENT_SECURITY_POLICY_REPORT_ONLY"] == production["CONTENT_SECURITY_POLICY"]
    )


def directives(header):
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def test_every_page_has_a_csp_without_inline_script_or_style(client):
    page = client.get(reverse("home"))

    policy = directives(page["Content-Security-Policy"])

    assert policy == {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }


def test_csp_allows_the_buckets_images_when_photos_are_in_one():
    environment = {
        **production_environment(),
        "PRIVATE_STORAGE_S3_BUCKET": "wecity-private",
        "PRIVATE_STORAGE_S3_REGION": "ap-east-1",
        "PRIVATE_FILES_ACCEL_PREFIX": "",
    }
    minio = {**environment, "PRIVATE_STORAGE_S3_ENDPOINT_URL": "https://minio.example.org:9000/x"}

    aws = settings_of(environment)["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["img-src"]
    own = settings_of(minio)["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["img-src"]

    assert aws == [
        "'self'",
        "https://wecity-private.s3.amazonaws.com",
        "https://wecity-private.s3.ap-east-1.amazonaws.com",
    ]
    assert own == ["'self'", "https://minio.example.org:9000"]


@pytest.fixture
def hardened(production):
    """The test client's settings with the production values of the security settings."""
    values = {
        name: value
        for name, value in production.items()
        if name not in ("DEBUG", "SECURE_SSL_REDIRECT", "SECURE_PROXY_SSL_HEADER")
    }
    with override_settings(**values):
        yield


def test_pages_over_https_carry_hsts_nosniff_referrer_policy_and_frame_denial(client, hardened):
    page = client.get(reverse("home"), secure=True)

    assert {
        name: page.get(name)
        for name in (
            "Strict-Transport-Security",
            "X-Content-Type-Options",
            "Referrer-Policy",
            "X-Frame-Options",
            "Cross-Origin-Opener-Policy",
        )
    } == {
        "Strict-Transport-Security": "max-age=31536000; includeSubDomains; preload",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]


def test_session_and_csrf_cookies_are_secure_and_http_only(client, hardened):
    user = UserFactory()
    client.get(reverse("account_login"), secure=True)

    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD}, secure=True)

    cookies = {name: client.cookies[name] for name in ("sessionid", "csrftoken")}
    assert {name: (c["secure"], c["httponly"], c["samesite"]) for name, c in cookies.items()} == {
        "sessionid": (True, True, "Lax"),
        "csrftoken": (True, True, "Lax"),
    }


COMMENT = re.compile(r"{#.*?#}|{% comment %}.*?{% endcomment %}", re.S)


def test_no_template_holds_inline_script_or_style():
    """What the policy would refuse: script or style inside a template, or an event handler."""
    offending = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = COMMENT.sub("", path.read_text(encoding="utf-8"))
        for marker in ("<style", " style=", " onclick=", " onload=", " onerror=", "javascript:"):
            if marker in text:
                offending.append((str(path.relative_to(ROOT)), marker))
        for tag in text.split("<script")[1:]:
            opening = tag.split(">", 1)[0]
            if "src=" not in opening and 'type="application/ld+json"' not in opening:
                offending.append((str(path.relative_to(ROOT)), "<script>"))

    assert offending == []
