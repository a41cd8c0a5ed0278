"""What every endpoint shares: one error format, bad input answered with a 4xx (never a
500), 404 for what the caller may not see, pagination limits, throttling, ETag and 304."""

import base64
import json

import pytest
from django.test import RequestFactory
from django.urls import reverse
from rest_framework.test import APIClient

from tests.api.conftest import api_client, published_forum, token_for
from tests.factories import QuoteFactory, UserFactory
from wecity import api_errors

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def error(status, code, message, fields=None):
    return {"error": {"status": status, "code": code, "message": message, "fields": fields or {}}}


PAGE_SIZE_ERROR = "A whole number from 1 to 100 is needed."
CHOICE_ERROR = "Select a valid choice."
ORDERING_ERROR = "Order by one of: starts_at, title (a leading “-” reverses)."


def post_json(client, url, body):
    return client.post(url, body, content_type="application/json", **EN)


# --- Bad input ----------------------------------------------------------------------------


def test_malformed_json_is_a_400_parse_error(programme):
    client = api_client(programme.users["member_a"])

    response = post_json(client, reverse("api-v1:reminder-opt-out-list"), '{"kind": ')

    assert (response.status_code, response.json()["error"]["code"]) == (400, "parse_error")


def test_wrong_types_are_named_by_field(programme):
    client = api_client(programme.users["member_a"])

    response = post_json(
        client, reverse("api-v1:reminder-opt-out-list"), {"member": "abc", "kind": 5}
    )

    assert (response.status_code, response.json()) == (
        400,
        error(
            400,
            "invalid",
            "The request is not valid: see the errors of its fields.",
            {
                "member": ["Incorrect type. Expected pk value, received str."],
                "kind": ['"5" is not a valid choice.'],
            },
        ),
    )


def test_unknown_fields_are_refused_with_the_others_errors(programme):
    client = api_client(programme.users["member_a"])

    response = post_json(
        client,
        reverse("api-v1:reminder-opt-out-list"),
        {"kind": "forum", "colour": "red", "id": 7},
    )

    assert response.json()["error"]["fields"] == {
        "member": ["This field is required."],
        "colour": ["This field is not known here."],
        "id": ["This field is not known here."],
    }


def test_a_list_instead_of_an_object_is_a_400(programme):
    client = api_client(programme.users["member_a"])

    response = post_json(client, reverse("api-v1:reminder-opt-out-list"), [1, 2])

    assert response.json() == error(
        400, "invalid", "Invalid data. Expected a dictionary, but got list."
    )


def test_an_unexpected_body_on_an_action_is_refused(programme):
    client = api_client(programme.users["admin"])
    url = reverse("api-v1:quote-feature", kwargs={"pk": programme.approved.pk})

    response = post_json(client, url, {"position": 1})

    assert (response.status_code, response.json()["error"]["fields"]) == (
        400,
        {"position": ["This field is not known here."]},
    )


def test_an_unsupported_media_type_is_a_415(programme):
    client = api_client(programme.users["member_a"])

    response = client.post(
        reverse("api-v1:reminder-opt-out-list"), "kind=forum", content_type="text/plain", **EN
    )

    assert (response.status_code, response.json()["error"]["code"]) == (
        415,
        "unsupported_media_type",
    )


@pytest.mark.parametrize(
    ("query", "status", "fields"),
    [
        ("page_size=101", 400, {"page_size": [PAGE_SIZE_ERROR]}),
        ("page_size=0", 400, {"page_size": [PAGE_SIZE_ERROR]}),
        ("page_size=ten", 400, {"page_size": [PAGE_SIZE_ERROR]}),
        ("page=0", 400, {"page": ["A whole number of at least 1 is needed."]}),
        ("page=last", 400, {"page": ["A whole number of at least 1 is needed."]}),
        ("page=99", 404, {}),
        (
            "format=zoom",
            400,
            {"format": [f"{CHOICE_ERROR} zoom is not one of the available choices."]},
        ),
        ("format=", 400, {"format": ["Give a value, or leave the parameter out."]}),
        ("starts_from=tomorrow", 400, {"starts_from": ["Enter a valid date."]}),
        ("starts_from=", 400, {"starts_from": ["Give a value, or leave the parameter out."]}),
        (
            "topic=no-such",
            400,
            {"topic": [f"{CHOICE_ERROR} That choice is not one of the available choices."]},
        ),
        ("ordering=colour", 400, {"ordering": [ORDERING_ERROR]}),
        ("ordering=-title,id", 400, {"ordering": [ORDERING_ERROR]}),
        ("ordering=", 400, {"ordering": [ORDERING_ERROR]}),
        ("ordering=title,", 400, {"ordering": [ORDERING_ERROR]}),
    ],
)
def test_bad_list_parameters_are_refused_in_the_error_format(programme, query, status, fields):
    response = APIClient().get(f"{reverse('api-v1:forum-list')}?{query}", **EN)

    assert (response.status_code, response.json()["error"]["fields"]) == (status, fields)


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        base64.b64encode(b"p=abc").decode(),
        base64.b64encode(b"o=-1").decode(),
        base64.b64encode(b"").decode(),
        "w7w=",
    ],
)
def test_a_cursor_the_api_did_not_make_is_a_404(programme, cursor):
    response = APIClient().get(f"{reverse('api-v1:quote-list')}?cursor={cursor}", **EN)

    assert (response.status_code, response.json()) == (
        404,
        error(404, "not_found", "This cursor is not valid: follow the `next` or `previous` links."),
    )


