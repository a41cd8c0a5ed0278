"""Every filter and ordering of the pages and the API lists is served by an index (PostgreSQL).

Each page and API list is requested as each role that may read it (the URLs, roles and
objects of tests/security: `EXPECTED` and `build_security_world`), and again with each
filter and ordering it offers (`variants`). Every SELECT it sends is captured with its real
parameters and, when it reads one of the tables that grow (`LARGE_TABLES`), explained with
`enable_seqscan = off`: PostgreSQL then reads a table whole only when no index can serve the
query, whatever the size of the (tiny) test data. So a plan is judged by what an index *can*
do, not by what the planner prefers for a few rows. A query fails when its plan:

1. has a Seq Scan of a large table with a Filter: no index serves that filter;
2. reads a whole index of a large table (an index scan, or a bitmap, with no index
   condition) only to apply a Filter, and still does with index scans off as well, so
   that only conditions can use an index: the index stands in for the Seq Scan the planner
   was denied. An index walked in the order of an ORDER BY … LIMIT is fine: it stops at
   the page's last row (without an ORDER BY, `.exists()` walks until a row matches);
3. has ORDER BY … LIMIT over the whole of a large table and, with `enable_sort = off` as
   well, still sorts it: no index gives the rows in the page's order, so every page sorts
   the table.

Accepted on purpose: reading a whole table with no filter on it (the count of a numbered
list, every forum for an organiser's choice); a Sort over rows an index has narrowed (one
forum's transcript, one user's notifications, the matches of a search ranked), which the
filter bounds however the table grows; an Incremental Sort, whose leading keys come from an
index; a partial index read whole, its condition being the filter. Small tables (topics,
cohorts, groups, sessions) are not checked; `LOW_SELECTIVITY` names the two columns whose
equality is not worth an index. Query shapes no B-tree index can serve are listed in
`SHAPES` with the view to change; each must still occur, so that fixing the view makes this
test say to drop it.
"""

import json
import re
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.urls import reverse

from forums.search import index_forum, index_speaker
from tests.factories import CurationEntryFactory, ReminderFactory
from tests.security.test_permission_matrix import EXPECTED, OK, client_for
from tests.security.world import ROLES, build_security_world

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="plans are PostgreSQL's (EXPLAIN)"
    ),
]

# The tables that grow with the programme: forums and their content, the search index, the
# audit trail, the cohorts' members, schedules, reminders, notifications and work.
LARGE_TABLES = {
    "accounts_user",
    "cohorts_invitation",
    "cohorts_member",
    "cohorts_milestone",
    "cohorts_notification",
    "cohorts_reminder",
    "forums_appearance",
    "forums_curationentry",
    "forums_forum",
    "forums_quote",
    "forums_recap",
    "forums_recaprevision",
    "forums_searchentry",
    "forums_speaker",
    "forums_theme",
    "forums_transcriptturn",
    "topics_deliverable",
    "topics_review",
    "topics_submission",
}

# Columns of two values, each a large share of the rows: PostgreSQL reads the table for
# `column = value` whatever the indexes, and the list's ordering index serves its pages.
LOW_SELECTIVITY = {
    ("forums_forum", "format"): "online or on site",
    ("topics_review", "status"): "accepted or changes requested",
}

ICONTAINS = "~~"  # LIKE '%…%', which a B-tree cannot serve
# (URL name, text of the problem, why no index can serve it and what the view should do).
SHAPES = [
    (
        "api-v1:member-list",
        "hashed SubPlan",
        "Member.visible_to(member) is `public OR EXISTS(same group)`, an OR with a "
        "correlated subquery: the public ones (cohorts_member_public) and the member's "
        "groups fetched as two sets and combined would each use an index.",
    ),
    (
        "api-v1:member-list",
        "cohorts_cohort.starts_on",
        "MemberViewSet orders by the cohort's start and the topic's position, columns of "
        "other tables: no index on members gives that order (a cohort has at most 35).",
    ),
    (
        "api-v1:speaker-list",
        ICONTAINS,
        "SpeakerFilter.search: icontains on name, organisation and title (a trigram index "
        "or the search index would serve it).",
    ),
    (
        "forums:speaker-list",
        ICONTAINS,
        "SpeakerFilter.search: icontains on name, organisation and title.",
    ),
    (
        "organise:speaker-options",
        ICONTAINS,
        "SpeakerOptionsView: icontains on name and organisation.",
    ),
    (
        "forums:speaker-list",
        "<> ''",
        "SpeakerFilter's organisation choices: the organisations with most speakers, "
        "counted over every public speaker (GROUP BY), though the page shows only 100.",
    ),
    (
        "curate:highlights",
        "forums_forum.starts_at",
        "HighlightsOverview counts every forum's quotes (annotate Count over a join, GROUP "
        "BY) before the page's LIMIT: counting in a subquery per forum would let "
        "forums_forum_latest give the page.",
    ),
]

