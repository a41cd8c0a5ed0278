"""Markup typed into any field a person can write comes back as text on every page and feed.

Stored: organisers, admins and members write the payload through the portal's own forms
(the forum and its recap, themes, speakers, transcript, quotes, curation, cohorts,
invitations, the schedule, profiles, hand-ins, reviews, account deletion, API tokens, the
article import); then every page of the permission matrix is read as every role allowed to
read it, with the feeds, the sitemap, the calendars and the exports. Reflected: every page
is asked with the payload in its query string.
"""

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cohorts.models import Cohort, Invitation, Member, Milestone
from forums.models import Forum, Quote, Speaker
from tests.cohorts.helpers import PDF
from tests.security.test_permission_matrix import EXPECTED, OK, ROLES, ask, client_for
from topics.models import Review, Submission

pytestmark = pytest.mark.django_db

PAYLOAD = "\"'><script>xss(1)</script><img src=x onerror=xss(2)>"
RAW = ("<script>xss(", "<img src=x onerror", "<svg onload", 'href="javascript:')
# The payload as text: in HTML, in XML holding escaped HTML (feeds), in JSON.
ESCAPED = ("&lt;script&gt;xss(1)", "&amp;lt;script&amp;gt;xss(1)", "<script>xss(1)")
SEED = Path(__file__).resolve().parent.parent / "data" / "seed_article.txt"


def marked(text):
    return f"{text} {PAYLOAD}"


def raw_in(response):
    """The payload's markup found as markup in a response a browser would render."""
    content_type = response.get("Content-Type", "")
    if content_type.startswith(("application/json", "text/csv", "text/calendar")):
        # Data, not documents: never rendered as HTML (nosniff), so text is what it holds.
        assert response["X-Content-Type-Options"] == "nosniff"
        return []
    return [raw for raw in RAW if raw in response.body]


def version_of(forum):
    forum.recap.refresh_from_db()
    return forum.recap.version


def post(client, name, data, *, expect=302, files=None, **kwargs):
    response = client.post(reverse(name, kwargs=kwargs), {**data, **(files or {})})
    assert response.status_code == expect, (name, response.status_code)
    # What a form shows back (its errors, an import's report) keeps the payload as text too.
    response.body = response.content.decode("utf-8", "replace")
    assert raw_in(response) == [], name
    return response


