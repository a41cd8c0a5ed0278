"""What each resource shows and does, for whom: the pages' rules, read through the API."""

import hashlib

import pytest
from django.core import mail
from django.urls import reverse
from rest_framework.test import APIClient

from cohorts.models import Member, Notification, ReminderOptOut
from forums.models import CurationEntry
from forums.search import index_forum
from tests.api.conftest import api_client
from tests.cohorts.helpers import EXE, PDF, image, upload
from tests.factories import (
    MemberFactory,
    NotificationFactory,
    ReviewerFactory,
    ThemeFactory,
    TranscriptTurnFactory,
    UserFactory,
)
from topics.models import Submission

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def get(client, name, query="", **kwargs):
    response = client.get(reverse(name, kwargs=kwargs) + (f"?{query}" if query else ""), **EN)
    assert response.status_code == 200, response.content
    return response.json()


def results(data, key):
    return [item[key] for item in data["results"]]


# --- Forums, recaps, speakers, transcript -------------------------------------------------


def test_public_sees_published_forums_and_organisers_drafts_too(programme):
    public = get(APIClient(), "api-v1:forum-list")
    organiser = get(api_client(programme.users["organiser"]), "api-v1:forum-list", "ordering=title")

    assert (results(public, "slug"), results(organiser, "slug")) == (
        ["future-city"],
        ["future-city", "draft-forum"],
    )


def test_forum_detail_has_its_themes_speakers_topics_and_transcript_link(programme):
    programme.forum.released_topics.add(programme.world.topic_a)

    forum = get(APIClient(), "api-v1:forum-detail", slug="future-city")

    assert (
        forum["themes"],
        forum["appearances"],
        forum["released_topics"],
        forum["transcript"],
        forum["recap"]["status"],
        forum["url"],
    ) == (
        [{"id": programme.forum.themes.get().pk, "title": "城市与未来", "position": 1}],
        [
            {
                "speaker": {"slug": "future-city-wang", "name": "王城"},
                "role": "panelist",
                "organisation": "腾讯云",
                "title": "智慧城市总经理",
                "is_cohort_representative": False,
            }
        ],
        ["digital-government"],
        "http://testserver/api/v1/forums/future-city/turns/",
        "published",
        "http://testserver/forums/future-city/",
    )


def test_transcript_lists_the_turns_theme_by_theme(programme):
    forum = programme.forum
    first = forum.themes.get()
    speaker = first.turns.get().speaker
    second = ThemeFactory(forum=forum, title="数据与价值", position=2)
    TranscriptTurnFactory(theme=second, speaker=speaker, position=1, body="第二议题")
    TranscriptTurnFactory(theme=first, speaker=speaker, position=2, body="第一议题，第二段")
    first.position, second.position = 3, 1  # the organisers moved 数据与价值 first
    first.save()
    second.save()

    turns = get(APIClient(), "api-v1:forum-turn-list", "page_size=2", forum_slug=forum.slug)
    rest = APIClient().get(turns["next"]).json()

    bodies = [turn["body"][:8] for turn in turns["results"] + rest["results"]]
    assert bodies == ["第二议题", "城市是一个复杂的", "第一议题，第二段"]


def test_recap_shows_sanitised_html_and_the_highlights_in_order(programme):
    recap = programme.forum.recap
    recap.body = "## 城市与未来\n\n<script>alert(1)</script>**数据**"
    recap.save()

    data = get(APIClient(), "api-v1:recap-detail", forum_slug="future-city")

    assert (data["body_html"], data["highlights"]) == (
        "<h2>城市与未来</h2>\n<p>&lt;script&gt;alert(1)&lt;/script&gt;<strong>数据</strong></p>\n",
        [
            {
                "id": programme.featured.pk,
                "text": programme.featured.text,
                "speaker": {"slug": "future-city-wang", "name": "王城"},
                "organisation": "腾讯云",
                "title": "智慧城市总经理",
            }
        ],
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=腾讯", ["future-city-wang"]),
        ("q=王", ["future-city-wang"]),
        ("q=nobody", []),
        ("forum=future-city&role=panelist", ["future-city-wang"]),
        ("forum=future-city&role=host", []),
    ],
)
def test_speakers_are_searched_and_filtered_as_in_the_directory(programme, query, expected):
    data = get(APIClient(), "api-v1:speaker-list", query)

    assert results(data, "slug") == expected


