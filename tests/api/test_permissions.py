"""Who may do what: every URL of /api/v1/ × every role × GET, POST, PUT, PATCH and DELETE.

The expectations are listed per URL name; a URL added to the API without a rule here fails
`test_every_api_url_has_a_permission_rule`. A method a rule does not list must answer 405
to everyone. The objects asked for are chosen so that the roles differ where the pages'
rules say they do: a draft forum, a proposed quote, the 数字政府 group's (A) work.
"""

import json
from dataclasses import dataclass

import pytest
from django.db import transaction
from django.test.client import encode_multipart
from django.urls import URLResolver, get_resolver, reverse

from tests.api.conftest import ROLES

pytestmark = pytest.mark.django_db

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
BOUNDARY = "wecity-boundary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


@dataclass(frozen=True)
class Rule:
    kwargs: str  # the name of a function of the programme, giving the URL's kwargs
    expected: dict  # method -> statuses per role, in ROLES order; other methods: 405
    body: str = "none"  # the name of a function of the programme, giving the request body
    multipart: bool = False


def everyone(status):
    return (status,) * len(ROLES)


PUBLIC = {"GET": everyone(200)}
SIGNED_IN = (401, 200, 200, 200, 200)
STAFF_ONLY = (404, 404, 404, 200, 200)  # organisers and admins see what is not public yet
GROUP_A = (404, 200, 404, 200, 200)  # the group, and organisers (admins are organisers too)
USER_A = (401, 200, 404, 404, 404)  # member A's own notification or opt-out
CURATE = (401, 403, 403, 403, 200)  # admins curate; others see the quote but may not

RULES = {
    "api-v1:search": Rule("none", PUBLIC),
    "api-v1:me": Rule("none", {"GET": SIGNED_IN}),
    "api-v1:forum-list": Rule("none", PUBLIC),
    "api-v1:forum-detail": Rule("draft_forum", {"GET": STAFF_ONLY}),
    "api-v1:forum-turn-list": Rule("forum", PUBLIC),
    "api-v1:forum-turn-detail": Rule("turn", PUBLIC),
    "api-v1:recap-list": Rule("none", PUBLIC),
    "api-v1:recap-detail": Rule("draft_recap", {"GET": STAFF_ONLY}),
    "api-v1:speaker-list": Rule("none", PUBLIC),
    "api-v1:speaker-detail": Rule("draft_speaker", {"GET": STAFF_ONLY}),
    "api-v1:quote-list": Rule("none", PUBLIC),
    "api-v1:quote-detail": Rule("proposed", {"GET": STAFF_ONLY}),
    "api-v1:quote-approve": Rule("proposed", {"POST": (401, 404, 404, 403, 200)}),
    "api-v1:quote-reject": Rule("approved", {"POST": CURATE}, body="reason"),
    "api-v1:quote-feature": Rule("approved", {"POST": CURATE}),
    "api-v1:quote-unfeature": Rule("featured", {"POST": CURATE}),
    "api-v1:topic-list": Rule("none", PUBLIC),
    "api-v1:topic-detail": Rule("topic", PUBLIC),
    "api-v1:deliverable-list": Rule("none", PUBLIC),
    "api-v1:deliverable-detail": Rule("deliverable", {"GET": GROUP_A}),
    # Member B cannot name A's deliverable (400); organisers hand in for no group (403).
    "api-v1:submission-list": Rule(
        "none",
        {"GET": everyone(200), "POST": (401, 201, 400, 403, 403)},
        body="hand_in",
        multipart=True,
    ),
    "api-v1:submission-detail": Rule("submission", {"GET": GROUP_A}),
    "api-v1:review-list": Rule("none", PUBLIC),
    "api-v1:review-detail": Rule("review", {"GET": GROUP_A}),
    "api-v1:cohort-list": Rule("none", PUBLIC),
    "api-v1:cohort-detail": Rule("cohort", PUBLIC),
    "api-v1:member-list": Rule("none", PUBLIC),
    "api-v1:member-detail": Rule("member", {"GET": GROUP_A}),
    "api-v1:milestone-list": Rule("none", PUBLIC),
    "api-v1:milestone-detail": Rule("milestone", PUBLIC),
    "api-v1:notification-list": Rule("none", {"GET": SIGNED_IN}),
    "api-v1:notification-detail": Rule("notification", {"GET": USER_A}),
    "api-v1:notification-read": Rule("notification", {"POST": USER_A}),
    "api-v1:notification-read-all": Rule("none", {"POST": SIGNED_IN}),
    # Only member A has the membership named in the body.
    "api-v1:reminder-opt-out-list": Rule(
        "none", {"GET": SIGNED_IN, "POST": (401, 201, 400, 400, 400)}, body="opt_out"
    ),
    "api-v1:reminder-opt-out-detail": Rule(
        "opt_out", {"GET": USER_A, "DELETE": (401, 204, 404, 404, 404)}
    ),
}


