"""SQL written into search boxes, filters, ordering and page numbers is only ever a value.

Every page of the permission matrix is asked with each payload in each of its query
parameters, as the most trusted role that may open it: no answer may be a 500, and none
may list more rows than the same page without parameters. The search is compared with the
same words without the SQL around them (on PostgreSQL it builds a tsquery of its own).
"""

import json

import pytest
from django.urls import NoReverseMatch, resolve, reverse

from accounts.models import User
from forums.models import Forum
from tests.security.test_permission_matrix import EXPECTED, OK, ROLES, client_for

pytestmark = pytest.mark.django_db

PAYLOADS = [
    "' OR '1'='1",
    "1 OR 1=1",
    "1' OR '1'='1' --",
    "'; DROP TABLE forums_forum; --",
    '" OR ""="',
    "1) UNION SELECT email, password FROM accounts_user --",
    "%' OR 1=1 --",
    "'; SELECT pg_sleep(3); --",
    "数据' & !x | (y:*) <-> '\\",
    "-id; DELETE FROM accounts_user",
    "password",
    "user__password",
    "1\x00' OR 1=1",
]
# The core payloads first in every query parameter at once, on every page.
EVERY_PARAMETER = [
    "q",
    "kind",
    "page",
    "forum",
    "speaker",
    "state",
    "organisation",
    "role",
    "action",
    "actor",
    "since",
    "until",
    "status",
    "milestone",
    "topic",
    "cohort",
    "keep",
    "duplicate",
    "ordering",
    "search",
    "cursor",
    "page_size",
    "next",
]
# Then one parameter at a time, on the pages that filter, sort or page what they list (a
# filter refused for one value must not hide what another would do).
FILTERS = {
    "forums:search": ["q", "kind"],
    "forums:speaker-list": ["q", "organisation", "role", "forum", "page"],
    "forums:forum-list": ["page"],
    "cohorts:cohort-list": ["page"],
    "programme:notifications": ["page"],
    "organise:speaker-options": ["q"],
    "organise:forum-history": ["page"],
    "organise-cohorts:deletion-requests": ["page"],
    "organise-schedule:reminders": ["status", "kind", "milestone", "q", "page"],
    "curate:queue": ["forum", "speaker", "state", "page"],
    "curate:log": ["action", "actor", "forum", "speaker", "since", "until", "page"],
    "curate:highlights": ["forum"],
    "curate:propose": ["forum"],
    "curate:speaker-merge": ["keep", "duplicate"],
}
API_COMMON = ["ordering", "page", "cursor", "page_size"]
CORE_PAYLOADS = [PAYLOADS[0], PAYLOADS[3], PAYLOADS[5], PAYLOADS[8], PAYLOADS[11], PAYLOADS[12]]


def api_parameters(url):
    """The API list's own filters besides the common ones."""
    view = getattr(resolve(url).func, "cls", None)
    filterset = getattr(view, "filterset_class", None)
    return list(filterset.base_filters) if filterset else []


def row_count(response):
    """How many rows a list page or API list holds, or None for a page that lists none."""
    if response.get("Content-Type", "").startswith("application/json"):
        data = json.loads(response.content)
        if isinstance(data, dict) and "results" in data:
            return data.get("count", len(data["results"]))
        return None
    context = response.context or {}
    page = context.get("page_obj")
    if page:
        return page.paginator.count
    if "count" in context:
        return context["count"]
    return None


def trusted_role(rule):
    """The most trusted role that may GET the page."""
    for role in reversed(ROLES):
        if rule[ROLES.index(role)] == OK:
            return role
    return None


def list_pages(world):
    pages = []
    for name, (get_rule, _post_rule, kwargs) in sorted(EXPECTED.items()):
        role = trusted_role(get_rule)
        if role is not None:
            pages.append((name, role, reverse(name, kwargs=world.kwargs[kwargs])))
    return pages


def ask_with(client, url, query):
    response = client.get(url, query)
    if response.streaming:
        b"".join(response.streaming_content)
    return response


def problems_of(name, client, url, queries):
    """What went wrong: a 500, or more rows than the page lists without parameters."""
    most = row_count(ask_with(client, url, {}))
    problems = []
    for query in queries:
        response = ask_with(client, url, query)
        rows = row_count(response)
        if response.status_code >= 500:
            problems.append((name, query, response.status_code))
        elif most is not None and rows is not None and rows > most:
            problems.append((name, query, f"{rows} rows > {most}"))
    return problems


def test_sql_in_every_query_parameter_of_every_page_is_a_value(world):
    users, forums = User.objects.count(), Forum.objects.count()
    problems = []

    for name, role, url in list_pages(world):
        queries = [dict.fromkeys(EVERY_PARAMETER, payload) for payload in CORE_PAYLOADS]
        client = client_for(world, role, raise_request_exception=False)
        problems += problems_of(name, client, url, queries)

    assert problems == []
    assert (User.objects.count(), Forum.objects.count()) == (users, forums)


def filtering_pages(world):
    pages = []
    for name, role, url in list_pages(world):
        if name in FILTERS:
            pages.append((name, role, url, FILTERS[name]))
        elif url.startswith("/api/") and name.endswith(("-list", "search")):
            pages.append((name, role, url, [*API_COMMON, "q", *api_parameters(url)]))
    return pages


def test_every_filtering_page_is_tested_one_parameter_at_a_time(world):
    names = {name for name, _role, _url, _parameters in filtering_pages(world)}

    assert set(FILTERS) <= names
    assert {"api-v1:quote-list", "api-v1:submission-list", "api-v1:search"} <= names


def test_sql_in_each_filter_ordering_and_page_parameter_is_a_value(world):
    users, forums = User.objects.count(), Forum.objects.count()
    problems = []

    for name, role, url, parameters in filtering_pages(world):
        queries = [{parameter: payload} for parameter in parameters for payload in CORE_PAYLOADS]
        client = client_for(world, role, raise_request_exception=False)
        problems += problems_of(name, client, url, queries)

    assert problems == []
    assert (User.objects.count(), Forum.objects.count()) == (users, forums)


@pytest.mark.parametrize("payload", [p for p in PAYLOADS if "\x00" not in p])
def test_search_finds_what_the_same_words_without_sql_find(world, client, payload):
    words = "".join(char if char.isalnum() else " " for char in payload)

    with_sql = client.get(reverse("forums:search"), {"q": payload})
    plain = client.get(reverse("forums:search"), {"q": words})

    assert (with_sql.status_code, with_sql.context["count"]) == (200, plain.context["count"])


def address_with_nul(name, kwargs):
    """The URL with NUL in each of its parts that a string converter takes, one at a time."""
    for key, value in kwargs.items():
        try:
            yield reverse(name, kwargs={**kwargs, key: f"{value}\x00"})
        except NoReverseMatch:
            continue  # a converter that does not take NUL never lets it reach a view


def test_nul_anywhere_in_the_address_is_refused_rather_than_a_500(world):
    """PostgreSQL cannot even compare a string holding NUL: such an address is a bad request."""
    answers = set()

    for name, (get_rule, _post_rule, kwargs) in sorted(EXPECTED.items()):
        client = client_for(world, trusted_role(get_rule) or "admin", raise_request_exception=False)
        url = reverse(name, kwargs=world.kwargs[kwargs])
        for address in address_with_nul(name, world.kwargs[kwargs]):
            answers.add((name, client.get(address).status_code))
        answers.add((name, client.get(url, {"q": "\x00"}).status_code))

    assert sorted((name, status) for name, status in answers if status >= 500) == []
    assert {("forums:forum-detail", 400), ("organise:speaker-options", 400)} <= answers