def test_a_draft_forum_cannot_be_named_in_the_speaker_filter_by_the_public(programme):
    response = APIClient().get(f"{reverse('api-v1:speaker-list')}?forum=draft-forum", **EN)

    assert (response.status_code, list(response.json()["error"]["fields"])) == (400, ["forum"])


# --- Quotes and curation ------------------------------------------------------------------


def test_public_sees_approved_quotes_and_admins_every_state(programme):
    public = get(APIClient(), "api-v1:quote-list")
    admin = get(api_client(programme.users["admin"]), "api-v1:quote-list")

    assert (results(public, "state"), results(admin, "state")) == (
        ["approved", "approved"],
        ["proposed", "approved", "approved"],
    )


def test_quotes_are_searched_by_their_text(programme):
    programme.approved.text = "城市要为市民服务"
    programme.approved.save()

    data = get(APIClient(), "api-v1:quote-list", "q=市民")

    assert results(data, "id") == [programme.approved.pk]


def test_admin_approves_a_quote_through_curation_with_its_audit_entry(programme):
    client = api_client(programme.users["admin"])
    url = reverse("api-v1:quote-approve", kwargs={"pk": programme.proposed.pk})

    response = client.post(url, {"text": "改过的说法"}, format="json")

    entries = CurationEntry.objects.filter(quote=programme.proposed).order_by("id")
    assert (
        response.status_code,
        response.json()["state"],
        response.json()["text"],
        [entry.action for entry in entries],
    ) == (200, "approved", "改过的说法", ["edit", "approve"])


def test_organiser_may_not_approve_and_nothing_changes(programme):
    client = api_client(programme.users["organiser"])
    url = reverse("api-v1:quote-approve", kwargs={"pk": programme.proposed.pk})

    response = client.post(url, **EN)

    programme.proposed.refresh_from_db()
    assert (
        response.status_code,
        response.json()["error"]["message"],
        programme.proposed.state,
    ) == (
        403,
        "Only admins curate quotes.",
        "proposed",
    )


def test_reject_needs_a_reason(programme):
    client = api_client(programme.users["admin"])
    url = reverse("api-v1:quote-reject", kwargs={"pk": programme.approved.pk})

    blank = client.post(url, {"reason": "  "}, format="json", **EN)
    rejected = client.post(url, {"reason": "与议题无关。"}, format="json", **EN)

    assert (
        blank.json()["error"]["fields"],
        rejected.json()["state"],
        rejected.json()["rejection_reason"],
    ) == ({"reason": ["This field may not be blank."]}, "rejected", "与议题无关。")


def test_admin_features_and_unfeatures_a_quote(programme):
    client = api_client(programme.users["admin"])
    pk = programme.approved.pk

    featured = client.post(reverse("api-v1:quote-feature", kwargs={"pk": pk})).json()
    unfeatured = client.post(reverse("api-v1:quote-unfeature", kwargs={"pk": pk})).json()

    assert (
        featured["is_featured"],
        featured["highlight_position"],
        unfeatured["is_featured"],
    ) == (True, 2, False)


def test_a_curation_refused_by_its_state_is_a_400_with_the_services_words(programme):
    client = api_client(programme.users["admin"])
    url = reverse("api-v1:quote-feature", kwargs={"pk": programme.proposed.pk})

    response = client.post(url, **EN)

    assert response.json()["error"] == {
        "status": 400,
        "code": "invalid",
        "message": "Only an approved quote can be featured.",
        "fields": {},
    }


# --- Search -------------------------------------------------------------------------------


