"""No page runs a query while its template renders: views hand templates evaluated data.

Every URL of the project that answers with a page (the rules of
tests/security/test_permission_matrix.py, which fails for a URL added without one) is asked
by every role of tests/security/world.py and by a named reviewer, with GET and with an empty
POST (a form sent back with its errors is a page too); the pages whose query string shows
more (search results, filters, a chosen forum, the month view) are asked again with one.
The world gets a row in every list a page shows first (`enrich`). A query that runs while a
Django template renders fails the test, with its SQL and the templates being rendered.

"While a template renders" starts when the template's nodes render
(`django.template.base.Template._render`, which `{% extends %}`, `{% include %}`, inclusion
tags and form widgets go through too), not when the backend's `render()` is called: context
processors run before that, in `RequestContext.bind_template`. They are code like the view
and held to the same rule: they hand the template values, never lazy objects that query
when the template first touches them (the header's unread count is counted in
`cohorts.context_processors`).

Exempt: nothing. The framework's lazy lookups happen before the nodes render and need no
exemption: `request.user` and the session are loaded by the context processors (the header
needs the user's roles), messages are read from the cookie or the session already loaded,
`{% csrf_token %}` reads no table, and allauth's pages pass as they are.

Left out: the Django admin, the API (JSON, no templates) and the schema. The feeds and the
sitemap are in (the sitemap renders a template).
"""

import contextvars
import datetime

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.template import engines
from django.template.base import Template
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cohorts.models import Milestone, Reminder, Reviewer
from forums import curation, search
from tests.factories import (
    AppearanceFactory,
    MemberFactory,
    MilestoneFactory,
    QuoteFactory,
    ReminderFactory,
    SpeakerFactory,
)
from tests.security.test_permission_matrix import EXPECTED
from tests.security.world import build_security_world
from topics.models import Topic

pytestmark = pytest.mark.django_db

# The templates being rendered, outermost first; empty outside rendering.
rendering = contextvars.ContextVar("rendering", default=())

NOT_PAGES = ("api-v1:", "api-schema")
PAGES = sorted(name for name in EXPECTED if not name.startswith(NOT_PAGES))
# Pages again with what their query string adds: results, filters, a chosen forum, a month.
VARIANTS = {
    "search results": ("forums:search", "none", lambda w: f"q={w.speaker.name}"),
    "search results of one kind": ("forums:search", "none", lambda w: "q=数字化转型&kind=quote"),
    "speakers filtered": (
        "forums:speaker-list",
        "none",
        lambda w: f"q={w.speaker.name}&role=panelist&forum={w.forum.pk}&organisation=腾讯云",
    ),
    "curation queue, every state": ("curate:queue", "none", lambda w: "state="),
    "curation queue filtered": (
        "curate:queue",
        "none",
        lambda w: f"forum={w.forum.pk}&speaker={w.speaker.pk}&state=approved",
    ),
    "curation of a quote with its transcript and trail": ("curate:quote", "curated_pk", None),
    "audit log filtered": (
        "curate:log",
        "none",
        lambda w: f"action=approve&actor={w.users['admin'].pk}&forum={w.forum.pk}",
    ),
    "highlights of a forum": ("curate:highlights", "none", lambda w: f"forum={w.forum.pk}"),
    "proposing for a forum": ("curate:propose", "none", lambda w: f"forum={w.forum.pk}"),
    "merge preview": (
        "curate:speaker-merge",
        "none",
        lambda w: f"keep={w.namesakes[0].pk}&duplicate={w.namesakes[1].pk}",
    ),
    "schedule by month": ("schedule:member-schedule", "cohort", lambda w: "view=month"),
    "reminder log filtered": (
        "organise-schedule:reminders",
        "cohort_slug",
        lambda w: f"status=sent&kind=deadline&q={w.member_a.name}",
    ),
}


@pytest.fixture
def queries_while_rendering(monkeypatch):
    """The (templates, SQL) of every query run while a template's nodes render."""
    recorded = []
    render_nodes = Template._render

    def tracked_render(template, context):
        token = rendering.set((*rendering.get(), template.name or "<string>"))
        try:
            return render_nodes(template, context)
        finally:
            rendering.reset(token)

    def record(execute, sql, params, many, context):
        if templates := rendering.get():
            recorded.append((" > ".join(templates), sql))
        return execute(sql, params, many, context)

    monkeypatch.setattr(Template, "_render", tracked_render)
    with connection.execute_wrapper(record):
        yield recorded


