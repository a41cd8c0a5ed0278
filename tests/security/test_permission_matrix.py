"""Every URL of the project × every role × GET and POST, against an explicit rule per URL.

`EXPECTED` names, for each URL name, who may use it with GET and with POST, as one of the
access classes below, and which of the world's objects fill its URL. A URL added to the
project without a rule here fails `test_every_url_pattern_has_a_rule`: deciding who may
open a new page is part of adding it. The Django admin (tested in tests/test_admin.py and
tests/security/test_accounts.py), static files and the debug toolbar are left out.

Each request runs in a savepoint rolled back after it, so one role's POST never changes
what the next role finds. The same loop checks, for each request, that no page answers 500
and that a payload sent in every form field comes back as text, never as markup; and that
a POST without a CSRF token is refused.
"""

import json

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.views.static import serve

from tests.security.world import ROLES

pytestmark = pytest.mark.django_db

# --- Outcomes and access classes ------------------------------------------------------------

OK = "ok"  # 2xx, a form's 400, or a redirect anywhere but to the sign-in page
LOGIN = "login"  # a redirect to the sign-in page

# One outcome per role, in the order of ROLES:
#         anonymous  member A  member B  organiser  admin
PUBLIC = (OK, OK, OK, OK, OK)
SIGNED_IN = (LOGIN, OK, OK, OK, OK)
# Group A's work: its members, its reviewers and the organisers; group B gets the 404 of a
# page that does not exist.
MEMBER_OF_GROUP = (LOGIN, OK, 404, OK, OK)
# A member's own pages in their cohort: organisers are not members of it.
MEMBER_OF_COHORT = (LOGIN, OK, OK, 404, 404)
ORGANISER = (LOGIN, 403, 403, OK, OK)
ADMIN = (LOGIN, 403, 403, 403, OK)
# Handing in is for the group's members only; reviewing for organisers and named reviewers.
HAND_IN = (LOGIN, OK, 404, 403, 403)
REVIEW = (LOGIN, 403, 404, OK, OK)
# A member's photo: to their group and the organisers (to everyone once they make it public).
PHOTO_OF_GROUP = (404, OK, 404, OK, OK)
# Something of member A's own account (an API token, a notification).
OWNER = (LOGIN, OK, 404, 404, 404)
# The API answers 401 where the pages redirect to sign in.
API_SIGNED_IN = (401, OK, OK, OK, OK)
API_OWNER = (401, OK, 404, 404, 404)
API_MEMBER_OF_GROUP = (404, OK, 404, OK, OK)
API_ADMIN = (401, 403, 403, 403, OK)
# A proposed quote is not shown to members at all.
API_ADMIN_PROPOSED = (401, 404, 404, 403, OK)
API_NOT_ALLOWED = (405,) * len(ROLES)
# Handing in through the API: the group's members (group B's choice of deliverable is refused
# as invalid, see test_member_of_topic_b_cannot_hand_in_for_topic_a_through_the_api).
API_HAND_IN = (401, OK, OK, 403, 403)


def no(access):
    """The same URL with a method its view does not take: 405 for whoever gets past the
    sign-in and role checks (which run before the method is looked at)."""
    return tuple(outcome if outcome in (LOGIN, 403, 401) else 405 for outcome in access)


# --- The rules ------------------------------------------------------------------------------