def test_bad_filter_values_of_cursor_lists_are_refused(programme):
    response = APIClient().get(f"{reverse('api-v1:quote-list')}?is_featured=maybe", **EN)

    assert (response.status_code, list(response.json()["error"]["fields"])) == (
        400,
        ["is_featured"],
    )


@pytest.mark.parametrize("query", ["q=%E5%9F%8E%00", "topic=a%00b", "cursor=%00"])
def test_a_nul_character_in_the_query_is_a_400_not_a_database_error(programme, query):
    response = APIClient().get(f"{reverse('api-v1:forum-list')}?{query}", **EN)

    assert (response.status_code, sorted(response.json()["error"])) == (
        400,
        ["code", "fields", "message", "status"],
    )


@pytest.mark.parametrize(
    "path", ["/api/v1/forums/a%0Ab/", "/api/v1/forums/a.b/", "/api/v1/quotes/99999999999999999999/"]
)
def test_an_address_no_object_can_have_is_a_404(programme, path):
    response = APIClient().get(path, **EN)

    assert response.status_code == 404


# --- Cursor pagination ----------------------------------------------------------------------


def test_cursor_pages_follow_each_other_without_overlap(programme):
    forum = programme.forum
    speaker = programme.approved.speaker
    QuoteFactory.create_batch(4, forum=forum, speaker=speaker, approved=True)
    client = APIClient()

    first = client.get(f"{reverse('api-v1:quote-list')}?page_size=3").json()
    second = client.get(first["next"]).json()

    ids = [q["id"] for q in first["results"]] + [q["id"] for q in second["results"]]
    assert (len(ids), len(set(ids)), ids == sorted(ids, reverse=True), second["next"]) == (
        6,
        6,
        True,
        None,
    )


# --- Invisible objects --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "name", "attribute"),
    [
        ("member_b", "api-v1:submission-detail", "submission_a"),
        ("member_b", "api-v1:review-detail", "review_a"),
        ("anonymous", "api-v1:quote-detail", "proposed"),
    ],
)
def test_an_object_the_caller_may_not_see_answers_as_one_that_does_not_exist(
    programme, role, name, attribute
):
    client = api_client(programme.users[role])

    hidden = client.get(reverse(name, kwargs={"pk": getattr(programme, attribute).pk}), **EN)
    missing = client.get(reverse(name, kwargs={"pk": 987654}), **EN)

    assert (hidden.status_code, hidden.json()) == (missing.status_code, missing.json())
    assert hidden.json() == error(404, "not_found", "Not found.")


def test_a_draft_forum_and_its_transcript_are_not_found_by_the_public(programme):
    client = APIClient()

    forum = client.get(reverse("api-v1:forum-detail", kwargs={"slug": programme.draft.slug}))
    turns = client.get(
        reverse("api-v1:forum-turn-list", kwargs={"forum_slug": programme.draft.slug})
    )

    assert (forum.status_code, turns.status_code) == (404, 404)


# --- Methods, and errors outside the views ------------------------------------------------


def test_a_method_the_endpoint_lacks_is_a_405_for_everyone(programme):
    response = APIClient().delete(reverse("api-v1:forum-list"), **EN)

    assert (response.status_code, response["Allow"], response.json()) == (
        405,
        "GET, HEAD, OPTIONS",
        error(405, "method_not_allowed", 'Method "DELETE" not allowed.'),
    )


def test_an_unknown_api_address_is_a_404_in_the_error_format(db):
    response = APIClient().get("/api/v1/no-such-resource/", **EN)

    assert (response.status_code, response.json()) == (
        404,
        error(404, "not_found", "There is nothing at this address."),
    )


def test_an_unknown_page_address_is_still_the_404_page(db):
    response = APIClient().get("/no-such-page/", **EN)

    assert (response.status_code, response["Content-Type"]) == (404, "text/html; charset=utf-8")


