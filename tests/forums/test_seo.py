"""What search engines and link previews read: the recap page's head, and sitemap.xml."""

import datetime
import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from django.contrib.sites.models import Site
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from forums.models import Recap
from tests.factories import (
    AppearanceFactory,
    CohortFactory,
    ForumFactory,
    QuoteFactory,
    RecapFactory,
    SpeakerFactory,
    ThemeFactory,
    TopicFactory,
    TranscriptTurnFactory,
)

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
SITE_URL = "https://wecity.example.org"
HEADLINE = "如何加速智慧城市建设进程"
# The forum page's queries for an anonymous visitor, counted before the meta tags existed.
FORUM_PAGE_QUERIES = 6


class HeadReader(HTMLParser):
    """The page's <meta> values by name or property, canonical link and JSON-LD texts."""

    def __init__(self, html):
        super().__init__()
        self.meta, self.canonical, self.json_ld = {}, None, []
        self._in_json_ld = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and ("name" in attrs or "property" in attrs):
            self.meta[attrs.get("property") or attrs["name"]] = attrs["content"]
        elif tag == "link" and attrs.get("rel") == "canonical":
            self.canonical = attrs["href"]
        elif tag == "script" and attrs.get("type") == "application/ld+json":
            self._in_json_ld = True
            self.json_ld.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_json_ld = False

    def handle_data(self, data):
        if self._in_json_ld:
            self.json_ld[-1] += data


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE_URL


def public_forum(**recap_fields):
    fields = {
        "published": True,
        "headline": HEADLINE,
        "forum__slug": "city-roundtable",
        "forum__lede": "嘉宾们围绕城市与未来展开研讨。\n\n第二段不进入摘要。",
        **recap_fields,
    }
    return RecapFactory(**fields).forum


# --- The recap page's head ----------------------------------------------------------------


def test_recap_page_has_canonical_url_opengraph_and_twitter_card(client):
    forum = public_forum(published_at=datetime.datetime(2026, 11, 28, 2, 0, tzinfo=UTC))

    head = HeadReader(client.get(forum.get_absolute_url()).text)

    assert (head.canonical, head.meta) == (
        f"{SITE_URL}/forums/city-roundtable/",
        {
            "viewport": "width=device-width, initial-scale=1",
            "htmx-config": '{"includeIndicatorStyles": false, "allowEval": false}',
            "description": "嘉宾们围绕城市与未来展开研讨。",
            "og:type": "article",
            "og:title": HEADLINE,
            "og:description": "嘉宾们围绕城市与未来展开研讨。",
            "og:url": f"{SITE_URL}/forums/city-roundtable/",
            "og:site_name": "WeCity加速器",
            "og:locale": "zh_CN",
            "article:published_time": "2026-11-28T10:00:00+08:00",
            "article:modified_time": timezone.localtime(forum.recap.updated_at)
            .replace(microsecond=0)
            .isoformat(),
            "twitter:card": "summary",
        },
    )


def test_recap_page_json_ld_is_an_article_about_its_speakers(client):
    forum = public_forum(published_at=datetime.datetime(2026, 11, 28, 2, 0, tzinfo=UTC))
    speaker = SpeakerFactory(slug="wang-hua", name="王华")
    AppearanceFactory(
        forum=forum, speaker=speaker, organisation="腾讯云", title="副总裁", role="host"
    )
    # The same speaker in a second role is still one person.
    AppearanceFactory(forum=forum, speaker=speaker, organisation="腾讯云", title="副总裁")

    head = HeadReader(client.get(forum.get_absolute_url()).text)

    organisation = {"@type": "Organization", "name": "WeCity加速器"}
    assert [json.loads(text) for text in head.json_ld] == [
        {
            "@context": "https://schema.org",
            "@type": "Article",
            "headline": HEADLINE,
            "description": "嘉宾们围绕城市与未来展开研讨。",
            "mainEntityOfPage": f"{SITE_URL}/forums/city-roundtable/",
            "inLanguage": "zh-Hans",
            "author": organisation,
            "publisher": organisation,
            "datePublished": "2026-11-28T10:00:00+08:00",
            "dateModified": timezone.localtime(forum.recap.updated_at)
            .replace(microsecond=0)
            .isoformat(),
            "about": [
                {
                    "@type": "Person",
                    "name": "王华",
                    "url": f"{SITE_URL}/speakers/wang-hua/",
                    "jobTitle": "副总裁",
                    "affiliation": {"@type": "Organization", "name": "腾讯云"},
                }
            ],
        }
    ]


def test_recap_page_with_a_cover_image_shares_it_in_a_large_card(client):
    forum = public_forum()
    forum.cover_image.name = "forums/cover.jpg"
    forum.save()

    head = HeadReader(client.get(forum.get_absolute_url()).text)

    image = f"{SITE_URL}/media/forums/cover.jpg"
    assert (
        head.meta["og:image"],
        head.meta["twitter:card"],
        json.loads(head.json_ld[0])["image"],
    ) == (image, "summary_large_image", image)


