"""Invitations: sent by email with an expiry, resent, revoked, and accepted into a cohort."""

import datetime
import re
import threading

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from cohorts import services
from cohorts.models import Invitation, Member
from tests.cohorts.helpers import build_world
from tests.factories import (
    PASSWORD,
    CohortFactory,
    InvitationFactory,
    MemberFactory,
    TopicFactory,
    UserFactory,
)
from tests.html import texts

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-long-pass-for-wecity-2026"


def manage_url(cohort, suffix=""):
    return reverse("organise-cohorts:cohort", kwargs={"slug": cohort.slug}) + suffix


def link_in(message):
    return re.search(r"https?://\S+/programme/invitations/[\w-]+/", message.body).group(0)


def accept(client, invitation, *, name="新学员", password=NEW_PASSWORD):
    return client.post(
        invitation.get_absolute_url(),
        {"name": name, "password1": password, "password2": password},
    )


# --- Inviting -----------------------------------------------------------------------------


def test_invite_sends_an_email_in_the_chosen_language_with_a_link_and_expiry(
    client, organiser, world, django_capture_on_commit_callbacks
):
    client.force_login(organiser)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            manage_url(world.cohort, "invite/"),
            {
                "name": "张三",
                "email": "Zhang.San@Example.com",
                "organisation": "深圳智城科技",
                "topic": world.topic_a.pk,
                "language": "en",
            },
        )

    invitation = Invitation.objects.get()
    message = mail.outbox[0]
    assert (
        response.url,
        invitation.email,
        invitation.status,
        invitation.expires_at > timezone.now() + datetime.timedelta(days=13),
        message.to,
        message.subject,
        link_in(message).endswith(invitation.get_absolute_url()),
        message.alternatives[0][1],
        invitation.get_absolute_url() in message.alternatives[0][0],
    ) == (
        manage_url(world.cohort, "#invitations"),
        "zhang.san@example.com",
        Invitation.Status.PENDING,
        True,
        ["zhang.san@example.com"],
        "Your invitation to WeCity 加速器第一期",
        True,
        "text/html",
        True,
    )


def test_invite_email_in_chinese_by_default(
    client, organiser, world, django_capture_on_commit_callbacks
):
    client.force_login(organiser)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            manage_url(world.cohort, "invite/"),
            {
                "name": "张三",
                "email": "zs@example.com",
                "topic": world.topic_a.pk,
                "language": "zh-hans",
            },
        )

    assert mail.outbox[0].subject == "WeCity 加速器第一期 入学邀请"