def test_search_finds_chinese_words_in_what_the_caller_may_see(programme):
    index_forum(programme.forum)
    index_forum(programme.draft)

    public = get(APIClient(), "api-v1:search", "q=复杂系统")
    quotes = get(APIClient(), "api-v1:search", "q=数据&kind=quote")

    assert (
        [(r["kind"], r["title"], r["context"]) for r in public["results"]],
        public["counts"],
        quotes["count"],
        {r["kind"] for r in quotes["results"]},
    ) == ([("turn", "王城", "WeCity 未来城市圆桌论坛")], {"turn": 1}, 2, {"quote"})


def test_search_with_an_unknown_kind_is_a_400(programme):
    response = APIClient().get(f"{reverse('api-v1:search')}?q=城市&kind=poem", **EN)

    assert list(response.json()["error"]["fields"]) == ["kind"]


# --- Deliverables, versions, reviews ------------------------------------------------------


def hand_in(client, deliverable, **fields):
    return client.post(
        reverse("api-v1:submission-list"),
        {"deliverable": deliverable.pk, **fields},
        format="multipart",
        **EN,
    )


def test_member_hands_in_a_file_by_multipart_upload(programme, django_capture_on_commit_callbacks):
    client = api_client(programme.users["member_a"])

    with django_capture_on_commit_callbacks(execute=True):
        response = hand_in(
            client,
            programme.world.deliverable_a,
            kind="file",
            file=upload("方案.pdf", PDF),
            comment="第二版",
        )

    submission = Submission.objects.get(pk=response.json()["id"])
    with submission.file.open("rb") as stored:
        content = stored.read()
    data = response.json()
    assert (
        response.status_code,
        response["Location"],
        data["version"],
        data["file_name"],
        data["file_size"],
        data["checksum"],
        data["content_type"],
        data["file"],
        content,
        len(mail.outbox),
    ) == (
        201,
        f"http://testserver/api/v1/submissions/{submission.pk}/",
        2,
        "方案.pdf",
        len(PDF),
        hashlib.sha256(PDF).hexdigest(),
        "application/pdf",
        f"http://testserver/programme/submissions/{submission.pk}/file/",
        PDF,
        1,
    )


@pytest.mark.parametrize(
    ("name", "data", "error"),
    [
        (
            "方案.pdf",
            EXE,
            "“方案.pdf” is not a PDF document: its content is application/x-msdownload.",
        ),
        ("方案.pdf", image("PNG"), "“方案.pdf” is not a PDF document: its content is image/png."),
        (
            "方案.exe",
            EXE,
            "Files like “方案.exe” are not accepted. Hand in one of: .pdf, .docx, "
            ".pptx, .xlsx, .png, .jpg, .zip, .jpeg.",
        ),
    ],
)
def test_a_renamed_file_is_refused_with_the_pages_words_and_nothing_is_kept(
    programme, private_root, name, data, error
):
    client = api_client(programme.users["member_a"])

    response = hand_in(client, programme.world.deliverable_a, kind="file", file=upload(name, data))

    stored = [path for path in private_root.rglob("*") if path.is_file()]
    assert (
        response.status_code,
        response.json()["error"]["fields"],
        Submission.objects.filter(deliverable=programme.world.deliverable_a).count(),
        stored,
    ) == (400, {"file": [error]}, 1, [])


def test_member_hands_in_a_link_as_json(programme):
    client = api_client(programme.users["member_a"])

    response = client.post(
        reverse("api-v1:submission-list"),
        {
            "deliverable": programme.world.deliverable_a.pk,
            "kind": "link",
            "link": "example.com/方案",
        },
        format="json",
    )

    assert (response.status_code, response.json()["link"], response.json()["kind"]) == (
        201,
        "https://example.com/方案",
        "link",
    )


def test_a_hand_in_without_its_content_says_which_field(programme):
    client = api_client(programme.users["member_a"])

    response = hand_in(client, programme.world.deliverable_a, kind="text")

    assert response.json()["error"]["fields"] == {"text": ["Write the text to hand in."]}


