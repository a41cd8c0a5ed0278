"""Every read, asked about objects that exist, answers what the schema says, field by field.

Schemathesis' own run (test_schemathesis.py) draws addresses at random, which rarely name
a real object; here each detail address names one of the programme's, as an admin (who sees
every object) and as member A.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import token_for

pytestmark = pytest.mark.django_db

CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def path_parameters(programme):
    """The path parameters of each detail address, naming one of the programme's objects."""
    world = programme.world
    forum = programme.forum.slug
    return {
        "/api/v1/cohorts/{slug}/": {"slug": world.cohort.slug},
        "/api/v1/deliverables/{id}/": {"id": world.deliverable_a.pk},
        "/api/v1/forums/{forum_slug}/turns/": {"forum_slug": forum},
        "/api/v1/forums/{forum_slug}/turns/{id}/": {
            "forum_slug": forum,
            "id": programme.forum.themes.get().turns.get().pk,
        },
        "/api/v1/forums/{slug}/": {"slug": forum},
        "/api/v1/members/{id}/": {"id": programme.member_a.pk},
        "/api/v1/milestones/{id}/": {"id": programme.milestone.pk},
        "/api/v1/notifications/{id}/": {"id": programme.member_a.user.notifications.get().pk},
        "/api/v1/quotes/{id}/": {"id": programme.featured.pk},
        "/api/v1/recaps/{forum_slug}/": {"forum_slug": forum},
        "/api/v1/reminder-opt-outs/{id}/": {"id": programme.opt_out_a.pk},
        "/api/v1/reviews/{id}/": {"id": programme.review_a.pk},
        "/api/v1/speakers/{slug}/": {"slug": programme.approved.speaker.slug},
        "/api/v1/submissions/{id}/": {"id": programme.submission_a.pk},
        "/api/v1/topics/{slug}/": {"slug": world.topic_a.slug},
    }


# Member A's own notification and opt-out are nobody else's, not even an admin's.
NOT_FOUND = {
    "admin": {"/api/v1/notifications/{id}/", "/api/v1/reminder-opt-outs/{id}/"},
    "member_a": set(),
}


@pytest.fixture
def portal():
    """The portal's WSGI application, called inside the test's transaction.

    As Django's test client does, requests must not close the database connection that
    holds the transaction (PostgreSQL would lose it).
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.parametrize("role", ["admin", "member_a"])
def test_every_read_of_existing_objects_matches_the_schema(programme, portal, role):
    programme.forum.released_topics.add(programme.world.topic_a)
    schema = schemathesis.openapi.from_wsgi("/api/schema/", portal)
    parameters = path_parameters(programme)
    headers = {"Authorization": f"Bearer {token_for(programme.users[role])}"}
    reads = [path for path, methods in schema.raw_schema["paths"].items() if "get" in methods]

    answered = {}
    for path in reads:
        case = schema[path]["GET"].Case(path_parameters=parameters.get(path, {}))
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)
        answered[path] = response.status_code

    assert answered == {path: 404 if path in NOT_FOUND[role] else 200 for path in reads}