SCANS = {"Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan"}
# Nodes that read all their input before giving the first row: a LIMIT above them does not
# shorten the scans below them.
BLOCKING = {"Sort", "Hash", "Aggregate", "SetOp", "WindowAgg", "Materialize"}


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path):
    """Members' files go to the test's own folder, never to the checkout's private/."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.PRIVATE_FILES_ACCEL_PREFIX = ""


@pytest.fixture
def world(db):
    """The security world, plus the rows some lists need to send all their queries."""
    world = build_security_world()
    index_forum(world.forum)
    index_speaker(world.speaker)
    CurationEntryFactory(quote=world.featured, actor=world.users["admin"])
    ReminderFactory(milestone=world.milestone, member=world.member_a)
    return world


# --- What is requested ------------------------------------------------------------------------


def variants(world):
    """(URL name, role, query) of each filter and ordering the pages and the API offer."""
    forum, speaker, cohort = world.forum, world.speaker, world.cohort
    topic, day = world.topic_a.slug, "2026-01-01"
    public, staff, admin = ("anonymous",), ("organiser", "admin"), ("admin",)
    member = ("member_a", "organiser")
    table = [
        # Pages
        ("forums:speaker-list", public + staff, {"q": speaker.name}),
        ("forums:speaker-list", public + staff, {"organisation": speaker.organisation}),
        ("forums:speaker-list", public + staff, {"role": "panelist"}),
        ("forums:speaker-list", public + staff, {"forum": forum.pk}),
        ("forums:speaker-list", public + staff, {"role": "panelist", "forum": forum.pk}),
        ("forums:search", public + staff, {"q": "城市"}),
        ("forums:search", public + staff, {"q": "城市", "kind": "quote"}),
        ("organise:speaker-options", staff, {"q": speaker.name}),
        ("curate:queue", admin, {"forum": forum.pk}),
        ("curate:queue", admin, {"speaker": speaker.pk}),
        ("curate:queue", admin, {"state": "approved"}),
        ("curate:log", admin, {"action": "approve"}),
        ("curate:log", admin, {"actor": world.users["admin"].pk}),
        ("curate:log", admin, {"forum": forum.pk}),
        ("curate:log", admin, {"speaker": speaker.pk}),
        ("curate:log", admin, {"since": day, "until": "2099-01-01"}),
        ("curate:highlights", admin, {"forum": forum.pk}),
        ("organise-schedule:reminders", staff, {"status": "pending"}),
        ("organise-schedule:reminders", staff, {"kind": "deadline"}),
        ("organise-schedule:reminders", staff, {"milestone": world.milestone.pk}),
        ("organise-schedule:reminders", staff, {"q": "member"}),
        ("schedule:member-schedule", ("member_a",), {"view": "month"}),
        # API lists
        ("api-v1:forum-list", public + staff, {"format": "online"}),
        ("api-v1:forum-list", public + staff, {"starts_from": day}),
        ("api-v1:forum-list", public + staff, {"starts_until": day}),
        ("api-v1:forum-list", public + staff, {"topic": topic}),
        ("api-v1:forum-list", public + staff, {"ordering": "starts_at"}),
        ("api-v1:forum-list", public + staff, {"ordering": "-title"}),
        ("api-v1:recap-list", public + staff, {"status": "published"}),
        ("api-v1:recap-list", public + staff, {"ordering": "-published_at"}),
        ("api-v1:recap-list", public + staff, {"ordering": "-updated_at"}),
        ("api-v1:speaker-list", public + staff, {"q": speaker.name}),
        ("api-v1:speaker-list", public + staff, {"organisation": speaker.organisation}),
        ("api-v1:speaker-list", public + staff, {"forum": forum.slug, "role": "panelist"}),
        ("api-v1:speaker-list", public + staff, {"ordering": "organisation"}),
        ("api-v1:forum-turn-list", public, {"theme": world.theme.pk}),
        ("api-v1:forum-turn-list", public, {"speaker": speaker.slug}),
        ("api-v1:quote-list", public + staff, {"forum": forum.slug}),
        ("api-v1:quote-list", public + staff, {"speaker": speaker.slug}),
        ("api-v1:quote-list", public + staff, {"state": "approved"}),
        ("api-v1:quote-list", public + staff, {"is_featured": "true"}),
        ("api-v1:quote-list", public + staff, {"q": "城市"}),
        ("api-v1:topic-list", public, {"ordering": "name"}),
        ("api-v1:deliverable-list", member, {"cohort": cohort.slug}),
        ("api-v1:deliverable-list", member, {"topic": topic}),
        ("api-v1:deliverable-list", member, {"due_from": day}),
        ("api-v1:deliverable-list", member, {"ordering": "-due_at"}),
        ("api-v1:deliverable-list", member, {"ordering": "title"}),
        ("api-v1:submission-list", member, {"deliverable": world.deliverable_a.pk}),
        ("api-v1:submission-list", member, {"cohort": cohort.slug}),
        ("api-v1:submission-list", member, {"topic": topic}),
        ("api-v1:submission-list", member, {"kind": "file"}),
        ("api-v1:review-list", member, {"submission": world.submission.pk}),
        ("api-v1:review-list", member, {"deliverable": world.deliverable_a.pk}),
        ("api-v1:review-list", member, {"status": "accepted"}),
        ("api-v1:review-list", member, {"ordering": "created_at"}),
        ("api-v1:cohort-list", public, {"ordering": "name"}),
        ("api-v1:member-list", public + member, {"cohort": cohort.slug}),
        ("api-v1:member-list", public + member, {"topic": topic}),
        ("api-v1:member-list", public + member, {"ordering": "name"}),
        ("api-v1:milestone-list", public, {"cohort": cohort.slug}),
        ("api-v1:milestone-list", public, {"topic": topic}),
        ("api-v1:milestone-list", public, {"kind": "deadline"}),
        ("api-v1:milestone-list", public, {"starts_from": day}),
        ("api-v1:milestone-list", public, {"ordering": "-starts_at"}),
        ("api-v1:milestone-list", public, {"ordering": "title"}),
        ("api-v1:notification-list", ("member_a",), {"is_read": "false"}),
        ("api-v1:reminder-opt-out-list", ("member_a",), {"ordering": "kind"}),
        ("api-v1:search", public + staff, {"q": "城市"}),
    ]
    return [(name, role, query) for name, roles, query in table for role in roles]


def requests_of(world, name):
    """(role, URL) of each request for the URL name: every role that may GET it, then each
    of its filters and orderings."""
    get_rule, _post_rule, kwargs = EXPECTED[name]
    url = reverse(name, kwargs=world.kwargs[kwargs])
    plain = [(role, url) for role, outcome in zip(ROLES, get_rule, strict=True) if outcome == OK]
    extra = [(role, f"{url}?{urlencode(query)}") for n, role, query in variants(world) if n == name]
    return plain + extra


READABLE = sorted(name for name, (get_rule, _post, _kwargs) in EXPECTED.items() if OK in get_rule)


# --- Capturing and explaining -----------------------------------------------------------------


class Selects:
    """An execute wrapper that keeps each SELECT with its parameters, as the view sent it."""

    def __init__(self):
        self.queries = []

    def __call__(self, execute, sql, params, many, context):
        if not many and sql.lstrip().upper().startswith(("SELECT", "WITH")):
            self.queries.append((sql, params))
        return execute(sql, params, many, context)


def selects_of(client, url):
    cache.clear()  # a page cached by an earlier request would send no queries
    selects = Selects()
    with connection.execute_wrapper(selects):
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code < 400, (url, response.status_code)
    return selects.queries


def explain(sql, params, *, sort=True, index_walks=True):
    """The plan of the query without Seq Scans if any plan can do without; with `sort=False`
    without Sorts too; with `index_walks=False` using indexes only through conditions.

    SET LOCAL inside a savepoint rolled back: the settings end with it.
    """
    settings = ["jit = off", "enable_seqscan = off"]
    if not sort:
        settings.append("enable_sort = off")
    if not index_walks:
        settings += ["enable_indexscan = off", "enable_indexonlyscan = off"]
    with transaction.atomic(), connection.cursor() as cursor:
        for setting in settings:
            cursor.execute(f"SET LOCAL {setting}")
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        (result,) = cursor.fetchone()
        transaction.set_rollback(True)
    if isinstance(result, str):
        result = json.loads(result)
    return result[0]["Plan"]


def partial_indexes():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexrelid::regclass::text FROM pg_index WHERE indpred IS NOT NULL")
        return {name for (name,) in cursor.fetchall()}


def walk(plan, *, limited=False):
    """Every node, with whether a LIMIT above it stops it early (nothing blocking between)."""
    if plan["Node Type"] == "Limit":
        limited = True
    elif plan["Node Type"] in BLOCKING and plan.get("Strategy") != "Sorted":
        limited = False
    yield plan, limited
    for position, child in enumerate(plan.get("Plans", [])):
        # The inner side of a nested loop is scanned again for every outer row.
        inner = plan["Node Type"] == "Nested Loop" and position == 1
        yield from walk(child, limited=limited and not inner)


def reads_whole_table(node, partial):
    """A scan of a large table that no index condition narrows."""
    if node["Node Type"] not in SCANS or node.get("Relation Name") not in LARGE_TABLES:
        return False
    if node["Node Type"] == "Seq Scan":
        return True
    if node["Node Type"] == "Bitmap Heap Scan":
        indexes = [n for n, _ in walk(node) if n["Node Type"] == "Bitmap Index Scan"]
    else:
        indexes = [node]
    return any("Index Cond" not in n and n["Index Name"] not in partial for n in indexes)


def is_low_selectivity(node):
    match = re.fullmatch(r"\(\((\w+)\)::text = '[^']*'::text\)", node.get("Filter", ""))
    return bool(match) and (node["Relation Name"], match.group(1)) in LOW_SELECTIVITY


def filters_unserved(node, partial):
    return reads_whole_table(node, partial) and "Filter" in node and not is_low_selectivity(node)


def sorts_whole_table(plan, partial):
    """The first Sort of rows of a large table over the whole of one: (sort, scan).

    A scan with a filter is left to the filter's checks: if an index serves the filter,
    the sort is of the rows it finds.
    """
    for node, _limited in walk(plan):
        if node["Node Type"] != "Sort":
            continue
        tables = {key.split(".")[0] for key in node["Sort Key"] if "." in key}
        for scan, _ in walk(node):
            if (
                reads_whole_table(scan, partial)
                and ("Filter" not in scan or is_low_selectivity(scan))
                and (tables & LARGE_TABLES if tables else scan["Relation Name"] in LARGE_TABLES)
            ):
                return node, scan
    return None


def describe(node):
    where = node.get("Filter", "no filter")
    via = f" through {node['Index Name']}" if "Index Name" in node else ""
    return f"{node['Node Type']} of {node['Relation Name']}{via} ({where})"


def problems_of(sql, params, partial):
    """What the plan of the query reads without an index to serve it (see the docstring)."""
    plan = explain(sql, params)
    # An index walked in the page's order under a LIMIT stops at the page's last row.
    ordered = "ORDER BY" in sql
    found, walks = [], []
    for node, limited in walk(plan):
        if node["Node Type"] == "Seq Scan" and filters_unserved(node, partial):
            found.append(f"no index serves the filter: {describe(node)}")
        elif filters_unserved(node, partial) and not (limited and ordered):
            walks.append(node)
    if walks:
        # Did the planner walk a whole index because it had to, or because a few rows are
        # cheaper to walk than to look up? Without walks it has to use conditions.
        conditions_only = explain(sql, params, index_walks=False)
        unserved = {
            node["Relation Name"]
            for node, _limited in walk(conditions_only)
            if filters_unserved(node, partial)
        }
        found += [
            f"the index only stands in for a Seq Scan: {describe(node)}"
            for node in walks
            if node["Relation Name"] in unserved
        ]
    if plan["Node Type"] == "Limit" and sorts_whole_table(plan, partial):
        unsorted = sorts_whole_table(explain(sql, params, sort=False), partial)
        if unsorted:
            sort, scan = unsorted
            keys = ", ".join(sort["Sort Key"])
            found.append(f"no index gives the order ({keys}): sorts all of {describe(scan)}")
    return found


# --- The tests --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", READABLE)
def test_every_query_of_the_url_is_served_by_indexes(world, name):
    partial = partial_indexes()
    shapes = {text: reason for url_name, text, reason in SHAPES if url_name == name}
    seen, problems, known = set(), [], set()

    for role, url in requests_of(world, name):
        client = client_for(world, role)
        for sql, params in selects_of(client, url):
            if (sql, repr(params)) in seen:
                continue
            seen.add((sql, repr(params)))
            for problem in problems_of(sql, params, partial):
                shape = next((text for text in shapes if text in problem), None)
                if shape:
                    known.add(shape)
                else:
                    problems.append(f"{role} {url}: {problem}\n    {sql}")

    assert problems == [], "\n\n".join(problems)
    assert sorted(set(shapes) - known) == [], "SHAPES that no longer occur: drop them"


def test_every_variant_and_shape_names_a_readable_url(world):
    names = {name for name, _role, _query in variants(world)} | {name for name, *_ in SHAPES}

    assert sorted(names - set(READABLE)) == []