def test_members_see_their_own_groups_versions_and_reviewers_theirs(programme):
    reviewer = UserFactory()
    ReviewerFactory(cohort=programme.world.cohort, topic=programme.world.topic_b, user=reviewer)

    member_a = get(api_client(programme.users["member_a"]), "api-v1:submission-list")
    member_b = get(api_client(programme.users["member_b"]), "api-v1:submission-list")
    reviewing = get(api_client(reviewer), "api-v1:submission-list")

    assert (results(member_a, "id"), results(member_b, "id"), results(reviewing, "id")) == (
        [programme.submission_a.pk],
        [programme.submission_b.pk],
        [programme.submission_b.pk],
    )


def test_reviews_are_shown_to_the_group_with_the_reviewer(programme):
    data = get(api_client(programme.users["member_a"]), "api-v1:review-list")

    assert data["results"] == [
        {
            "id": programme.review_a.pk,
            "submission": programme.submission_a.pk,
            "deliverable": programme.world.deliverable_a.pk,
            "status": "accepted",
            "feedback": "思路清晰，数据来源可靠。",
            "reviewer": str(programme.users["organiser"]),
            "created_at": data["results"][0]["created_at"],
        }
    ]


# --- Cohorts and members ------------------------------------------------------------------


def listed_member(programme, **flags):
    return MemberFactory(
        cohort=programme.world.cohort,
        topic=programme.world.topic_b,
        name="公开学员",
        organisation="广州某公司",
        title="创始人",
        bio="做智慧医疗。",
        photo=upload("me.png", image("PNG")),
        is_public=True,
        **flags,
    )


def test_public_sees_listed_members_with_only_the_fields_they_made_public(programme):
    member = listed_member(programme, is_organisation_public=True, is_photo_public=True)

    data = get(APIClient(), "api-v1:member-list")

    assert data["results"] == [
        {
            "id": member.pk,
            "cohort": "cohort-1",
            "topic": "smart-healthcare",
            "name": "公开学员",
            "organisation": "广州某公司",
            "title": None,
            "bio": None,
            "photo": f"http://testserver/programme/members/{member.pk}/photo/",
            "is_demo": False,
        }
    ]


def test_the_group_sees_a_members_whole_profile(programme):
    member = listed_member(programme)  # in group B, nothing public but the name

    data = get(api_client(programme.users["member_b"]), "api-v1:member-detail", pk=member.pk)

    assert (data["organisation"], data["title"], data["bio"], data["photo"] is not None) == (
        "广州某公司",
        "创始人",
        "做智慧医疗。",
        True,
    )


def test_another_groups_member_sees_only_what_is_public(programme):
    member = listed_member(programme)

    data = get(api_client(programme.users["member_a"]), "api-v1:member-detail", pk=member.pk)

    assert (data["organisation"], data["title"], data["bio"], data["photo"]) == (
        None,
        None,
        None,
        None,
    )


def test_cohort_shows_its_places_taken(programme):
    data = get(APIClient(), "api-v1:cohort-detail", slug="cohort-1")

    assert (data["member_count"], data["capacity"], data["ends_on"]) == (2, 35, "2027-07-26")


def test_milestones_are_filtered_by_cohort_and_kind(programme):
    deadlines = get(APIClient(), "api-v1:milestone-list", "cohort=cohort-1&kind=deadline")
    workshops = get(APIClient(), "api-v1:milestone-list", "kind=workshop")

    assert (results(deadlines, "title"), workshops["results"]) == (["方案提交"], [])


# --- The signed-in user's own ---------------------------------------------------------------


def test_me_says_who_the_credentials_belong_to(programme):
    data = get(api_client(programme.users["member_a"]), "api-v1:me")

    assert data == {
        "id": programme.users["member_a"].pk,
        "email": "a@example.com",
        "name": "王数政",
        "language": "zh-hans",
        "roles": ["members"],
        "memberships": [
            {"id": programme.member_a.pk, "cohort": "cohort-1", "topic": "digital-government"}
        ],
    }


