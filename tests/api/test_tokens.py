"""Personal API tokens: created and named on the account page, shown once, stored hashed,
revoked there; `Authorization: Token <secret>` (or Bearer) signs a request in."""

import datetime
import hashlib

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import create_api_token
from tests.factories import UserFactory
from tests.html import texts

pytestmark = pytest.mark.django_db

TOKENS = reverse("accounts:api-tokens")
ME = reverse("api-v1:me")


def me_with(header):
    return APIClient().get(ME, HTTP_AUTHORIZATION=header, HTTP_ACCEPT_LANGUAGE="en")


def test_token_page_asks_anonymous_visitors_to_sign_in(client):
    response = client.get(TOKENS)

    assert (response.status_code, response.url) == (302, f"/accounts/login/?next={TOKENS}")


def test_token_page_shows_a_new_tokens_secret_once_and_stores_only_its_hash(client):
    user = UserFactory(email="li.ming@example.com")
    client.force_login(user)

    created = client.post(TOKENS, {"name": "看板脚本"}, HTTP_ACCEPT_LANGUAGE="en")
    again = client.get(TOKENS, HTTP_ACCEPT_LANGUAGE="en")

    secret = texts(created.text, '<code class="token-secret"')[0]
    token = ApiToken.objects.get()
    assert (
        created.status_code,
        created["Cache-Control"],
        secret.startswith("wct_"),
        len(secret),
        token.user,
        token.name,
        token.key_hash,
        token.prefix,
        secret in again.text,
        secret in str(vars(token)),
        texts(again.text, "<strong"),
        texts(again.text, "<code")[1:],
    ) == (
        200,
        "max-age=0, no-cache, no-store, must-revalidate, private",
        True,
        47,
        user,
        "看板脚本",
        hashlib.sha256(secret.encode()).hexdigest(),
        secret[4:12],
        False,
        False,
        ["看板脚本"],
        [f"{secret[4:12]}…"],
    )


def test_token_page_refuses_a_blank_name_next_to_the_field(client):
    client.force_login(UserFactory())

    response = client.post(TOKENS, {"name": "   "}, HTTP_ACCEPT_LANGUAGE="en")

    assert (
        response.status_code,
        texts(response.text, '<ul class="errorlist"'),
        ApiToken.objects.count(),
    ) == (400, ["This field is required."], 0)


def test_header_links_to_the_token_page_for_signed_in_users(client):
    client.force_login(UserFactory())

    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")

    assert f'<a href="{TOKENS}">API tokens</a>' in response.text


@pytest.mark.parametrize("keyword", ["Token", "Bearer", "bearer"])
def test_token_signs_the_request_in_as_its_owner(keyword):
    user = UserFactory(email="li.ming@example.com", name="李明")
    _token, secret = create_api_token(user, name="脚本")

    response = me_with(f"{keyword} {secret}")

    assert (response.status_code, response.json()["email"]) == (200, "li.ming@example.com")


def test_token_use_is_recorded_at_most_once_a_minute(django_assert_num_queries):
    token, secret = create_api_token(UserFactory(), name="脚本")
    me_with(f"Token {secret}")
    token.refresh_from_db()
    first_use = token.last_used_at

    with django_assert_num_queries(3):  # token and user, memberships, roles; no UPDATE
        me_with(f"Token {secret}")
    token.refresh_from_db()

    assert (first_use is not None, token.last_used_at) == (True, first_use)


def test_token_use_is_recorded_again_after_a_minute():
    token, secret = create_api_token(UserFactory(), name="脚本")
    an_hour_ago = timezone.now() - datetime.timedelta(hours=1)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=an_hour_ago)

    me_with(f"Token {secret}")

    token.refresh_from_db()
    assert token.last_used_at > an_hour_ago + datetime.timedelta(minutes=59)


def test_revoked_token_no_longer_signs_in(client):
    user = UserFactory()
    token, secret = create_api_token(user, name="脚本")
    client.force_login(user)

    page = client.post(
        reverse("accounts:api-token-revoke", kwargs={"pk": token.pk}), HTTP_ACCEPT_LANGUAGE="en"
    )
    response = me_with(f"Token {secret}")

    assert (page.url, ApiToken.objects.count(), response.status_code, response.json()) == (
        TOKENS,
        0,
        401,
        {
            "error": {
                "status": 401,
                "code": "authentication_failed",
                "message": "This token is not valid.",
                "fields": {},
            }
        },
    )


def test_a_users_token_cannot_be_revoked_by_someone_else(client):
    token, _secret = create_api_token(UserFactory(), name="脚本")
    client.force_login(UserFactory())

    response = client.post(reverse("accounts:api-token-revoke", kwargs={"pk": token.pk}))

    assert (response.status_code, ApiToken.objects.count()) == (404, 1)


@pytest.mark.parametrize(
    "header", ["Token wct_not-a-real-token", "Token", "Token two parts", "Bearer é"]
)
def test_wrong_token_answers_401_in_the_error_format(header):
    response = me_with(header)

    assert (
        response.status_code,
        response.json()["error"]["code"],
        response["WWW-Authenticate"],
    ) == (
        401,
        "authentication_failed",
        'Token realm="api"',
    )


def test_token_of_a_deactivated_user_is_refused():
    user = UserFactory(is_active=False)
    _token, secret = create_api_token(user, name="脚本")

    response = me_with(f"Token {secret}")

    assert response.status_code == 401


def test_request_without_credentials_is_asked_for_them():
    response = APIClient().get(ME, HTTP_ACCEPT_LANGUAGE="en")

    assert (response.status_code, response["WWW-Authenticate"], response.json()) == (
        401,
        'Token realm="api"',
        {
            "error": {
                "status": 401,
                "code": "not_authenticated",
                "message": "Authentication credentials were not provided.",
                "fields": {},
            }
        },
    )
