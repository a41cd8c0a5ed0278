"""RSS and Atom feeds of the public recaps, read as a feed reader reads them."""

import datetime

import feedparser
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from forums.models import Recap
from tests.factories import RecapFactory

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
SITE_URL = "https://wecity.example.org"
FEEDS = ["recaps-rss", "recaps-atom"]
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE_URL


def read_feed(client, name):
    response = client.get(reverse(name))
    return response, feedparser.parse(response.content)


def entry_date(struct_time):
    return datetime.datetime(*struct_time[:6], tzinfo=UTC)


@pytest.mark.parametrize("name", FEEDS)
def test_feed_lists_public_recaps_newest_first(client, name):
    older = RecapFactory(
        published=True,
        headline="较早的回顾",
        published_at=datetime.datetime(2025, 1, 1, tzinfo=UTC),
    )
    newer = RecapFactory(
        published=True,
        headline="较新的回顾",
        published_at=datetime.datetime(2025, 1, 2, tzinfo=UTC),
    )
    # Public since its time passed, before the publishing task stamps published_at.
    due = RecapFactory(
        status=Recap.Status.SCHEDULED,
        headline="定时发布的回顾",
        publish_at=datetime.datetime(2025, 1, 3, tzinfo=UTC),
    )
    RecapFactory(headline="草稿")
    RecapFactory(scheduled=True, headline="明天发布")

    response, feed = read_feed(client, name)

    assert (response.status_code, feed.bozo) == (200, False)
    assert [
        (entry.title, entry.link, entry.id, entry_date(entry.published_parsed))
        for entry in feed.entries
    ] == [
        (
            recap.headline,
            f"{SITE_URL}/forums/{recap.forum.slug}/",
            f"{SITE_URL}/forums/{recap.forum.slug}/",
            date,
        )
        for recap, date in [
            (due, due.publish_at),
            (newer, newer.published_at),
            (older, older.published_at),
        ]
    ]


def test_atom_feed_gives_each_recap_its_author_summary_and_update_time(client):
    recap = RecapFactory(
        published=True,
        forum__lede="嘉宾们围绕城市与未来展开研讨。",
        published_at=datetime.datetime(2025, 1, 1, tzinfo=UTC),
    )

    _, feed = read_feed(client, "recaps-atom")

    entry = feed.entries[0]
    assert (
        entry.author,
        entry.summary,
        entry_date(entry.updated_parsed),
        feed.feed.link,
    ) == (
        "WeCity加速器",
        "嘉宾们围绕城市与未来展开研讨。",
        recap.updated_at.replace(microsecond=0),
        f"{SITE_URL}/forums/",
    )


@pytest.mark.parametrize(
    ("name", "title_type", "title"),
    [
        # RSS readers take titles as HTML: escaped, it shows the text and runs nothing.
        ("recaps-rss", "text/html", escape(HOSTILE)),
        # Atom titles are text, which no reader runs.
        ("recaps-atom", "text/plain", HOSTILE),
    ],
)
def test_feed_markup_in_headline_or_lede_never_becomes_a_script_element(
    client, name, title_type, title
):
    RecapFactory(published=True, headline=HOSTILE, forum__lede=f"{HOSTILE}开场致辞")

    response, feed = read_feed(client, name)

    entry = feed.entries[0]
    assert (
        entry.title_detail.type,
        entry.title,
        entry.summary_detail.type,
        entry.summary,
        "<script" in response.content.decode(),
    ) == (title_type, title, "text/html", f"{escape(HOSTILE)}开场致辞", False)


@pytest.mark.parametrize("name", FEEDS)
def test_feed_queries_do_not_grow_with_the_number_of_recaps(
    client, name, django_assert_max_num_queries
):
    RecapFactory.create_batch(2, published=True)
    with CaptureQueriesContext(connection) as small:
        client.get(reverse(name))
    RecapFactory.create_batch(20, published=True)

    with django_assert_max_num_queries(len(small.captured_queries)):
        _, feed = read_feed(client, name)

    assert (len(small.captured_queries) <= 2, len(feed.entries)) == (True, 20)


def test_pages_announce_both_feeds_in_their_head(client):
    response = client.get(reverse("home"))

    assert (
        '<link rel="alternate" type="application/rss+xml" href="/feeds/recaps.rss"'
        in response.text,
        '<link rel="alternate" type="application/atom+xml" href="/feeds/recaps.atom"'
        in response.text,
    ) == (True, True)
