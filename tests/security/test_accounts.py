"""Signing in, hardened: allauth's rate limits, verified addresses, the admin's lock-out
(django-axes) and Django's password validators where members choose a password."""

import datetime
import os
import subprocess
import sys

import pytest
from allauth.account.models import EmailAddress
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.factories import PASSWORD, InvitationFactory, UserFactory
from tests.html import texts
from tests.test_project import ROOT, production_environment

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "城市-数据-价值-2026"


def sign_in(client, email, password, **extra):
    return client.post(reverse("account_login"), {"login": email, "password": password}, **extra)


# --- allauth's rate limits ----------------------------------------------------------------------


def test_rate_limits_cover_sign_in_failed_sign_in_sign_up_and_password_reset():
    assert set(settings.ACCOUNT_RATE_LIMITS) == {
        "login",
        "login_failed",
        "signup",
        "reset_password",
    }


def test_after_five_failed_sign_ins_the_right_password_is_refused_too(client, user):
    for _attempt in range(5):
        sign_in(client, user.email, "wrong password")

    response = sign_in(client, user.email, PASSWORD, HTTP_ACCEPT_LANGUAGE="en")

    assert get_user(client).is_authenticated is False
    assert texts(response.text, '<ul class="errorlist') == [
        "Too many failed login attempts. Try again later."
    ]


def test_failed_sign_ins_of_one_address_do_not_lock_another(client, user):
    other = UserFactory()
    for _attempt in range(5):
        sign_in(client, user.email, "wrong password")

    response = sign_in(client, other.email, PASSWORD)

    assert (response.status_code, get_user(client)) == (302, other)


def test_too_many_sign_in_requests_from_one_address_get_a_translated_page(client, user, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "3/m/ip"}
    for _attempt in range(3):
        client.get(reverse("account_login"))
        client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
        client.logout()

    refused = sign_in(client, user.email, PASSWORD)
    english = sign_in(client, user.email, PASSWORD, HTTP_ACCEPT_LANGUAGE="en")

    assert (refused.status_code, english.status_code) == (429, 429)
    assert texts(refused.text, "<h1") == ["尝试次数过多"]
    assert texts(english.text, "<h1") == ["Too many attempts"]


def test_sign_up_is_rate_limited_when_a_deployment_opens_it(client, settings):
    settings.ACCOUNT_ALLOW_SIGNUPS = True
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "signup": "2/m/ip"}
    answers = []
    for number in range(3):
        response = client.post(
            reverse("account_signup"),
            {
                "email": f"new{number}@example.com",
                "password1": NEW_PASSWORD,
                "password2": NEW_PASSWORD,
            },
        )
        answers.append(response.status_code)
        client.logout()

    assert answers == [302, 302, 429]
    assert User.objects.filter(email__startswith="new").count() == 2


def test_password_reset_requests_for_one_address_are_rate_limited(client, user):
    answers = []
    for _attempt in range(6):
        response = client.post(
            reverse("account_reset_password"), {"email": user.email}, HTTP_ACCEPT_LANGUAGE="en"
        )
        answers.append(response.status_code)

    assert answers[:5] == [302] * 5
    assert answers[5] == 429 or "Too many" in response.text
    assert len(mail.outbox) == 5


# --- Verified addresses ---------------------------------------------------------------------------


def setting_in(environment, name):
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            f"from django.conf import settings; print(settings.{name})",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=environment,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_email_verification_is_mandatory_in_production_by_default():
    production = production_environment()
    del production["ACCOUNT_EMAIL_VERIFICATION"]
    development = {
        key: value for key, value in os.environ.items() if key != "ACCOUNT_EMAIL_VERIFICATION"
    }
    development.update(DEBUG="1", DJANGO_SETTINGS_MODULE="wecity.settings")

    assert setting_in(production, "ACCOUNT_EMAIL_VERIFICATION") == "mandatory"
    assert setting_in(development, "ACCOUNT_EMAIL_VERIFICATION") == "optional"


def test_unverified_address_cannot_sign_in_and_gets_a_confirmation_email(client, settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    user = UserFactory()
    EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)

    response = sign_in(client, user.email, PASSWORD)

    assert (response.url, get_user(client).is_authenticated) == (
        reverse("account_email_verification_sent"),
        False,
    )
    assert [message.to for message in mail.outbox] == [[user.email]]