def write_everything(world, clients):
    """The payload in every field an organiser, an admin or a member can write."""
    organiser, admin, member = clients["organiser"], clients["admin"], clients["member_a"]
    forum, theme = world.forum, world.theme

    # The organisers' recap editor, on the published forum of the world.
    post(
        organiser,
        "organise:forum-edit",
        {
            "title": marked("论坛"),
            "headline": marked("标题"),
            "starts_at": "2026-04-28T15:00",
            "format": "online",
            "location": marked("地点"),
            "lede": marked("导语"),
            "body": f"正文 {PAYLOAD}\n\n[链接](javascript:xss(3)) <svg onload=xss(4)>",
            "version": version_of(forum),
        },
        pk=forum.pk,
    )
    post(
        organiser,
        "organise:theme-add",
        {"title": marked("议题"), "version": version_of(forum)},
        pk=forum.pk,
    )
    post(
        organiser,
        "organise:appearance-add",
        {
            "new_name": marked("嘉宾"),
            "new_organisation": marked("单位"),
            "new_title": marked("职务"),
            "role": "panelist",
            "organisation": marked("当时单位"),
            "title": marked("当时职务"),
            "version": version_of(forum),
        },
        pk=forum.pk,
    )
    speaker = Speaker.objects.get(name=marked("嘉宾"))
    post(
        organiser,
        "organise:turn-add",
        {"speaker": speaker.pk, "body": marked("发言"), "version": version_of(forum)},
        pk=forum.pk,
        theme_pk=theme.pk,
    )
    post(organiser, "curate:propose", {"forum": forum.pk, "speaker": speaker.pk, "text": "观点"})
    proposal = Quote.objects.get(text="观点")
    post(organiser, "curate:edit", {"speaker": speaker.pk, "text": marked("观点")}, pk=proposal.pk)
    post(organiser, "organise:share-link-create", {"version": version_of(forum)}, pk=forum.pk)

    # The admins' curation: words polished on approval, a reason for a rejection.
    post(admin, "curate:approve", {"text": marked("精选观点")}, pk=proposal.pk)
    post(admin, "curate:feature", {}, pk=proposal.pk)
    post(admin, "curate:reject", {"reason": marked("理由")}, pk=world.proposed.pk)

    # The organisers' cohort pages: a new cohort, an invitation, a milestone, the import.
    post(
        organiser,
        "organise-cohorts:cohort-create",
        {
            "name": marked("第二期"),
            "starts_on": "2027-03-01",
            "length_months": 8,
            "capacity": 35,
            "time_zone": "Asia/Shanghai",
            "description": marked("简介"),
        },
    )
    post(
        organiser,
        "organise-cohorts:invite",
        {
            "name": marked("受邀人"),
            "email": "invitee@example.com",
            "organisation": marked("公司"),
            "topic": world.topic_a.pk,
            "language": "zh-hans",
        },
        slug=world.cohort.slug,
    )
    post(
        organiser,
        "organise-schedule:milestone-add",
        {
            "kind": "workshop",
            "title": marked("工作坊"),
            "topic": world.topic_a.pk,
            "starts_at": "2027-01-05T14:00",
            "location": marked("会议室"),
            "online_url": "https://meeting.example.com/?x=%22%3E%3Cscript%3Exss(1)%3C/script%3E",
            "description": marked("说明"),
        },
        slug=world.cohort.slug,
    )
    rows = [
        "name,email,organisation,topic",
        f'"{marked("导入")}",imported@example.com,"{marked("机构")}",{world.topic_a.name}',
        f'"{marked("另一位")}",other@example.com,单位,"{PAYLOAD}"',
    ]
    csv_file = SimpleUploadedFile("名单.csv", "\n".join(rows).replace("\"'", '""\'').encode())
    post(
        organiser,
        "organise-cohorts:import",
        {"language": "zh-hans"},
        files={"file": csv_file},
        expect=400,  # the second row's topic is the payload: the report names it, saves none
        slug=world.cohort.slug,
    )
    post(
        organiser,
        "organise:theme-rename",
        {"title": marked("改名议题"), "version": version_of(forum)},
        pk=forum.pk,
        theme_pk=theme.pk,
    )
    article = SEED.read_text(encoding="utf-8").replace(
        "如何加速智慧城市建设进程", marked("如何加速智慧城市建设进程"), 1
    )
    post(organiser, "organise:import", {"article": article, "save": "1"})

    # A member's profile, hand-ins of every kind, a deletion request, an API token.
    post(
        member,
        "programme:profile",
        {
            "name": marked("王数政"),
            "organisation": marked("公司"),
            "title": marked("职务"),
            "bio": marked("简介"),
            "is_public": "on",
            "is_organisation_public": "on",
            "is_title_public": "on",
            "is_bio_public": "on",
        },
        cohort=world.cohort.slug,
    )
    deliverable = {
        "cohort": world.cohort.slug,
        "topic": world.topic_a.slug,
        "pk": world.deliverable_a.pk,
    }
    post(
        member,
        "workspace:deliverable",
        {"kind": "text", "text": marked("方案"), "comment": marked("说明")},
        **deliverable,
    )
    post(
        member,
        "workspace:deliverable",
        {"kind": "link", "link": "https://example.com/<script>xss(1)</script>", "comment": ""},
        **deliverable,
    )
    post(
        member,
        "workspace:deliverable",
        {"kind": "file", "comment": marked("文件")},
        files={"file": SimpleUploadedFile(f"{PAYLOAD}.pdf", PDF)},
        **deliverable,
    )
    post(member, "programme:delete-account", {"reason": marked("原因"), "confirm": "on"})
    post(member, "accounts:api-tokens", {"name": marked("脚本")}, expect=200)

    # The organisers' answers: a review, a declined deletion (its note goes to the member).
    latest = Submission.objects.filter(member=world.member_a).latest("version")
    post(
        organiser,
        "workspace:review",
        {"status": "changes_requested", "feedback": marked("意见")},
        pk=latest.pk,
    )
    request = world.member_a.user.deletion_requests.get()
    post(organiser, "organise-cohorts:deletion-decline", {"note": marked("说明")}, pk=request.pk)


def test_write_everything_stores_the_payload_in_every_field(world):
    clients = {role: client_for(world, role) for role in ROLES}

    write_everything(world, clients)

    forum = Forum.objects.get(pk=world.forum.pk)
    member = Member.objects.get(pk=world.member_a.pk)
    assert all(
        PAYLOAD in value
        for value in [
            forum.title,
            forum.recap.headline,
            forum.recap.body,
            forum.lede,
            forum.location,
            forum.themes.last().title,
            Speaker.objects.get(name__contains=PAYLOAD).organisation,
            Quote.objects.get(state="approved", text__contains="精选观点").text,
            Quote.objects.get(pk=world.proposed.pk).rejection_reason,
            Cohort.objects.get(name__contains=PAYLOAD).description,
            Invitation.objects.get(email="invitee@example.com").name,
            Milestone.objects.get(title__contains=PAYLOAD).description,
            Forum.objects.get(title__contains="如何加速").title,
            member.name,
            member.bio,
            Submission.objects.get(kind="text", member=member).text,
            Review.objects.filter(submission__member=member).latest("id").feedback,
            member.user.deletion_requests.get().note,
            member.user.api_tokens.get(name__contains=PAYLOAD).name,
        ]
    )
    file_version = Submission.objects.get(kind="file", version=4)
    assert "<img src=x onerror=xss(2)>.pdf" in file_version.file_name