# URL name: (GET, POST, the world's kwargs for the URL)
EXPECTED = {
    # Public pages, feeds, the sitemap
    "home": (PUBLIC, no(PUBLIC), "none"),
    "healthz": (PUBLIC, no(PUBLIC), "none"),
    "forums:forum-list": (PUBLIC, no(PUBLIC), "none"),
    "forums:forum-detail": (PUBLIC, no(PUBLIC), "forum_slug"),
    "forums:speaker-list": (PUBLIC, no(PUBLIC), "none"),
    "forums:speaker-detail": (PUBLIC, no(PUBLIC), "speaker_slug"),
    "forums:quote-detail": (PUBLIC, no(PUBLIC), "quote_pk"),
    "forums:recap-share": (PUBLIC, no(PUBLIC), "share_token"),
    "forums:search": (PUBLIC, no(PUBLIC), "none"),
    # Django's feeds and sitemap answer any method; they change nothing.
    "recaps-rss": (PUBLIC, PUBLIC, "none"),
    "recaps-atom": (PUBLIC, PUBLIC, "none"),
    "sitemap": (PUBLIC, PUBLIC, "none"),
    "topics:topic-list": (PUBLIC, no(PUBLIC), "none"),
    "topics:topic-detail": (PUBLIC, no(PUBLIC), "topic_slug"),
    "cohorts:cohort-list": (PUBLIC, no(PUBLIC), "none"),
    "cohorts:cohort-detail": (PUBLIC, no(PUBLIC), "cohort_slug"),
    "schedule:cohort-feed": (PUBLIC, no(PUBLIC), "cohort_slug"),
    # The secret in the address is the key (calendar apps do not sign in).
    "schedule:member-feed": (PUBLIC, no(PUBLIC), "calendar_token"),
    "set_language": (PUBLIC, PUBLIC, "none"),
    "switch-language": (PUBLIC, no(PUBLIC), "language"),
    # A member's own pages
    "programme:dashboard": (SIGNED_IN, no(SIGNED_IN), "none"),
    "programme:invitation": (PUBLIC, PUBLIC, "invitation_token"),
    "programme:profile": (MEMBER_OF_COHORT, MEMBER_OF_COHORT, "cohort"),
    "programme:member-photo": (PHOTO_OF_GROUP, no(PHOTO_OF_GROUP), "member_pk"),
    "programme:data-export": (SIGNED_IN, no(SIGNED_IN), "none"),
    "programme:delete-account": (SIGNED_IN, SIGNED_IN, "none"),
    "programme:notifications": (SIGNED_IN, no(SIGNED_IN), "none"),
    "programme:notifications-read": (no(SIGNED_IN), SIGNED_IN, "none"),
    "schedule:member-schedule": (MEMBER_OF_COHORT, no(MEMBER_OF_COHORT), "cohort"),
    "schedule:feed-reset": (no(MEMBER_OF_COHORT), MEMBER_OF_COHORT, "cohort"),
    "schedule:preferences": (MEMBER_OF_COHORT, MEMBER_OF_COHORT, "cohort"),
    "accounts:api-tokens": (SIGNED_IN, SIGNED_IN, "none"),
    "accounts:api-token-revoke": (no(SIGNED_IN), OWNER, "api_token_pk"),
    # The group's workspace and files
    "workspace:workspace": (MEMBER_OF_GROUP, no(MEMBER_OF_GROUP), "group"),
    "workspace:deliverable": (MEMBER_OF_GROUP, HAND_IN, "deliverable"),
    "workspace:file": (MEMBER_OF_GROUP, no(MEMBER_OF_GROUP), "submission_pk"),
    "workspace:review": (no(SIGNED_IN), REVIEW, "submission_pk"),
    # Organisers: cohorts, schedule, members, reviews, deletion requests
    "organise-cohorts:cohort-list": (ORGANISER, no(ORGANISER), "none"),
    "organise-cohorts:cohort-create": (ORGANISER, ORGANISER, "none"),
    "organise-cohorts:deletion-requests": (ORGANISER, no(ORGANISER), "none"),
    "organise-cohorts:deletion-confirm": (no(ORGANISER), ORGANISER, "deletion_pk"),
    "organise-cohorts:deletion-decline": (no(ORGANISER), ORGANISER, "deletion_pk"),
    "organise-cohorts:cohort": (ORGANISER, no(ORGANISER), "cohort_slug"),
    "organise-cohorts:invite": (no(ORGANISER), ORGANISER, "cohort_slug"),
    "organise-cohorts:import": (ORGANISER, ORGANISER, "cohort_slug"),
    "organise-cohorts:invitation-resend": (no(ORGANISER), ORGANISER, "cohort_invitation"),
    "organise-cohorts:invitation-revoke": (no(ORGANISER), ORGANISER, "cohort_invitation"),
    "organise-cohorts:member-move": (no(ORGANISER), ORGANISER, "cohort_member"),
    "organise-cohorts:reviewer-add": (no(ORGANISER), ORGANISER, "cohort_slug"),
    "organise-cohorts:reviewer-remove": (no(ORGANISER), ORGANISER, "cohort_reviewer"),
    "organise-cohorts:board": (ORGANISER, no(ORGANISER), "cohort_slug"),
    "organise-cohorts:board-csv": (ORGANISER, no(ORGANISER), "cohort_slug"),
    "organise-schedule:milestones": (ORGANISER, no(ORGANISER), "cohort_slug"),
    "organise-schedule:generate": (no(ORGANISER), ORGANISER, "cohort_slug"),
    "organise-schedule:milestone-add": (ORGANISER, ORGANISER, "cohort_slug"),
    "organise-schedule:milestone-edit": (ORGANISER, ORGANISER, "cohort_milestone"),
    "organise-schedule:milestone-remove": (ORGANISER, ORGANISER, "cohort_milestone"),
    "organise-schedule:send-reminders": (no(ORGANISER), ORGANISER, "cohort_milestone"),
    "organise-schedule:reminders": (ORGANISER, no(ORGANISER), "cohort_slug"),
    # Organisers: forums and recaps
    "organise:forum-list": (ORGANISER, no(ORGANISER), "none"),
    "organise:import": (ORGANISER, ORGANISER, "none"),
    "organise:forum-create": (ORGANISER, ORGANISER, "none"),
    "organise:forum-edit": (ORGANISER, ORGANISER, "forum_pk"),
    "organise:forum-preview": (ORGANISER, no(ORGANISER), "forum_pk"),
    "organise:forum-history": (ORGANISER, no(ORGANISER), "forum_pk"),
    "organise:revision-restore": (no(ORGANISER), ORGANISER, "forum_revision"),
    "organise:markdown-preview": (no(ORGANISER), ORGANISER, "none"),
    "organise:speaker-options": (ORGANISER, no(ORGANISER), "none"),
    "organise:theme-add": (no(ORGANISER), ORGANISER, "forum_pk"),
    "organise:theme-rename": (no(ORGANISER), ORGANISER, "forum_theme"),
    "organise:theme-move": (no(ORGANISER), ORGANISER, "forum_theme"),
    "organise:theme-remove": (no(ORGANISER), ORGANISER, "forum_theme"),
    "organise:appearance-add": (no(ORGANISER), ORGANISER, "forum_pk"),
    "organise:appearance-update": (no(ORGANISER), ORGANISER, "forum_appearance"),
    "organise:appearance-move": (no(ORGANISER), ORGANISER, "forum_appearance"),
    "organise:appearance-remove": (no(ORGANISER), ORGANISER, "forum_appearance"),
    "organise:turn-add": (no(ORGANISER), ORGANISER, "forum_theme"),
    "organise:turn-update": (no(ORGANISER), ORGANISER, "forum_turn"),
    "organise:turn-move": (no(ORGANISER), ORGANISER, "forum_turn"),
    "organise:turn-remove": (no(ORGANISER), ORGANISER, "forum_turn"),
    "organise:highlights": (no(ORGANISER), ORGANISER, "forum_pk"),
    "organise:publish": (no(ORGANISER), ORGANISER, "forum_pk"),
    "organise:schedule": (no(ORGANISER), ORGANISER, "forum_pk"),
    "organise:unpublish": (no(ORGANISER), ORGANISER, "forum_pk"),
    "organise:share-link-create": (no(ORGANISER), ORGANISER, "forum_pk"),
    # Curation: admins; organisers propose and edit proposals
    "curate:queue": (ADMIN, ADMIN, "none"),
    "curate:quote": (ADMIN, no(ADMIN), "proposed_pk"),
    "curate:approve": (no(ADMIN), ADMIN, "proposed_pk"),
    "curate:reject": (no(ADMIN), ADMIN, "proposed_pk"),
    "curate:feature": (no(ADMIN), ADMIN, "quote_pk"),
    "curate:unfeature": (no(ADMIN), ADMIN, "quote_pk"),
    "curate:highlight-move": (no(ADMIN), ADMIN, "quote_pk"),
    "curate:propose": (ORGANISER, ORGANISER, "none"),
    "curate:edit": (ORGANISER, ORGANISER, "proposed_pk"),
    "curate:repropose": (no(ORGANISER), ORGANISER, "proposed_pk"),
    "curate:highlights": (ADMIN, no(ADMIN), "none"),
    "curate:highlights-reorder": (no(ADMIN), ADMIN, "forum_pk"),
    "curate:log": (ADMIN, no(ADMIN), "none"),
    "curate:speaker-merge": (ADMIN, ADMIN, "none"),
    # django-allauth: signing in and out, the address, the password
    "account_login": (PUBLIC, PUBLIC, "none"),
    "account_logout": (PUBLIC, PUBLIC, "none"),
    "account_signup": (PUBLIC, PUBLIC, "none"),
    "account_inactive": (PUBLIC, no(PUBLIC), "none"),
    "account_email_verification_sent": (PUBLIC, no(PUBLIC), "none"),
    "account_confirm_email": (PUBLIC, PUBLIC, "confirm_email"),
    "account_confirm_login_code": (SIGNED_IN, SIGNED_IN, "none"),
    "account_reauthenticate": (SIGNED_IN, SIGNED_IN, "none"),
    "account_request_reauthentication_code": (SIGNED_IN, SIGNED_IN, "none"),
    "account_confirm_reauthentication_code": (SIGNED_IN, SIGNED_IN, "none"),
    "account_email": (SIGNED_IN, SIGNED_IN, "none"),
    "account_change_password": (SIGNED_IN, SIGNED_IN, "none"),
    "account_set_password": (SIGNED_IN, SIGNED_IN, "none"),
    "account_reset_password": (PUBLIC, PUBLIC, "none"),
    "account_reset_password_done": (PUBLIC, no(PUBLIC), "none"),
    "account_reset_password_from_key": (PUBLIC, PUBLIC, "reset_key"),
    "account_reset_password_from_key_done": (PUBLIC, no(PUBLIC), "none"),
    # The API: what the pages show, to whoever the pages show it; writes as the pages allow
    "api-schema": (PUBLIC, no(PUBLIC), "none"),
    "api-docs": (PUBLIC, no(PUBLIC), "none"),
    "api-redoc": (PUBLIC, no(PUBLIC), "none"),
    "api-v1:search": (PUBLIC, API_NOT_ALLOWED, "none"),
    "api-v1:me": (API_SIGNED_IN, API_NOT_ALLOWED, "none"),
    "api-v1:forum-list": (PUBLIC, API_NOT_ALLOWED, "none"),
    "api-v1:forum-detail": (PUBLIC, API_NOT_ALLOWED, "forum_slug"),
    "api-v1:forum-turn-list": (PUBLIC, API_NOT_ALLOWED, "api_forum"),
    "api-v1:forum-turn-detail": (PUBLIC, API_NOT_ALLOWED, "api_forum_turn"),
    "api-v1:recap-list": (PUBLIC, API_NOT_ALLOWED, "none"),
    "api-v1:recap-detail": (PUBLIC, API_NOT_ALLOWED, "api_forum"),
    "api-v1:speaker-list": (PUBLIC, API_NOT_ALLOWED, "none"),
    "api-v1:speaker-detail": (PUBLIC, API_NOT_ALLOWED, "speaker_slug"),
    "api-v1:quote-list": (PUBLIC, API_NOT_ALLOWED, "none"),
    "api-v1:quote-detail": (PUBLIC, API_NOT_ALLOWED, "quote_pk"),
    "api-v1:quote-approve": (API_NOT_ALLOWED, API_ADMIN_PROPOSED, "proposed_pk"),
    "api-v1:quote-reject": (API_NOT_ALLOWED, API_ADMIN_PROPOSED, "proposed_pk"),
    "api-v1:quote-feature": (API_NOT_ALLOWED, API_ADMIN, "quote_pk"),
    "api-v1:quote-unfeature": (API_NOT_ALLOWED, API_ADMIN, "quote_pk"),
    "api-v1:topic-list": (PUBLIC, API_NOT_ALLOWED, "none"),
    "api-v1:topic-detail": (PUBLIC, API_NOT_ALLOWED, "topic_slug"),
    "api-v1:deliverable-list": (PUBLIC, API_NOT_ALLOWED, "none"),
    "api-v1:deliverable-detail": (API_MEMBER_OF_GROUP, API_NOT_ALLOWED, "deliverable_pk"),
    "api-v1:submission-list": (PUBLIC, API_HAND_IN, "none"),
    "api-v1:submission-detail": (API_MEMBER_OF_GROUP, API_NOT_ALLOWED, "submission_pk"),
    "api-v1:review-list": (PUBLIC, API_NOT_ALLOWED, "none"),
    "api-v1:review-detail": (API_MEMBER_OF_GROUP, API_NOT_ALLOWED, "review_pk"),
    "api-v1:cohort-list": (PUBLIC, API_NOT_ALLOWED, "none"),
    "api-v1:cohort-detail": (PUBLIC, API_NOT_ALLOWED, "cohort_slug"),
    "api-v1:member-list": (PUBLIC, API_NOT_ALLOWED, "none"),
    "api-v1:member-detail": (API_MEMBER_OF_GROUP, API_NOT_ALLOWED, "member_pk"),
    "api-v1:milestone-list": (PUBLIC, API_NOT_ALLOWED, "none"),
    "api-v1:milestone-detail": (PUBLIC, API_NOT_ALLOWED, "milestone_pk"),
    "api-v1:notification-list": (API_SIGNED_IN, API_NOT_ALLOWED, "none"),
    "api-v1:notification-read-all": (API_NOT_ALLOWED, API_SIGNED_IN, "none"),
    "api-v1:notification-detail": (API_OWNER, API_NOT_ALLOWED, "notification_pk"),
    "api-v1:notification-read": (API_NOT_ALLOWED, API_OWNER, "notification_pk"),
    "api-v1:reminder-opt-out-list": (API_SIGNED_IN, API_SIGNED_IN, "none"),
    "api-v1:reminder-opt-out-detail": (API_OWNER, API_NOT_ALLOWED, "opt_out_pk"),
}