def test_member_marks_one_notification_read(programme):
    user = programme.users["member_a"]
    notification = user.notifications.get()
    other = NotificationFactory(recipient=user)
    client = api_client(user)

    response = client.post(reverse("api-v1:notification-read", kwargs={"pk": notification.pk}))
    unread = get(client, "api-v1:notification-list", "is_read=false")

    assert (response.json()["is_read"], results(unread, "id")) == (True, [other.pk])


def test_mark_read_marks_only_the_users_own_notifications(programme):
    foreign = programme.users["member_b"].notifications.get()
    client = api_client(programme.users["member_a"])

    response = client.post(
        reverse("api-v1:notification-read-all"), {"ids": [foreign.pk]}, format="json"
    )
    everything = client.post(reverse("api-v1:notification-read-all"))

    assert (
        response.json(),
        everything.json(),
        Notification.objects.filter(read_at__isnull=True).count(),
    ) == ({"marked": 0}, {"marked": 1}, 1)


def test_member_opts_out_of_a_kind_of_reminder_and_back_in(programme):
    client = api_client(programme.users["member_a"])
    member = programme.member_a

    created = client.post(
        reverse("api-v1:reminder-opt-out-list"),
        {"member": member.pk, "kind": "deadline"},
        format="json",
    )
    again = client.post(
        reverse("api-v1:reminder-opt-out-list"),
        {"member": member.pk, "kind": "deadline"},
        format="json",
        **EN,
    )
    deleted = client.delete(
        reverse("api-v1:reminder-opt-out-detail", kwargs={"pk": created.json()["id"]})
    )

    assert (
        created.status_code,
        created.json()["cohort"],
        again.json()["error"]["message"],
        deleted.status_code,
        sorted(ReminderOptOut.objects.filter(member=member).values_list("kind", flat=True)),
    ) == (201, "cohort-1", "The fields member, kind must make a unique set.", 204, ["workshop"])


def test_a_member_cannot_opt_out_for_someone_elses_membership(programme):
    client = api_client(programme.users["member_a"])

    response = client.post(
        reverse("api-v1:reminder-opt-out-list"),
        {"member": programme.world.member_b.pk, "kind": "deadline"},
        format="json",
    )

    assert (list(response.json()["error"]["fields"]), ReminderOptOut.objects.count()) == (
        ["member"],
        1,
    )


def test_a_removed_membership_has_no_preferences_to_change(programme):
    Member.objects.filter(pk=programme.member_a.pk).update(removed_at="2026-12-01T00:00:00Z")
    client = api_client(programme.users["member_a"])

    data = get(client, "api-v1:reminder-opt-out-list")

    assert data["results"] == []


# --- The schema and its documentation pages -------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content_type", "text"),
    [
        ("api-schema", "application/vnd.oai.openapi; charset=utf-8", "openapi: 3.0.3"),
        (
            "api-docs",
            "text/html; charset=utf-8",
            "/static/drf_spectacular_sidecar/swagger-ui-dist/",
        ),
        ("api-redoc", "text/html; charset=utf-8", "/static/drf_spectacular_sidecar/redoc/"),
    ],
)
def test_schema_and_documentation_pages_are_served_from_the_portal(db, name, content_type, text):
    response = APIClient().get(reverse(name))

    assert (response.status_code, response["Content-Type"], text in response.text) == (
        200,
        content_type,
        True,
    )


def test_swagger_ui_script_is_served_as_a_file_for_a_strict_csp(db):
    page = APIClient().get(reverse("api-docs"))

    assert ("<script>" in page.text, "?script" in page.text) == (False, True)


def test_documentation_pages_alone_allow_the_inline_styles_their_viewers_need(db):
    docs = APIClient().get(reverse("api-docs"))
    api = APIClient().get(reverse("api-v1:topic-list"))

    assert (
        "style-src 'self' 'unsafe-inline'" in docs["Content-Security-Policy"],
        "'unsafe-inline'" in api["Content-Security-Policy"],
    ) == (True, False)