def readable_pages(world, *, written=True):
    """(role, URL) of every GET of the permission matrix that the role may open, and (once
    `write_everything` ran) the pages of what the payloads created."""
    pages = []
    for role in ROLES:
        for name, (get_rule, _post_rule, kwargs) in EXPECTED.items():
            if get_rule[ROLES.index(role)] == OK:
                pages.append((role, reverse(name, kwargs=world.kwargs[kwargs])))
    if not written:
        return pages
    new_cohort = Cohort.objects.get(name__contains=PAYLOAD)
    imported = Forum.objects.get(title__contains="如何加速")
    speaker = Speaker.objects.get(name__contains=PAYLOAD)
    extra = {
        "organiser": [
            reverse("organise-cohorts:cohort", kwargs={"slug": new_cohort.slug}),
            reverse("organise:forum-edit", kwargs={"pk": imported.pk}),
            reverse("organise:forum-preview", kwargs={"pk": imported.pk}),
            reverse("organise:forum-history", kwargs={"pk": world.forum.pk}) + "?page=2",
            reverse("organise-schedule:reminders", kwargs={"slug": world.cohort.slug}),
        ],
        "admin": [
            reverse("curate:queue") + "?state=",
            reverse("curate:quote", kwargs={"pk": world.featured.pk}),
            reverse("curate:highlights") + f"?forum={world.forum.pk}",
            reverse("curate:speaker-merge") + f"?keep={world.speaker.pk}&duplicate={speaker.pk}",
        ],
        "anonymous": [
            reverse("cohorts:cohort-detail", kwargs={"slug": new_cohort.slug}),
            speaker.get_absolute_url(),
            reverse("forums:search") + "?q=论坛",
        ],
    }
    return pages + [(role, url) for role, urls in extra.items() for url in urls]


def test_stored_payloads_stay_text_on_every_page_feed_and_export(world):
    clients = {role: client_for(world, role) for role in ROLES}
    write_everything(world, clients)
    member_a = world.member_a.user
    member_a.refresh_from_db()
    clients["member_a"] = client_for(world, "member_a")

    found, shown = {}, set()
    for role, url in readable_pages(world):
        response = ask(clients[role], "get", url, api=url.startswith("/api/"))
        assert response.status_code < 500, (role, url)
        raw = raw_in(response)
        if raw:
            found[(role, url)] = raw
        if any(form in response.body for form in ESCAPED):
            shown.add((role, url.split("?")[0]))

    assert found == {}
    # The payloads did reach the pages that show what was written (as text).
    must_show = {
        ("anonymous", reverse("forums:forum-detail", kwargs={"slug": world.forum.slug})),
        ("anonymous", reverse("recaps-rss")),
        ("anonymous", reverse("cohorts:cohort-detail", kwargs={"slug": world.cohort.slug})),
        ("member_a", reverse("workspace:deliverable", kwargs=world.kwargs["deliverable"])),
        ("member_a", reverse("programme:notifications")),
        ("member_a", reverse("accounts:api-tokens")),
        ("organiser", reverse("organise-cohorts:cohort", kwargs={"slug": world.cohort.slug})),
        ("organiser", reverse("organise-cohorts:deletion-requests")),
        ("admin", reverse("curate:log")),
    }
    assert must_show - shown == set()


def test_markdown_link_with_a_script_address_is_dropped(world, client):
    clients = {role: client_for(world, role) for role in ROLES}
    write_everything(world, clients)

    page = client.get(reverse("forums:forum-detail", kwargs={"slug": world.forum.slug}))

    links = re.findall(r'href="([^"]*)"', page.text)
    assert [link for link in links if "javascript" in link.lower()] == []
    assert "&lt;script&gt;xss(1)&lt;/script&gt;" in page.text


QUERY = dict.fromkeys(
    [
        "q",
        "kind",
        "page",
        "next",
        "forum",
        "state",
        "speaker",
        "organisation",
        "role",
        "topic",
        "status",
        "milestone",
        "keep",
        "duplicate",
        "ordering",
        "sort",
        "cohort",
        "action",
    ],
    PAYLOAD,
)


def test_reflected_payloads_in_the_query_string_stay_text(world):
    found = {}
    for role, url in readable_pages(world, written=False):
        client = client_for(world, role)
        response = client.get(url.split("?")[0], QUERY)
        if response.streaming:
            response.body = b"".join(response.streaming_content).decode("utf-8", "replace")
        else:
            response.body = response.content.decode("utf-8", "replace")
        assert response.status_code < 500, (role, url)
        raw = raw_in(response)
        if raw:
            found[(role, url)] = raw

    assert found == {}
