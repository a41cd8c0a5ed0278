"""A member who forgot their password sets a new one through the emailed link."""

import re

import pytest
from django.core import mail

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_password_reset_mails_a_link_that_sets_a_new_password(client):
    UserFactory(email="han.meimei@example.com")

    client.post("/accounts/password/reset/", {"email": "Han.Meimei@example.com"})
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", mail.outbox[0].body)
    form_page = client.get(link.group(1), follow=True)
    done = client.post(
        form_page.redirect_chain[-1][0] if form_page.redirect_chain else link.group(1),
        {"password1": "新的密码-Wecity-2026", "password2": "新的密码-Wecity-2026"},
        follow=True,
    )

    assert mail.outbox[0].to == ["han.meimei@example.com"]
    assert done.redirect_chain[-1][0] == "/accounts/password/reset/key/done/"
    assert client.login(email="han.meimei@example.com", password="新的密码-Wecity-2026")


def test_password_reset_for_an_unknown_address_sends_no_link(client):
    response = client.post(
        "/accounts/password/reset/", {"email": "nobody@example.com"}, follow=True
    )

    assert response.redirect_chain[-1][0] == "/accounts/password/reset/done/"
    assert [m for m in mail.outbox if "/accounts/password/reset/key/" in m.body] == []


def test_password_reset_email_names_the_portal_not_example_com(client):
    UserFactory(email="li.lei@example.com")

    client.post("/accounts/password/reset/", {"email": "li.lei@example.com"})

    assert "WeCity Accelerator" in mail.outbox[0].subject
    assert "example.com]" not in mail.outbox[0].subject