def api_url_names():
    names = set()
    for pattern in get_resolver().url_patterns:
        if isinstance(pattern, URLResolver) and pattern.namespace == "api-v1":
            names |= {f"api-v1:{p.name}" for p in pattern.url_patterns}
    return names


def test_every_api_url_has_a_permission_rule():
    assert api_url_names() == set(RULES)


def url_kwargs(programme, name):
    world = programme.world
    turn = programme.forum.themes.get().turns.get()
    return {
        "none": {},
        "forum": {"forum_slug": programme.forum.slug},
        "draft_forum": {"slug": programme.draft.slug},
        "draft_recap": {"forum_slug": programme.draft.slug},
        "turn": {"forum_slug": programme.forum.slug, "pk": turn.pk},
        "draft_speaker": {"slug": "draft-speaker"},
        "proposed": {"pk": programme.proposed.pk},
        "approved": {"pk": programme.approved.pk},
        "featured": {"pk": programme.featured.pk},
        "topic": {"slug": world.topic_a.slug},
        "deliverable": {"pk": world.deliverable_a.pk},
        "submission": {"pk": programme.submission_a.pk},
        "review": {"pk": programme.review_a.pk},
        "cohort": {"slug": world.cohort.slug},
        "member": {"pk": world.member_a.pk},
        "milestone": {"pk": programme.milestone.pk},
        "notification": {"pk": world.member_a.user.notifications.get().pk},
        "opt_out": {"pk": programme.opt_out_a.pk},
    }[name]


def request_body(programme, name):
    world = programme.world
    return {
        "none": None,
        "reason": {"reason": "与议题无关。"},
        "hand_in": {"deliverable": world.deliverable_a.pk, "kind": "text", "text": "第二版方案"},
        "opt_out": {"member": world.member_a.pk, "kind": "forum"},
    }[name]


@pytest.mark.parametrize("name", sorted(RULES))
def test_api_url_answers_each_role_and_method_as_its_rule_says(clients, programme, name):
    rule = RULES[name]
    url = reverse(name, kwargs=url_kwargs(programme, rule.kwargs))
    body = request_body(programme, rule.body)
    expected = {method: rule.expected.get(method, everyone(405)) for method in METHODS}

    answered = {}
    for method in METHODS:
        statuses = []
        for role in ROLES:
            # Each request in a savepoint rolled back after it: every role finds the same data.
            with transaction.atomic():
                response = clients[role].generic(
                    method,
                    url,
                    **request_arguments(method, body, multipart=rule.multipart),
                )
                transaction.set_rollback(True)
            statuses.append(response.status_code)
        answered[method] = tuple(statuses)

    assert answered == expected


def request_arguments(method, body, *, multipart):
    if method == "GET" or body is None:
        return {}
    if multipart:
        return {"data": encode_multipart(BOUNDARY, body), "content_type": MULTIPART}
    return {"data": json.dumps(body), "content_type": "application/json"}