@pytest.mark.parametrize(
    ("handler", "arguments", "status", "code"),
    [
        (api_errors.bad_request, (Exception(),), 400, "bad_request"),
        (api_errors.permission_denied, (Exception(),), 403, "permission_denied"),
        (api_errors.server_error, (), 500, "server_error"),
    ],
)
def test_errors_outside_the_views_answer_in_the_error_format_under_api(
    db, handler, arguments, status, code
):
    api = handler(RequestFactory().get("/api/v1/forums/"), *arguments)
    page = handler(RequestFactory().get("/forums/"), *arguments)

    assert (
        api.status_code,
        json.loads(api.content)["error"]["code"],
        page.status_code,
        page["Content-Type"],
    ) == (status, code, status, "text/html; charset=utf-8")


def test_a_crash_in_an_api_view_answers_500_in_the_error_format(programme, monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("forums.api.search.count_matches", crash)
    client = APIClient(raise_request_exception=False)

    response = client.get(f"{reverse('api-v1:search')}?q=城市", **EN)

    assert (response.status_code, response.json()["error"]["code"]) == (500, "server_error")


# --- Throttling ---------------------------------------------------------------------------


def test_anonymous_requests_past_the_rate_get_429_with_retry_after(programme, settings):
    settings.API_THROTTLE_ANON_RATE = "2/minute"
    client = APIClient()
    url = reverse("api-v1:topic-list")

    statuses = [client.get(url, **EN).status_code for _ in range(3)]
    response = client.get(url, **EN)

    assert (statuses, response["Retry-After"], response.json()) == (
        [200, 200, 429],
        "60",
        error(429, "throttled", "Request was throttled. Expected available in 60 seconds."),
    )


def test_a_token_user_has_the_user_rate_of_their_own(programme, settings):
    settings.API_THROTTLE_ANON_RATE = "1/minute"
    settings.API_THROTTLE_USER_RATE = "3/minute"
    header = f"Token {token_for(programme.users['member_a'])}"
    client = APIClient(HTTP_AUTHORIZATION=header)
    url = reverse("api-v1:topic-list")

    statuses = [client.get(url).status_code for _ in range(4)]
    anonymous = APIClient().get(url).status_code

    assert (statuses, anonymous) == ([200, 200, 200, 429], 200)


# --- Conditional GET ----------------------------------------------------------------------


def test_a_read_answers_304_to_its_etag_until_the_data_changes(programme):
    client = APIClient()
    url = reverse("api-v1:forum-list")
    first = client.get(url)

    unchanged = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    published_forum(slug="second-forum", title="第二期论坛")
    changed = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])

    assert (
        first.status_code,
        first["ETag"].startswith('"'),
        unchanged.status_code,
        unchanged.content,
        unchanged["ETag"],
        changed.status_code,
        changed["ETag"] != first["ETag"],
        changed.json()["count"],
    ) == (200, True, 304, b"", first["ETag"], 200, True, 2)


def test_a_read_answers_304_to_its_last_modified_until_the_data_changes(programme):
    client = APIClient()
    url = reverse("api-v1:quote-detail", kwargs={"pk": programme.approved.pk})
    first = client.get(url)

    unchanged = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    programme.approved.text = "新的说法。"
    programme.approved.save()
    changed = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])

    assert (unchanged.status_code, changed.status_code, changed.json()["text"]) == (
        304,
        200,
        "新的说法。",
    )


def test_validators_are_per_user_and_private(programme):
    url = reverse("api-v1:submission-list")
    member_a = api_client(programme.users["member_a"]).get(url)

    member_b = api_client(programme.users["member_b"]).get(url, HTTP_IF_NONE_MATCH=member_a["ETag"])

    assert (member_b.status_code, member_a["Cache-Control"], member_a["Vary"]) == (
        200,
        "private, no-cache",
        "Authorization, Accept-Language, Cookie",
    )


def test_writes_carry_no_validators(programme):
    client = api_client(programme.users["member_a"])

    response = post_json(
        client,
        reverse("api-v1:reminder-opt-out-list"),
        {"member": programme.member_a.pk, "kind": "forum"},
    )

    assert (response.status_code, response.has_header("ETag")) == (201, False)


def test_someone_elses_token_does_not_unlock_a_validator(programme):
    other = UserFactory()
    url = reverse("api-v1:notification-list")
    mine = APIClient(HTTP_AUTHORIZATION=f"Token {token_for(programme.users['member_a'])}").get(url)

    theirs = APIClient(HTTP_AUTHORIZATION=f"Token {token_for(other)}").get(
        url, HTTP_IF_NONE_MATCH=mine["ETag"]
    )

    assert (mine.json()["results"] != [], theirs.status_code, theirs.json()["results"]) == (
        True,
        200,
        [],
    )


def test_callers_without_credentials_are_counted_by_the_anonymous_rate_only(programme, settings):
    settings.API_THROTTLE_ANON_RATE = "3/minute"
    settings.API_THROTTLE_USER_RATE = "1/minute"
    client = APIClient()
    url = reverse("api-v1:topic-list")

    statuses = [client.get(url).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