def test_invite_twice_is_refused_next_to_the_email_field(
    client, organiser, world, django_capture_on_commit_callbacks
):
    client.force_login(organiser)
    data = {"name": "张三", "email": "zs@example.com", "topic": world.topic_a.pk, "language": "en"}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(manage_url(world.cohort, "invite/"), data)

    response = client.post(
        manage_url(world.cohort, "invite/"),
        {**data, "email": "ZS@example.com"},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert (
        response.status_code,
        texts(response.text, '<ul class="errorlist"'),
        Invitation.objects.count(),
        len(mail.outbox),
    ) == (
        400,
        ["zs@example.com has an invitation to this cohort already; resend it instead."],
        1,
        1,
    )


def test_invite_a_member_of_the_cohort_is_refused(client, organiser, world):
    client.force_login(organiser)

    response = client.post(
        manage_url(world.cohort, "invite/"),
        {"name": "王数政", "email": "a@example.com", "topic": world.topic_a.pk, "language": "en"},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert texts(response.text, '<ul class="errorlist"') == [
        "a@example.com is already a member of this cohort."
    ]


def test_resend_gives_a_new_link_and_the_old_one_stops_working(
    client, organiser, django_capture_on_commit_callbacks
):
    invitation = InvitationFactory()
    old_url = invitation.get_absolute_url()
    client.force_login(organiser)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(manage_url(invitation.cohort, f"invitations/{invitation.pk}/resend/"))

    invitation.refresh_from_db()
    client.logout()
    assert (
        client.get(old_url).status_code,
        client.get(invitation.get_absolute_url()).status_code,
        link_in(mail.outbox[0]).endswith(invitation.get_absolute_url()),
    ) == (404, 200, True)


def test_resend_of_an_expired_invitation_makes_it_valid_again(
    client, organiser, django_capture_on_commit_callbacks
):
    invitation = InvitationFactory(expires_at=timezone.now() - datetime.timedelta(days=1))
    client.force_login(organiser)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(manage_url(invitation.cohort, f"invitations/{invitation.pk}/resend/"))

    invitation.refresh_from_db()
    assert (invitation.status, len(mail.outbox)) == (Invitation.Status.PENDING, 1)


def test_revoked_invitation_says_it_was_withdrawn_and_cannot_be_accepted(client, organiser):
    invitation = InvitationFactory()
    client.force_login(organiser)
    client.post(manage_url(invitation.cohort, f"invitations/{invitation.pk}/revoke/"))
    client.logout()

    page = client.get(invitation.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    response = accept(client, invitation)

    assert (
        texts(page.text, '<div class="alert alert--error"'),
        response.status_code,
        User.objects.filter(email=invitation.email).exists(),
    ) == (["This invitation was withdrawn by the organisers."], 200, False)


def test_expired_invitation_says_so_and_cannot_be_accepted(client):
    invitation = InvitationFactory(expires_at=timezone.now() - datetime.timedelta(minutes=1))

    page = client.get(invitation.get_absolute_url())
    accept(client, invitation)

    assert (
        texts(page.text, '<div class="alert alert--error"'),
        Member.objects.count(),
    ) == (["此邀请已过期，请联系组织者重新发送。"], 0)


def test_unknown_invitation_token_is_not_found(client):
    response = client.get(reverse("programme:invitation", kwargs={"token": "nope"}))

    assert response.status_code == 404


# --- Accepting ----------------------------------------------------------------------------


def test_accept_creates_a_verified_account_the_membership_and_signs_in(client):
    invitation = InvitationFactory(email="new@example.com", organisation="深圳智城科技")

    response = accept(client, invitation, name="陈新")

    user = User.objects.get(email="new@example.com")
    member = Member.objects.get()
    invitation.refresh_from_db()
    assert (
        response.url,
        get_user(client) == user,
        user.check_password(NEW_PASSWORD),
        user.name,
        user.has_role(Role.MEMBER),
        list(EmailAddress.objects.filter(user=user).values_list("email", "verified", "primary")),
        (member.user, member.cohort, member.topic, member.name, member.organisation),
        member.is_public,
        invitation.status,
    ) == (
        reverse("programme:dashboard"),
        True,
        True,
        "陈新",
        True,
        [("new@example.com", True, True)],
        (user, invitation.cohort, invitation.topic, "陈新", "深圳智城科技"),
        False,
        Invitation.Status.ACCEPTED,
    )


def test_accepted_member_signs_in_later_with_their_password(client):
    invitation = InvitationFactory(email="new@example.com")
    accept(client, invitation)
    client.logout()

    response = client.post(
        reverse("account_login"), {"login": "new@example.com", "password": NEW_PASSWORD}
    )

    assert (response.status_code, get_user(client).email) == (302, "new@example.com")


def test_accept_twice_is_refused(client):
    invitation = InvitationFactory()
    accept(client, invitation)
    client.logout()

    page = client.get(invitation.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")

    assert texts(page.text, '<div class="alert alert--error"') == [
        "This invitation has been accepted already. Sign in to continue."
    ]


def test_accept_with_a_weak_password_or_differing_passwords_says_why(client):
    invitation = InvitationFactory()

    weak = client.post(
        invitation.get_absolute_url(),
        {"name": "陈新", "password1": "123", "password2": "123"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    differ = client.post(
        invitation.get_absolute_url(),
        {"name": "陈新", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD + "x"},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert (
        texts(weak.text, '<ul class="errorlist"'),
        texts(differ.text, '<ul class="errorlist"'),
        User.objects.filter(email=invitation.email).exists(),
    ) == (
        [
            "This password is too short. It must contain at least 8 characters."
            "This password is too common.This password is entirely numeric."
        ],
        ["The two passwords differ."],
        False,
    )


def test_accept_by_an_existing_account_asks_to_sign_in_then_joins(client):
    user = UserFactory(email="old@example.com")
    invitation = InvitationFactory(email="old@example.com")

    page = client.get(invitation.get_absolute_url())
    client.force_login(user)
    response = client.post(invitation.get_absolute_url())

    assert (
        f'href="/accounts/login/?next={invitation.get_absolute_url()}"' in page.text,
        "password1" in page.text,
        response.url,
        Member.objects.get().user,
        user.groups.filter(name=Role.MEMBER).exists(),
    ) == (True, False, reverse("programme:dashboard"), user, True)


def test_accept_while_signed_in_as_someone_else_is_refused(client, user):
    invitation = InvitationFactory(email="other@example.com")
    client.force_login(user)

    page = client.get(invitation.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    client.post(invitation.get_absolute_url())

    assert (
        "This invitation is for other@example.com; sign out and open the link again." in page.text,
        Member.objects.count(),
    ) == (True, 0)


# --- Capacity -----------------------------------------------------------------------------


def test_accept_of_the_36th_member_is_refused_with_a_clear_message(client):
    cohort = CohortFactory(capacity=35)
    MemberFactory.create_batch(35, cohort=cohort)
    invitation = InvitationFactory(cohort=cohort)

    response = accept(client, invitation)

    assert (
        texts(response.text, '<ul class="errorlist nonfield"'),
        Member.objects.filter(cohort=cohort).count(),
        User.objects.filter(email=invitation.email).exists(),
        get_user(client).is_authenticated,
    ) == (["该班级已满：35 个名额均已占用。"], 35, False, False)


def test_removed_members_keep_their_place(client):
    cohort = CohortFactory(capacity=2)
    MemberFactory(cohort=cohort, user=None, removed_at=timezone.now())
    MemberFactory(cohort=cohort)
    invitation = InvitationFactory(cohort=cohort)

    accept(client, invitation)

    assert Member.objects.filter(cohort=cohort).count() == 2


@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite has no row locks (select_for_update); CI runs this on PostgreSQL",
)
@pytest.mark.django_db(transaction=True)
def test_two_accepts_racing_for_the_last_place_let_exactly_one_in():
    cohort = CohortFactory(capacity=35)
    topic = TopicFactory()
    MemberFactory.create_batch(34, cohort=cohort, topic=topic)
    invitations = InvitationFactory.create_batch(2, cohort=cohort, topic=topic)
    barrier = threading.Barrier(2)
    outcomes = []

    def race(invitation):
        try:
            barrier.wait()
            services.accept_invitation(invitation, name="学员", password=NEW_PASSWORD)
            outcomes.append("joined")
        except services.ValidationError as error:
            outcomes.append(error.messages[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=race, args=(inv,)) for inv in invitations]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert (sorted(outcomes), Member.objects.filter(cohort=cohort).count()) == (
        ["joined", "该班级已满：35 个名额均已占用。"],
        35,
    )


# --- Organisers' page ---------------------------------------------------------------------


def test_manage_page_lists_pending_invitations_with_their_state(client, organiser):
    cohort = CohortFactory()
    InvitationFactory(cohort=cohort, email="pending@example.com")
    InvitationFactory(
        cohort=cohort,
        email="expired@example.com",
        expires_at=timezone.now() - datetime.timedelta(days=1),
    )
    InvitationFactory(cohort=cohort, email="revoked@example.com", revoked_at=timezone.now())
    InvitationFactory(cohort=cohort, email="accepted@example.com", accepted_at=timezone.now())
    client.force_login(organiser)

    response = client.get(manage_url(cohort), HTTP_ACCEPT_LANGUAGE="en")

    assert re.findall(r'<span class="badge badge--invitation-\w+">([^<]+)<', response.text) == [
        "Revoked",
        "Expired",
        "Waiting for an answer",
    ]


def test_invite_by_a_member_is_forbidden(client, world):
    client.force_login(world.member_a.user)

    response = client.post(
        manage_url(world.cohort, "invite/"),
        {"name": "张三", "email": "zs@example.com", "topic": world.topic_a.pk, "language": "en"},
    )

    assert (response.status_code, Invitation.objects.count()) == (403, 0)


def test_accept_signed_in_member_of_another_cohort_joins_this_one(client):
    other = build_world()
    invitation = InvitationFactory(email=other.member_a.user.email)
    client.force_login(other.member_a.user)

    client.post(invitation.get_absolute_url())

    assert sorted(other.member_a.user.memberships.values_list("cohort__slug", flat=True)) == sorted(
        ["cohort-1", invitation.cohort.slug]
    )


def test_login_with_the_invited_address_is_done_with_allauth(client):
    user = UserFactory(email="old@example.com")
    invitation = InvitationFactory(email="old@example.com")

    response = client.post(
        f"/accounts/login/?next={invitation.get_absolute_url()}",
        {"login": "old@example.com", "password": PASSWORD},
    )

    assert (response.url, get_user(client)) == (invitation.get_absolute_url(), user)