def api_body(name, world):
    """What an API write is sent: valid input, so that only permission can refuse it."""
    return {
        "api-v1:quote-reject": {"reason": "与议题无关。"},
        "api-v1:submission-list": {
            "deliverable": world.deliverable_a.pk,
            "kind": "text",
            "text": "我们的方案",
        },
    }.get(name)


# --- Walking the URL configuration ------------------------------------------------------------

SKIPPED_PREFIXES = ("admin/", "__debug__/", "static/")


def url_patterns(patterns=None, prefix="", namespace=None):
    """(qualified name, route) of every URL pattern, included ones too, recursively."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from url_patterns(pattern.url_patterns, route, inner)
        elif isinstance(pattern, URLPattern):
            if route.lstrip("^").startswith(SKIPPED_PREFIXES) or pattern.callback is serve:
                continue  # the admin, static and uploaded files in development
            name = pattern.name or route
            yield (f"{namespace}:{name}" if namespace else name), route


def test_every_url_pattern_has_a_rule():
    names = {name for name, _route in url_patterns()}

    assert sorted(names - set(EXPECTED)) == [], "URLs without a rule in EXPECTED"
    assert sorted(set(EXPECTED) - names) == [], "rules for URLs that no longer exist"


# --- Asking ---------------------------------------------------------------------------------

PAYLOAD = "\"'><script>xss(1)</script><img src=x onerror=xss(2)>"
RAW = ("<script>xss(", "<img src=x onerror")
# Every name a form of the portal or of allauth uses, each carrying the payload.
FORM_FIELDS = [
    "action",
    "article",
    "body",
    "bio",
    "comment",
    "confirm",
    "description",
    "direction",
    "duplicate",
    "email",
    "feedback",
    "forum",
    "headline",
    "keep",
    "kind",
    "language",
    "lede",
    "link",
    "location",
    "login",
    "name",
    "next",
    "note",
    "notification",
    "online_url",
    "order",
    "organisation",
    "password",
    "password1",
    "password2",
    "publish_at",
    "q",
    "quotes",
    "reason",
    "seen",
    "speaker",
    "starts_at",
    "starts_on",
    "status",
    "text",
    "theme",
    "time_zone",
    "title",
    "topic",
    "turn",
    "version",
]
FORM_DATA = dict.fromkeys(FORM_FIELDS, PAYLOAD)


def outcome(response):
    if response.status_code == 302 and response.url.startswith("/accounts/login/"):
        return LOGIN
    if response.status_code < 400 or response.status_code == 400:
        return OK
    return response.status_code


def ask(client, method, url, *, api, body=None):
    """One request, in a savepoint rolled back afterwards; the response and its body."""
    with transaction.atomic():
        if method == "get":
            response = client.get(url)
        elif api:
            response = client.post(url, json.dumps(body or {}), content_type="application/json")
        else:
            response = client.post(url, FORM_DATA)
        content = b"".join(response.streaming_content) if response.streaming else response.content
        transaction.set_rollback(True)
    response.body = content.decode("utf-8", "replace")
    return response


def assert_payload_is_text(response):
    """What came back shows the payload as text, or is not a document a browser renders."""
    content_type = response.get("Content-Type", "")
    body = response.body
    if content_type.startswith("application/json"):
        json.loads(body or "null")
        return
    assert [raw for raw in RAW if raw in body] == []


def client_for(world, role, **kwargs):
    client = Client(**kwargs)
    if world.users[role] is not None:
        client.force_login(world.users[role])
    return client


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_url_answers_every_role_as_its_rule_says(world, name):
    get_rule, post_rule, kwargs = EXPECTED[name]
    url = reverse(name, kwargs=world.kwargs[kwargs])
    api = url.startswith("/api/")
    answers = {"get": [], "post": []}
    csrf = []

    for role in ROLES:
        client = client_for(world, role)
        for method in answers:
            response = ask(client, method, url, api=api, body=api_body(name, world))
            assert response.status_code < 500, (method, role, response.status_code)
            assert_payload_is_text(response)
            answers[method].append(outcome(response))
        unprotected = client_for(world, role, enforce_csrf_checks=True)
        csrf.append(ask(unprotected, "post", url, api=api, body=api_body(name, world)).status_code)

    assert (tuple(answers["get"]), tuple(answers["post"])) == (get_rule, post_rule)
    # A POST without the CSRF token is refused before anything else is looked at. The API
    # refuses it to a session too (scripts send a token, which no browser adds by itself);
    # without a session there is nothing to forge.
    expected_csrf = [403] * len(ROLES)
    if api:
        expected_csrf[0] = post_rule[0]
    assert csrf == expected_csrf


# --- Group B and group A's work ---------------------------------------------------------------

GROUP_A_WORK = [
    name
    for name, (get_rule, post_rule, _kwargs) in EXPECTED.items()
    if get_rule in (MEMBER_OF_GROUP, PHOTO_OF_GROUP, API_MEMBER_OF_GROUP)
]


def test_group_a_work_covers_the_workspace_the_deliverables_and_the_files():
    assert {"workspace:workspace", "workspace:deliverable", "workspace:file"} <= set(GROUP_A_WORK)


@pytest.mark.parametrize("name", GROUP_A_WORK)
def test_member_of_topic_b_never_gets_topic_a_work(world, name):
    client = client_for(world, "member_b")
    url = reverse(name, kwargs=world.kwargs[EXPECTED[name][2]])

    answers = [ask(client, method, url, api=url.startswith("/api/")) for method in ("get", "post")]

    assert [response.status_code for response in answers if response.status_code < 400] == []


def test_member_of_topic_b_cannot_hand_in_for_topic_a_through_the_api(world):
    client = client_for(world, "member_b")
    before = world.deliverable_a.submissions.count()

    response = client.post(
        reverse("api-v1:submission-list"),
        json.dumps(api_body("api-v1:submission-list", world)),
        content_type="application/json",
    )

    assert (response.status_code, world.deliverable_a.submissions.count()) == (400, before)
    assert "我们的方案" not in response.text