def enrich(world):
    """The security world with a row in every list a page shows: the audit trail's acts, a
    merge, reminders of each fate, a milestone within the outbox's week, a public member."""
    admin, organiser = world.users["admin"], world.users["organiser"]
    forum, speaker, theme, turn = world.forum, world.speaker, world.theme, world.turn
    words = turn.body[:8]

    proposal = curation.propose_quote(forum, user=organiser, speaker=speaker, text=words, turn=turn)
    curation.approve_quote(proposal, user=admin)
    curation.feature_quote(proposal, user=admin)
    world.kwargs["curated_pk"] = {"pk": proposal.pk}
    curation.reject_quote(
        QuoteFactory(forum=forum, speaker=speaker, theme=theme), user=admin, reason="重复。"
    )
    order = curation.highlight_ids(forum)
    curation.reorder_highlights(forum, user=admin, order=order[::-1], seen=order)
    duplicate = SpeakerFactory(name=speaker.name)
    AppearanceFactory(forum=forum, speaker=duplicate)
    curation.merge_speakers(speaker, user=admin, duplicate=duplicate)
    world.objects["namesakes"] = SpeakerFactory.create_batch(2, name="同名嘉宾")

    cohort, member_a = world.cohort, world.member_a
    soon = MilestoneFactory(
        cohort=cohort,
        kind=Milestone.Kind.WORKSHOP,
        topic=world.topic_a,
        starts_at=timezone.now() + datetime.timedelta(days=3),
    )
    for status, offset in [
        (Reminder.Status.SENT, -7),
        (Reminder.Status.FAILED, -1),
        (Reminder.Status.SKIPPED, -2),
    ]:
        ReminderFactory(
            milestone=world.milestone,
            member=member_a,
            offset=datetime.timedelta(days=offset),
            status=status,
            sent_at=timezone.now() if status == Reminder.Status.SENT else None,
            reason="" if status == Reminder.Status.SENT else "邮件服务器拒收。",
        )
    ReminderFactory(milestone=soon, member=member_a)
    MemberFactory(cohort=cohort, topic=world.topic_b, is_public=True)
    search.rebuild_index()


@pytest.fixture
def world(db, settings, tmp_path):
    cache.clear()  # rate limits and cached pages of earlier tests
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.PRIVATE_FILES_ACCEL_PREFIX = ""
    world = build_security_world()
    world.users["reviewer"] = Reviewer.objects.get().user
    enrich(world)
    return world


def ask(client, method, url):
    """One request in a savepoint rolled back afterwards, its streamed body read."""
    with transaction.atomic():
        response = client.get(url) if method == "get" else client.post(url, {})
        if response.streaming:
            b"".join(response.streaming_content)
        transaction.set_rollback(True)
    return response


def report(found):
    """Each query once, with the templates it ran in and who met it."""
    by_query = {}
    for role, method, templates, sql in found:
        by_query.setdefault((templates, sql), []).append(f"{role} {method.upper()}")
    return "\n".join(
        f"{templates} ({', '.join(askers)}):\n    {sql}"
        for (templates, sql), askers in by_query.items()
    )


def queries_of_every_role(world, recorded, url, methods):
    found = []
    for role, user in world.users.items():
        client = Client()
        if user is not None:
            client.force_login(user)
        for method in methods:
            ask(client, method, url)
            found += [(role, method, *query) for query in recorded]
            recorded.clear()
    return found


@pytest.mark.parametrize("name", PAGES)
def test_page_runs_no_query_while_its_template_renders(world, queries_while_rendering, name):
    url = reverse(name, kwargs=world.kwargs[EXPECTED[name][2]])

    found = queries_of_every_role(world, queries_while_rendering, url, ("get", "post"))

    assert found == [], f"{url}: queries while rendering\n{report(found)}"


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_page_with_its_query_string_runs_no_query_while_rendering(
    world, queries_while_rendering, variant
):
    name, kwargs, query = VARIANTS[variant]
    url = reverse(name, kwargs=world.kwargs[kwargs])
    if query:
        url = f"{url}?{query(world)}"

    found = queries_of_every_role(world, queries_while_rendering, url, ("get",))

    assert found == [], f"{url}: queries while rendering\n{report(found)}"


def test_a_query_in_an_included_template_is_caught(db, queries_while_rendering):
    engine = engines["django"]
    page = engine.from_string("{% include row %}")
    row = engine.from_string("{% for topic in topics %}{{ topic }}{% endfor %}")

    page.render({"row": row.template, "topics": Topic.objects.all()})

    assert [templates for templates, _sql in queries_while_rendering] == ["<string> > <string>"]