def test_invited_member_signs_in_with_mandatory_verification(client, settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    invitation = InvitationFactory(email="invited@example.com")
    client.post(
        invitation.get_absolute_url(),
        {"name": "陈新", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    client.logout()

    response = sign_in(client, "invited@example.com", NEW_PASSWORD)

    assert (response.status_code, get_user(client).email) == (302, "invited@example.com")
    assert EmailAddress.objects.get(email="invited@example.com").verified is True


# --- The admin's lock-out (django-axes) -----------------------------------------------------------


@pytest.fixture
def staff(db):
    return UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)


def admin_sign_in(client, password, **extra):
    return client.post(
        reverse("admin:login"),
        {"username": "staff@example.com", "password": password, "next": "/admin/"},
        **extra,
    )


def test_admin_locks_an_address_out_after_the_failure_limit(client, staff, settings):
    answers = [
        admin_sign_in(client, "wrong").status_code for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    failures = AccessAttempt.objects.get().failures_since_start

    locked = admin_sign_in(client, PASSWORD)

    assert answers == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]
    assert failures == settings.AXES_FAILURE_LIMIT
    assert (locked.status_code, get_user(client).is_authenticated) == (429, False)


def test_admin_lock_out_page_is_translated(client, staff, settings):
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        admin_sign_in(client, "wrong")

    chinese = admin_sign_in(client, PASSWORD)
    english = admin_sign_in(client, PASSWORD, HTTP_ACCEPT_LANGUAGE="en")

    assert texts(chinese.text, "<h1") == ["登录失败次数过多"]
    assert texts(english.text, "<h1") == ["Too many failed sign-ins"]
    assert texts(english.text, '<p class="page-header__text"') == [
        "After 5 failed attempts, signing in to the administration from your address is "
        "blocked. Try again in 30 minutes, or ask another admin to lift the block."
    ]


def test_admin_lock_out_ends_after_the_cool_off(client, staff, settings):
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        admin_sign_in(client, "wrong")
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time
        - settings.AXES_COOLOFF_TIME
        - datetime.timedelta(seconds=1)
    )

    response = admin_sign_in(client, PASSWORD)

    assert (response.status_code, get_user(client)) == (302, staff)
    assert AccessAttempt.objects.count() == 0


def test_admin_lock_out_is_per_address(staff, settings):
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        admin_sign_in(attacker, "wrong")
    colleague = Client(REMOTE_ADDR="198.51.100.7")

    response = admin_sign_in(colleague, PASSWORD)

    assert (response.status_code, get_user(colleague)) == (302, staff)


def test_failed_portal_sign_ins_count_for_allauth_not_for_the_admin_lock_out(client, staff):
    for _attempt in range(10):
        sign_in(client, "staff@example.com", "wrong")

    response = admin_sign_in(Client(), PASSWORD)

    assert AccessAttempt.objects.count() == 0
    assert response.status_code == 302


def test_portal_sign_in_does_not_reset_the_admin_failure_count(client, staff, user):
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        admin_sign_in(client, "wrong")
    sign_in(Client(), user.email, PASSWORD)

    response = admin_sign_in(client, "wrong again")

    assert response.status_code == 429


def test_test_client_login_without_a_request_still_works(client, staff):
    assert client.login(email="staff@example.com", password=PASSWORD) is True


# --- Password validators where a member chooses a password ----------------------------------


@pytest.mark.parametrize(
    "password, error",
    [
        ("a7#kQ", "This password is too short. It must contain at least 8 characters."),
        ("password123", "This password is too common."),
        ("20261127403", "This password is entirely numeric."),
        ("chen.xin.wecity", "The password is too similar to the email address."),
    ],
)
def test_invitation_acceptance_checks_the_password_with_djangos_validators(client, password, error):
    invitation = InvitationFactory(email="chen.xin.wecity@example.com")

    response = client.post(
        invitation.get_absolute_url(),
        {"name": "陈新", "password1": password, "password2": password},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert error in texts(response.text, '<ul class="errorlist"')[0]
    assert User.objects.filter(email=invitation.email).exists() is False


def test_every_django_password_validator_is_on():
    assert [
        validator["NAME"].rsplit(".", 1)[1] for validator in settings.AUTH_PASSWORD_VALIDATORS
    ] == [
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    ]
