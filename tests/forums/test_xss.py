"""Markup written into any field of a recap never runs in a page or a feed."""

import datetime

import pytest
from django.urls import reverse

from forums import curation, services
from forums.models import Appearance

PAYLOADS = [
    "<script>alert('x')</script>",
    '"><img src=x onerror=alert(1)>',
    "</title><svg onload=alert(1)>",
    "javascript:alert(1)",
]
RAW = ["<script>alert('x')</script>", "<img src=x onerror", "<svg onload"]

pytestmark = pytest.mark.django_db


@pytest.fixture
def hostile_forum(organiser, admin_user):
    """A published recap with a payload in every field an organiser can write."""
    payload = " ".join(PAYLOADS)
    forum = services.create_forum(user=organiser, title=f"论坛 {payload}")
    services.update_forum(
        forum,
        user=organiser,
        expected_version=1,
        headline=f"标题 {payload}",
        lede=f"导语 {payload}",
        body=f"正文 {payload}\n\n[链接](javascript:alert(1))",
        location=f"地点 {payload}",
        starts_at=datetime.datetime(2026, 4, 28, 7, tzinfo=datetime.UTC),
    )
    speaker = services.create_speaker(
        name=f"嘉宾{PAYLOADS[0]}", organisation=f"单位 {payload}", title=f"职务 {payload}"
    )
    services.add_appearance(
        forum,
        user=organiser,
        expected_version=2,
        speaker=speaker,
        role=Appearance.Role.PANELIST,
        organisation=f"单位 {payload}",
        title=f"职务 {payload}",
    )
    theme = services.add_theme(forum, user=organiser, expected_version=3, title=f"议题 {payload}")
    services.add_turn(
        theme, user=organiser, expected_version=4, speaker=speaker, body=f"发言 {payload}"
    )
    quote = curation.propose_quote(forum, user=organiser, speaker=speaker, text=f"观点 {payload}")
    curation.approve_quote(quote, user=admin_user)
    curation.feature_quote(quote, user=admin_user)
    services.publish_recap(forum, user=organiser, expected_version=5)
    return forum


def assert_inert(content):
    assert [raw for raw in RAW if raw in content] == []
    assert 'href="javascript:' not in content


def test_payloads_stay_text_on_every_public_page(client, hostile_forum):
    speaker = hostile_forum.appearances.get().speaker
    urls = [
        "/",
        reverse("forums:forum-list"),
        hostile_forum.get_absolute_url(),
        reverse("forums:speaker-list"),
        speaker.get_absolute_url(),
    ]

    pages = {url: client.get(url).content.decode() for url in urls}

    for content in pages.values():
        assert_inert(content)
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in pages[urls[2]]


def test_payloads_stay_text_in_the_feeds_and_the_sitemap(client, hostile_forum):
    feeds = [
        client.get(reverse(name)).content.decode()
        for name in ("recaps-rss", "recaps-atom", "sitemap")
    ]

    for content in feeds:
        assert_inert(content)
    assert "标题" in feeds[0] and "标题" in feeds[1]


def test_payloads_stay_text_in_the_organisers_pages(client, organiser, hostile_forum):
    client.force_login(organiser)
    urls = [
        reverse("organise:forum-list"),
        reverse("organise:forum-edit", kwargs={"pk": hostile_forum.pk}),
        reverse("organise:forum-preview", kwargs={"pk": hostile_forum.pk}),
        reverse("organise:forum-history", kwargs={"pk": hostile_forum.pk}),
    ]

    for url in urls:
        assert_inert(client.get(url).content.decode())
