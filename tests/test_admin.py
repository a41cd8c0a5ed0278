import datetime

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.text import capfirst

from accounts.models import ApiToken, User
from cohorts.models import Cohort, DeletionRequest, Invitation, Member, Reminder, TopicMove
from forums.models import CurationEntry, RecapRevision, RecapShareLink, SearchEntry
from forums.search import index_forum
from tests.factories import (
    PASSWORD,
    ApiTokenFactory,
    AppearanceFactory,
    CohortFactory,
    CurationEntryFactory,
    DeletionRequestFactory,
    InvitationFactory,
    MemberFactory,
    NotificationFactory,
    QuoteFactory,
    RecapFactory,
    RecapRevisionFactory,
    RecapShareLinkFactory,
    ReminderFactory,
    ReminderOptOutFactory,
    ReviewerFactory,
    ReviewFactory,
    SpeakerFactory,
    SubmissionFactory,
    TopicMoveFactory,
    TranscriptTurnFactory,
)

pytestmark = pytest.mark.django_db

PORTAL_APPS = ("accounts", "forums", "topics", "cohorts")
REGISTERED = sorted(admin.site._registry, key=lambda model: model._meta.label)
PORTAL_MODELS = [model for model in REGISTERED if model._meta.app_label in PORTAL_APPS]
# Revisions are written by the recap editor only, search entries by the search index.
# The curation audit trail is written by the curation services only.
NOT_ADDABLE = {RecapRevision, RecapShareLink, SearchEntry, CurationEntry}
# Topic moves and deletion requests are written by the cohort services only.
NOT_ADDABLE |= {TopicMove, DeletionRequest}
# API tokens are created by their owners, who alone see the secret.
NOT_ADDABLE |= {ApiToken}
# django-axes records the admin's sign-in attempts itself; admins only read and delete them.
NOT_ADDABLE |= {AccessAttempt, AccessFailureLog, AccessLog}


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def plural_name(model, language="en"):
    """The model's name as the admin's breadcrumbs show it."""
    with translation.override(language):
        return capfirst(str(model._meta.verbose_name_plural))


@pytest.fixture
def one_of_everything():
    turn = TranscriptTurnFactory()
    forum = turn.theme.forum
    AppearanceFactory(forum=forum, speaker=turn.speaker)
    quote = QuoteFactory(
        forum=forum, speaker=turn.speaker, theme=turn.theme, turn=turn, featured=True
    )
    CurationEntryFactory(quote=quote)
    recap = RecapFactory(forum=forum, published=True)
    RecapRevisionFactory(recap=recap)
    RecapShareLinkFactory(recap=recap)
    index_forum(forum)
    submission = ReviewFactory().submission
    ReminderFactory(member=submission.member, milestone=submission.deliverable.milestone)
    ReminderOptOutFactory(member=submission.member)
    TopicMoveFactory(member=submission.member)
    ReviewerFactory(cohort=submission.member.cohort, topic=submission.member.topic)
    NotificationFactory()
    DeletionRequestFactory()
    InvitationFactory(cohort=submission.member.cohort, topic=submission.member.topic)
    ApiTokenFactory()


def test_admin_registers_every_portal_model():
    portal_models = {m for name in PORTAL_APPS for m in apps.get_app_config(name).get_models()}

    unregistered = portal_models - set(admin.site._registry)

    assert unregistered == set()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("model", REGISTERED, ids=lambda model: model._meta.label)
def test_admin_changelist_opens_for_superuser(admin_client, one_of_everything, model, language):
    response = admin_client.get(admin_url(model, "changelist"), HTTP_ACCEPT_LANGUAGE=language)

    assert (
        response.status_code,
        plural_name(model, language) in response.text,
        response.context["cl"].result_count,
    ) == (200, True, model._default_manager.count())


@pytest.mark.parametrize(
    "model",
    [model for model in REGISTERED if model not in NOT_ADDABLE],
    ids=lambda model: model._meta.label,
)
def test_admin_add_page_opens_for_superuser(admin_client, model):
    response = admin_client.get(admin_url(model, "add"), HTTP_ACCEPT_LANGUAGE="en")

    assert (response.status_code, plural_name(model) in response.text) == (200, True)


@pytest.mark.parametrize("model", PORTAL_MODELS, ids=lambda model: model._meta.label)
def test_admin_change_page_opens_for_superuser(admin_client, one_of_everything, model):
    row = model._default_manager.first()

    response = admin_client.get(admin_url(model, "change", row.pk), HTTP_ACCEPT_LANGUAGE="en")

    assert (response.status_code, plural_name(model) in response.text) == (200, True)