def test_recap_page_markup_in_headline_cannot_leave_the_json_ld_element(client):
    hostile = "</script><script>alert(1)</script>"
    forum = public_forum(headline=hostile)

    response = client.get(forum.get_absolute_url())

    head = HeadReader(response.text)
    assert (
        "</script><script>alert" in response.text,
        [json.loads(text)["headline"] for text in head.json_ld],
        head.meta["og:title"],
    ) == (False, [hostile], hostile)


def test_recap_meta_tag_runs_no_query(client):
    forum = public_forum()
    AppearanceFactory.create_batch(3, forum=forum)
    response = client.get(forum.get_absolute_url())
    names = ("forum", "recap", "headline", "appearances")
    context = Context({name: response.context[name] for name in names})
    template = Template("{% load recap_seo %}{% recap_meta forum recap headline appearances %}")

    with CaptureQueriesContext(connection) as queries:
        html = template.render(context)

    assert (len(queries.captured_queries), f'content="{HEADLINE}"' in html) == (0, True)


def test_recap_page_costs_no_more_queries_than_before_its_meta(
    client, django_assert_max_num_queries
):
    forum = public_forum()
    for appearance in AppearanceFactory.create_batch(3, forum=forum):
        QuoteFactory(forum=forum, speaker=appearance.speaker, featured=True)
    TranscriptTurnFactory.create_batch(3, theme=ThemeFactory(forum=forum))
    forum.released_topics.add(TopicFactory())

    with django_assert_max_num_queries(FORUM_PAGE_QUERIES):
        response = client.get(forum.get_absolute_url())

    assert len(HeadReader(response.text).json_ld) == 1


@pytest.mark.parametrize(
    ("make_forum", "robots"),
    [
        pytest.param(lambda: RecapFactory().forum, "noindex", id="draft"),
        pytest.param(lambda: RecapFactory(scheduled=True).forum, "noindex", id="scheduled"),
        pytest.param(lambda: ForumFactory(), "noindex", id="no-recap"),
        pytest.param(lambda: RecapFactory(published=True).forum, None, id="published"),
        pytest.param(
            lambda: (
                RecapFactory(
                    status=Recap.Status.SCHEDULED,
                    publish_at=timezone.now() - datetime.timedelta(minutes=1),
                ).forum
            ),
            None,
            id="scheduled-time-passed",
        ),
    ],
)
def test_recap_page_previewed_by_an_organiser_is_noindex_until_public(
    client, organiser, make_forum, robots
):
    forum = make_forum()
    client.force_login(organiser)

    response = client.get(forum.get_absolute_url())

    assert (response.status_code, HeadReader(response.text).meta.get("robots")) == (200, robots)


# --- sitemap.xml --------------------------------------------------------------------------

SITEMAP_NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


@pytest.fixture
def sitemaps_app(db):
    """The site's domain, which the sitemap's addresses use."""
    Site.objects.update_or_create(id=1, defaults={"domain": "wecity.example.org"})


def sitemap_entries(client):
    response = client.get(reverse("sitemap"))
    root = ET.fromstring(response.content)
    return {
        url.findtext("s:loc", namespaces=SITEMAP_NS): url.findtext(
            "s:lastmod", namespaces=SITEMAP_NS
        )
        for url in root.findall("s:url", SITEMAP_NS)
    }


def test_sitemap_lists_public_pages_recaps_speakers_topics_and_cohorts(client, sitemaps_app):
    forum = public_forum()
    AppearanceFactory(forum=forum, speaker__slug="wang-hua")
    draft = RecapFactory(forum__slug="draft-forum").forum
    AppearanceFactory(forum=draft, speaker__slug="only-at-a-draft")
    RecapFactory(scheduled=True, forum__slug="tomorrows-forum")
    TopicFactory(slug="digital-government")
    CohortFactory(slug="cohort-1")

    entries = sitemap_entries(client)

    assert entries == {
        f"{SITE_URL}/": None,
        f"{SITE_URL}/forums/": None,
        f"{SITE_URL}/speakers/": None,
        f"{SITE_URL}/topics/": None,
        f"{SITE_URL}/cohorts/": None,
        f"{SITE_URL}/forums/city-roundtable/": timezone.localtime(forum.recap.updated_at)
        .date()
        .isoformat(),
        f"{SITE_URL}/speakers/wang-hua/": None,
        f"{SITE_URL}/topics/digital-government/": None,
        f"{SITE_URL}/cohorts/cohort-1/": None,
    }


def test_sitemap_queries_do_not_grow_with_its_data(
    client, sitemaps_app, django_assert_max_num_queries
):
    def grow(count):
        for _ in range(count):
            AppearanceFactory(forum=RecapFactory(published=True).forum)
            TopicFactory()
            CohortFactory()

    grow(2)
    with CaptureQueriesContext(connection) as small:
        client.get(reverse("sitemap"))
    grow(18)

    with django_assert_max_num_queries(len(small.captured_queries)):
        entries = sitemap_entries(client)

    assert len(entries) == 5 + 20 * 4