def test_admin_recap_revision_cannot_be_added(admin_client):
    recap = RecapFactory()

    response = admin_client.post(
        admin_url(RecapRevision, "add"), {"recap": recap.pk, "number": 1, "snapshot": "{}"}
    )

    assert (response.status_code, RecapRevision.objects.count()) == (403, 0)


@pytest.mark.parametrize(
    "factory", [SpeakerFactory, MemberFactory, QuoteFactory, SubmissionFactory]
)
def test_admin_changelist_queries_do_not_grow_with_rows(
    admin_client, django_assert_max_num_queries, factory
):
    url = admin_url(factory._meta.model, "changelist")
    factory.create_batch(3)
    with CaptureQueriesContext(connection) as small:
        admin_client.get(url)
    factory.create_batch(27)

    with django_assert_max_num_queries(len(small.captured_queries)):
        response = admin_client.get(url)

    assert response.context["cl"].result_count == 30


def test_admin_user_add_stores_email_in_lower_case(admin_client):
    response = admin_client.post(
        admin_url(User, "add"),
        {"email": "Han.Meimei@Example.com", "password1": PASSWORD, "password2": PASSWORD},
    )

    user = User.objects.get(email="han.meimei@example.com")
    assert (response.url, user.check_password(PASSWORD)) == (
        admin_url(User, "change", user.pk),
        True,
    )


def test_admin_user_add_refuses_an_email_taken_in_another_case(admin_client):
    User.objects.create_user("han.meimei@example.com")

    response = admin_client.post(
        admin_url(User, "add"),
        {"email": "HAN.MEIMEI@example.com", "password1": PASSWORD, "password2": PASSWORD},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    errors = response.context["adminform"].form.errors
    assert (errors["email"], User.objects.count()) == (
        ["A user with this email address already exists."],
        2,
    )


def test_admin_user_add_reports_a_taken_email_once(admin_client):
    User.objects.create_user("han.meimei@example.com")

    response = admin_client.post(
        admin_url(User, "add"),
        {"email": "HAN.MEIMEI@example.com", "password1": PASSWORD, "password2": PASSWORD},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    errors = response.context["adminform"].form.errors
    assert errors == {"email": ["A user with this email address already exists."]}


def test_admin_cohort_changelist_links_to_the_cohort_members(admin_client):
    cohort = CohortFactory(capacity=35)
    MemberFactory.create_batch(2, cohort=cohort)
    MemberFactory()
    link = f"{admin_url(Member, 'changelist')}?cohort__id__exact={cohort.pk}"

    changelist = admin_client.get(admin_url(Cohort, "changelist"))
    members = admin_client.get(link)

    shown = f'href="{link}">2 / 35</a>' in changelist.text
    assert (shown, members.context["cl"].result_count) == (True, 2)


def test_admin_invitation_add_page_proposes_a_fresh_token(admin_client):
    first = admin_client.get(admin_url(Invitation, "add"))

    second = admin_client.get(admin_url(Invitation, "add"))

    tokens = [page.context["adminform"].form.initial["token"] for page in (first, second)]
    assert (len(tokens[0]), tokens[0] == tokens[1]) == (43, False)


def test_admin_reminder_change_keeps_the_delivery_state(admin_client):
    reminder = ReminderFactory(attempts=2, reason="SMTP 超时")
    due_at = datetime.datetime(2026, 12, 10, 9, 0)  # in the site's zone, Asia/Shanghai

    admin_client.post(
        admin_url(Reminder, "change", reminder.pk),
        {
            "milestone": reminder.milestone.pk,
            "member": reminder.member.pk,
            "offset": "-2 00:00:00",
            "due_at_0": due_at.date().isoformat(),
            "due_at_1": due_at.time().isoformat(),
            "status": Reminder.Status.SENT,
            "attempts": 0,
            "reason": "",
        },
    )

    reminder.refresh_from_db()
    assert (reminder.offset, reminder.status, reminder.attempts, reminder.reason) == (
        datetime.timedelta(days=-2),
        Reminder.Status.PENDING,
        2,
        "SMTP 超时",
    )


def test_admin_user_password_change_sets_the_new_password(admin_client, user):
    response = admin_client.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"password1": "a-new-long-passphrase", "password2": "a-new-long-passphrase"},
    )

    user.refresh_from_db()
    assert (response.url, user.check_password("a-new-long-passphrase")) == (
        admin_url(User, "change", user.pk),
        True,
    )
