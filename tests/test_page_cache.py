"""The page cache (wecity/pagecache.py): public pages and API reads kept for anonymous
visitors, per language, until a write changes what they show; and static files' caching."""

import datetime
import re
import runpy
from pathlib import Path

import environ
import pytest
import redis
from csp.constants import NONCE, SELF
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, connection
from django.http import HttpResponse
from django.template import RequestContext, Template
from django.templatetags.static import static
from django.test import Client
from django.test.client import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import path, reverse
from django.utils import timezone
from whitenoise.middleware import WhiteNoiseMiddleware

from accounts.models import Role
from accounts.services import create_api_token
from forums import curation, services
from forums.models import Recap
from scripts.stack import free_port, wait_until
from tests.factories import (
    AppearanceFactory,
    CohortFactory,
    ForumFactory,
    MemberFactory,
    MilestoneFactory,
    QuoteFactory,
    RecapFactory,
    RecapShareLinkFactory,
    SpeakerFactory,
    ThemeFactory,
    TopicFactory,
    TranscriptTurnFactory,
    UserFactory,
)
from tests.html import texts
from wecity import pagecache
from wecity.caches import RedisCacheWithFallback, count_in_window
from wecity.pagecache import CachedPagesApp

ROOT = Path(django_settings.BASE_DIR)
CSRF_VALUE = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*(")')


@pytest.fixture(autouse=True)
def page_cache(settings):
    """The page cache on, over the tests' in-process cache, emptied before and after."""
    settings.PAGE_CACHE_SECONDS = 300
    settings.API_THROTTLE_ANON_RATE = "10000/minute"
    settings.API_THROTTLE_USER_RATE = "10000/minute"
    cache.clear()
    yield
    cache.clear()
    pagecache.lost_invalidations = False


def public_forum(*, slug, title="WeCity 未来城市圆桌论坛", speaker=None, **recap):
    """A published forum with a speaker, a theme and a turn of transcript (`recap`: other
    recap fields, such as `published=False`)."""
    forum = RecapFactory(
        forum=ForumFactory(slug=slug, title=title),
        headline=f"{title}回顾",
        **{"published": True, **recap},
    ).forum
    appearance = AppearanceFactory(forum=forum, speaker=speaker or SpeakerFactory())
    theme = ThemeFactory(forum=forum, position=1)
    TranscriptTurnFactory(theme=theme, position=1, speaker=appearance.speaker)
    return forum


def cached(response):
    return response.get("X-Page-Cache")


def without_csrf_tokens(response):
    """The body with each CSRF token blanked: the one part that is each visitor's own."""
    return CSRF_VALUE.sub(r"\1\2", response.content.decode())


def csrf_token(response):
    return CSRF_VALUE.search(response.content.decode()).group(0).split('value="')[1][:-1]


# --- Hits and misses ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_second_anonymous_request_is_a_hit_without_any_query(client, django_assert_num_queries):
    public_forum(slug="future-city")
    url = reverse("forums:forum-detail", kwargs={"slug": "future-city"})

    first = client.get(url)
    with django_assert_num_queries(0):
        second = client.get(url)

    assert (first.status_code, cached(first), second.status_code, cached(second)) == (
        200,
        "miss",
        200,
        "hit",
    )
    assert without_csrf_tokens(second) == without_csrf_tokens(first)
    assert "WeCity 未来城市圆桌论坛回顾" in second.content.decode()
    assert {name: second[name] for name in ("Content-Type", "X-Frame-Options")} == {
        name: first[name] for name in ("Content-Type", "X-Frame-Options")
    }
    assert second["Content-Security-Policy"] == first["Content-Security-Policy"]


def every_public_page():
    """One of each kind of public page and API read, with what each needs to exist."""
    topic = TopicFactory(slug="digital-government")
    forum = public_forum(slug="future-city")
    forum.released_topics.add(topic)
    speaker = forum.appearances.get().speaker
    quote = QuoteFactory(forum=forum, speaker=speaker, approved=True)
    cohort = CohortFactory(slug="cohort-2026")
    MilestoneFactory(cohort=cohort)
    return [
        reverse("home"),
        reverse("forums:forum-list"),
        reverse("forums:forum-detail", kwargs={"slug": forum.slug}),
        reverse("forums:speaker-list"),
        reverse("forums:speaker-detail", kwargs={"slug": speaker.slug}),
        reverse("forums:quote-detail", kwargs={"pk": quote.pk}),
        reverse("topics:topic-list"),
        reverse("topics:topic-detail", kwargs={"slug": topic.slug}),
        reverse("cohorts:cohort-list"),
        reverse("cohorts:cohort-detail", kwargs={"slug": cohort.slug}),
        reverse("schedule:cohort-feed", kwargs={"slug": cohort.slug}),
        reverse("recaps-rss"),
        reverse("recaps-atom"),
        reverse("sitemap"),
        "/api/v1/forums/",
        f"/api/v1/forums/{forum.slug}/",
        f"/api/v1/forums/{forum.slug}/turns/",
        "/api/v1/recaps/",
        f"/api/v1/recaps/{forum.slug}/",
        "/api/v1/speakers/",
        f"/api/v1/speakers/{speaker.slug}/",
        "/api/v1/quotes/",
        f"/api/v1/quotes/{quote.pk}/",
        "/api/v1/topics/",
        f"/api/v1/topics/{topic.slug}/",
        "/api/v1/cohorts/",
        f"/api/v1/cohorts/{cohort.slug}/",
    ]


@pytest.mark.django_db
def test_every_public_page_and_api_read_is_served_from_the_cache_the_second_time(client):
    urls = every_public_page()

    answers = [(client.get(url), client.get(url)) for url in urls]

    outcomes = {
        url: (a.status_code, cached(a), cached(b))
        for url, (a, b) in zip(urls, answers, strict=True)
    }
    assert outcomes == dict.fromkeys(urls, (200, "miss", "hit"))
    assert [without_csrf_tokens(b) for _a, b in answers] == [
        without_csrf_tokens(a) for a, _b in answers
    ]


@pytest.mark.django_db
def test_page_cache_off_serves_nothing_from_the_cache(client, settings):
    public_forum(slug="future-city")
    settings.PAGE_CACHE_SECONDS = 0

    answers = [client.get("/forums/future-city/") for _ in range(2)]

    assert [(a.status_code, cached(a)) for a in answers] == [(200, None), (200, None)]


@pytest.mark.django_db
def test_each_language_has_its_own_cached_page(client):
    public_forum(slug="future-city")

    answers = [
        client.get("/forums/", HTTP_ACCEPT_LANGUAGE=language)
        for language in ("zh-hans", "en", "zh-hans", "en")
    ]

    assert [(cached(a), a["Content-Language"]) for a in answers] == [
        ("miss", "zh-hans"),
        ("miss", "en"),
        ("hit", "zh-hans"),
        ("hit", "en"),
    ]
    assert [texts(a.content.decode(), "<h1") for a in answers] == [
        ["论坛"],
        ["Forums"],
        ["论坛"],
        ["Forums"],
    ]
    assert without_csrf_tokens(answers[0]) != without_csrf_tokens(answers[1])


# --- Invalidation -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_publishing_a_recap_shows_on_the_home_page_list_recap_and_feed(client, organiser):
    public_forum(slug="older", title="较早的论坛")
    draft = public_forum(slug="future-city", title="WeCity 未来城市圆桌论坛", published=False)
    urls = ["/", "/forums/", "/feeds/recaps.rss", "/api/v1/forums/"]
    before = [client.get(url) for url in [*urls, *urls]]

    services.publish_recap(draft, user=organiser, expected_version=draft.recap.version)
    after = [client.get(url) for url in urls]
    recap_page = client.get("/forums/future-city/")

    assert [cached(a) for a in before] == ["miss"] * 4 + ["hit"] * 4
    assert all("WeCity 未来城市圆桌论坛" not in a.content.decode() for a in before)
    assert [(cached(a), "WeCity 未来城市圆桌论坛" in a.content.decode()) for a in after] == [
        ("miss", True)
    ] * 4
    assert (recap_page.status_code, texts(recap_page.content.decode(), "<h1")) == (
        200,
        ["WeCity 未来城市圆桌论坛回顾"],
    )


@pytest.mark.django_db
def test_a_recap_published_by_the_task_at_its_time_shows_on_the_next_request(client):
    public_forum(slug="older", title="较早的论坛")
    scheduled = RecapFactory(scheduled=True, forum__slug="future-city", headline="定时发布的回顾")
    client.get("/")
    # Its time comes: the recap is due, and the sweep has not run yet.
    Recap.objects.filter(pk=scheduled.pk).update(
        publish_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    before_sweep = client.get("/")

    services.publish_due_recaps()
    after_sweep = client.get("/")

    assert (cached(before_sweep), "定时发布的回顾" in before_sweep.content.decode()) == (
        "hit",
        False,
    )
    assert (cached(after_sweep), texts(after_sweep.content.decode(), '<h2 id="latest-title"')) == (
        "miss",
        ["定时发布的回顾"],
    )


@pytest.mark.django_db
def test_approving_and_featuring_a_quote_shows_on_the_recap_speaker_and_home_pages(
    client, admin_user
):
    forum = public_forum(slug="future-city")
    speaker = forum.appearances.get().speaker
    quote = QuoteFactory(forum=forum, speaker=speaker, text="让数据为城市里的每个人服务。")
    urls = ["/", "/forums/future-city/", f"/speakers/{speaker.slug}/"]
    primed = [cached(client.get(url)) for url in [*urls, *urls]]

    curation.approve_quote(quote, user=admin_user)
    approved = {url: client.get(url) for url in urls}
    curation.feature_quote(quote, user=admin_user)
    featured = {url: client.get(url) for url in urls}

    assert primed == ["miss"] * 3 + ["hit"] * 3
    said = "让数据为城市里的每个人服务。"
    assert {url: said in a.content.decode() for url, a in approved.items()} == {
        "/": False,  # the home page shows highlights only
        "/forums/future-city/": False,
        f"/speakers/{speaker.slug}/": True,
    }
    assert {url: (cached(a), said in a.content.decode()) for url, a in featured.items()} == {
        "/": ("miss", True),
        "/forums/future-city/": ("miss", True),
        f"/speakers/{speaker.slug}/": ("miss", True),
    }
    quote_page = client.get(f"/quotes/{quote.pk}/")
    assert (quote_page.status_code, said in quote_page.content.decode()) == (200, True)


@pytest.mark.django_db
def test_renaming_a_speaker_shows_on_their_page_the_directory_and_their_recaps(client):
    speaker = SpeakerFactory(name="王小明", slug="wang-xiaoming")
    public_forum(slug="future-city", speaker=speaker)
    urls = ["/speakers/wang-xiaoming/", "/speakers/", "/forums/future-city/"]
    primed = [cached(client.get(url)) for url in [*urls, *urls]]

    speaker.name = "王晓明"
    speaker.save()
    renamed = [client.get(url) for url in urls]

    assert primed == ["miss"] * 3 + ["hit"] * 3
    assert [(cached(a), "王晓明" in a.content.decode()) for a in renamed] == [("miss", True)] * 3


@pytest.mark.django_db
def test_the_directorys_organisations_and_count_are_counted_again_once_a_speaker_changes(
    client, organiser
):
    # Signed in, the page is built each time; its figures over every speaker are kept.
    public_forum(slug="future-city", speaker=SpeakerFactory(organisation="深圳湾实验室"))
    client.force_login(organiser)
    client.get("/speakers/")
    with CaptureQueriesContext(connection) as kept:
        client.get("/speakers/")

    SpeakerFactory(name="新来的人", organisation="前海管理局")
    with CaptureQueriesContext(connection) as counted:
        after = client.get("/speakers/").content.decode()

    select = re.search(r'<select name="organisation".*?</select>', after, re.S).group(0)
    assert texts(select, "<option")[1:] == ["前海管理局", "深圳湾实验室"]
    assert "新来的人" in after
    speakers_counted = 'COUNT(*) AS "__count" FROM "forums_speaker"'
    assert [sql_has(kept, "GROUP BY"), sql_has(kept, speakers_counted)] == [False, False]
    assert [sql_has(counted, "GROUP BY"), sql_has(counted, speakers_counted)] == [True, True]


@pytest.mark.django_db
def test_the_directorys_forum_choices_are_read_again_once_a_forum_changes(client, organiser):
    forum = public_forum(slug="future-city", title="未来城市圆桌")
    client.force_login(organiser)
    client.get("/speakers/")
    with CaptureQueriesContext(connection) as kept:
        client.get("/speakers/")

    forum.title = "未来城市圆桌（第二期）"
    forum.save()
    with CaptureQueriesContext(connection) as read:
        after = client.get("/speakers/").content.decode()

    select = re.search(r'<select name="forum".*?</select>', after, re.S).group(0)
    assert texts(select, "<option")[1:] == ["未来城市圆桌（第二期）"]
    titles_read = '"forums_forum"."title" AS "title"'
    assert [sql_has(kept, titles_read), sql_has(read, titles_read)] == [False, True]


@pytest.mark.django_db
def test_a_newly_published_forum_is_among_the_directorys_forum_choices(client, organiser):
    public_forum(slug="future-city", title="未来城市圆桌")
    draft = public_forum(slug="next", title="下一期圆桌", published=False)
    client.get("/speakers/")

    services.publish_recap(draft, user=organiser, expected_version=draft.recap.version)
    after = client.get("/speakers/")

    select = re.search(r'<select name="forum".*?</select>', after.content.decode(), re.S)
    assert (cached(after), sorted(texts(select.group(0), "<option")[1:])) == (
        "miss",
        sorted(["下一期圆桌", "未来城市圆桌"]),
    )


def sql_has(queries, text):
    return any(text in query["sql"] for query in queries.captured_queries)


def test_remembered_figures_are_computed_once_until_a_tag_is_touched():
    computed = []

    def compute():
        computed.append(len(computed) + 1)
        return computed[-1]

    first = [pagecache.remember("figure", [pagecache.SPEAKERS], compute) for _ in range(2)]
    pagecache.touch(pagecache.FORUMS)
    still = pagecache.remember("figure", [pagecache.SPEAKERS], compute)
    pagecache.touch(pagecache.SPEAKERS)
    again = pagecache.remember("figure", [pagecache.SPEAKERS], compute)

    assert (first, still, again) == ([1, 1], 1, 2)


def test_without_touches_reaching_the_cache_figures_are_always_computed(settings):
    settings.PAGE_CACHE_SECONDS = 0  # and the tests' cache is this process's own
    computed = []

    figures = [
        pagecache.remember("figure", [pagecache.SPEAKERS], lambda: computed.append(1) or 1)
        for _ in range(2)
    ]

    assert (figures, len(computed)) == ([1, 1], 2)


@pytest.mark.django_db
def test_a_new_slug_leaves_no_page_at_the_old_address(client):
    speaker = SpeakerFactory(name="王小明", slug="wang-xiaoming")
    public_forum(slug="future-city", speaker=speaker)
    client.get("/speakers/wang-xiaoming/")

    speaker.slug = "wang-xm"
    speaker.save()
    old = client.get("/speakers/wang-xiaoming/")

    assert (old.status_code, cached(old)) == (404, "miss")


@pytest.mark.django_db
def test_editing_one_forum_keeps_the_cached_page_of_another(client, organiser):
    shared = SpeakerFactory()
    edited = public_forum(slug="edited", speaker=shared)
    public_forum(slug="untouched", speaker=shared)
    client.get("/forums/edited/")
    client.get("/forums/untouched/")

    services.update_forum(
        edited, user=organiser, expected_version=edited.recap.version, title="改过的标题"
    )
    services.add_theme(
        edited, user=organiser, expected_version=edited.recap.version, title="新议题"
    )
    answers = {slug: client.get(f"/forums/{slug}/") for slug in ("edited", "untouched")}

    assert {slug: cached(a) for slug, a in answers.items()} == {
        "edited": "miss",
        "untouched": "hit",
    }
    assert "新议题" in answers["edited"].content.decode()


@pytest.mark.django_db
def test_editing_the_transcript_misses_only_its_recap(client, organiser):
    forum = public_forum(slug="future-city")
    speaker = forum.appearances.get().speaker
    urls = ["/forums/future-city/", f"/speakers/{speaker.slug}/", "/", "/forums/"]
    [client.get(url) for url in urls]

    services.update_turn(
        forum.themes.get().turns.get(),
        user=organiser,
        expected_version=forum.recap.version,
        speaker=speaker,
        body="城市是一个生命体。",
    )
    TranscriptTurnFactory(theme=forum.themes.get(), position=2, speaker=speaker, body="再补一句。")
    answers = [client.get(url) for url in urls]

    assert "城市是一个生命体。" in answers[0].content.decode()
    assert "再补一句。" in answers[0].content.decode()
    # The service's edit raises the recap's version (dates in feeds and the sitemap), so the
    # lists miss too; a speaker's page does not show the transcript.
    assert [cached(a) for a in answers] == ["miss", "miss", "miss", "miss"]


@pytest.mark.django_db
def test_a_turn_added_outside_the_services_misses_its_recap_and_nothing_else(client):
    forum = public_forum(slug="future-city")
    speaker = forum.appearances.get().speaker
    urls = ["/forums/future-city/", f"/speakers/{speaker.slug}/", "/", "/forums/"]
    [client.get(url) for url in urls]

    TranscriptTurnFactory(theme=forum.themes.get(), position=2, speaker=speaker, body="再补一句。")
    answers = [client.get(url) for url in urls]

    assert [cached(a) for a in answers] == ["miss", "hit", "hit", "hit"]
    assert "再补一句。" in answers[0].content.decode()


@pytest.mark.django_db
def test_a_member_made_public_appears_in_the_cohort_directory(client):
    cohort = CohortFactory(slug="cohort-2026")
    member = MemberFactory(cohort=cohort, name="赵敏", is_public=False)
    client.get("/cohorts/cohort-2026/")

    member.is_public = True
    member.save(update_fields=["is_public"])
    answer = client.get("/cohorts/cohort-2026/")

    assert (cached(answer), texts(answer.content.decode(), '<span class="person__name"')) == (
        "miss",
        ["赵敏"],
    )


@pytest.mark.django_db
def test_renaming_a_topic_shows_on_the_pages_that_name_it(client):
    topic = TopicFactory(slug="digital-government", name="数字政府")
    forum = public_forum(slug="future-city")
    forum.released_topics.add(topic)
    urls = ["/", "/topics/", "/topics/digital-government/", "/forums/future-city/"]
    [client.get(url) for url in urls]

    topic.name = "数字政务"
    topic.save()
    answers = [client.get(url) for url in urls]

    assert [(cached(a), "数字政务" in a.content.decode()) for a in answers] == [("miss", True)] * 4


# --- Who is served from the cache -------------------------------------------------------------


@pytest.mark.django_db
def test_signed_in_visitors_get_their_own_page_never_the_cached_one(client):
    public_forum(slug="future-city")
    member = UserFactory(name="李明", roles=[Role.MEMBER])
    signed_in = Client()
    signed_in.force_login(member)

    theirs = [signed_in.get("/forums/future-city/") for _ in range(2)]
    anonymous = [client.get("/forums/future-city/") for _ in range(2)]
    theirs_after = signed_in.get("/forums/future-city/")

    assert [cached(a) for a in [*theirs, *anonymous, theirs_after]] == [
        None,
        None,
        "miss",  # what the member was shown was not stored
        "hit",
        None,
    ]
    assert ["李明" in a.content.decode() for a in [*theirs, *anonymous, theirs_after]] == [
        True,
        True,
        False,
        False,
        True,
    ]


@pytest.mark.django_db
def test_a_page_showing_a_message_is_neither_served_from_nor_kept_in_the_cache(client):
    user = UserFactory()
    Client().get("/")  # another visitor leaves the home page in the cache
    client.force_login(user)

    signed_out = client.post(reverse("account_logout"))
    home = client.get(signed_out.url)
    again = client.get(signed_out.url)

    assert (cached(home), len(texts(home.content.decode(), '<li class="message'))) == (None, 1)
    assert (cached(again), texts(again.content.decode(), '<li class="message')) == ("hit", [])


@pytest.mark.django_db
def test_share_links_search_and_members_pages_are_never_cached(client):
    link = RecapShareLinkFactory(recap=RecapFactory(forum__slug="draft"))
    member = MemberFactory()
    signed_in = Client()
    signed_in.force_login(member.user)
    urls = [f"/share/{link.token}/", "/search/?q=城市"]

    answers = [client.get(url) for url in [*urls, *urls]]
    programme = [signed_in.get("/programme/") for _ in range(2)]

    assert [(a.status_code, cached(a)) for a in [*answers, *programme]] == [(200, None)] * 6


@pytest.mark.django_db
def test_a_cached_page_holds_no_visitors_token_and_its_language_links_work(client):
    public_forum(slug="future-city")
    client.get("/forums/future-city/")
    other = Client(enforce_csrf_checks=True)

    page = other.get("/forums/future-city/")
    link = re.search(r'<a href="([^"]+)" lang="en"', page.content.decode())[1]
    switched = other.get(link.replace("&amp;", "&"))

    assert (cached(page), "csrfmiddlewaretoken" in page.content.decode(), page.cookies) == (
        "hit",
        False,
        {},
    )
    assert (switched.status_code, switched.url, other.cookies["django_language"].value) == (
        302,
        "/forums/future-city/",
        "en",
    )


def page_with_a_nonce(request):
    return HttpResponse(f'<script nonce="{request.csp_nonce}" src="/static/js/a.js"></script>')


def page_with_a_form(request):
    return HttpResponse(
        Template("<form method=post>{% csrf_token %}</form>").render(RequestContext(request))
    )


# A home page using a CSP nonce, as a template with inline script would, and a feed (a page
# the cache would keep) holding a form that posts.
urlpatterns = [
    path("", page_with_a_nonce, name="home"),
    path("feed/", page_with_a_form, name="recaps-rss"),
]


@pytest.mark.urls(__name__)
@pytest.mark.django_db
def test_a_page_holding_a_csrf_token_is_never_kept(client):
    answers = [client.get("/feed/") for _ in range(2)]

    assert [cached(a) for a in answers] == ["miss", "miss"]
    assert [CSRF_VALUE.search(a.content.decode()) is not None for a in answers] == [True, True]


@pytest.mark.urls(__name__)
@pytest.mark.django_db
def test_a_page_using_a_csp_nonce_is_never_kept(client, settings):
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"script-src": [SELF, NONCE]}}

    answers = [client.get("/") for _ in range(2)]

    nonces = [re.search(r"'nonce-([^']+)'", a["Content-Security-Policy"])[1] for a in answers]
    assert [cached(a) for a in answers] == ["miss", "miss"]
    assert [f'nonce="{n}"' in a.content.decode() for n, a in zip(nonces, answers, strict=True)] == [
        True,
        True,
    ]
    assert nonces[0] != nonces[1]


# --- Conditional GET ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_page_unchanged_since_the_visitors_copy_answers_304(client, organiser):
    forum = public_forum(slug="future-city")
    first = client.get("/forums/future-city/")

    unchanged = client.get("/forums/future-city/", HTTP_IF_NONE_MATCH=first["ETag"])
    someone_else = Client().get("/forums/future-city/", HTTP_IF_NONE_MATCH=first["ETag"])
    services.update_forum(
        forum, user=organiser, expected_version=forum.recap.version, title="改过的标题"
    )
    changed = client.get("/forums/future-city/", HTTP_IF_NONE_MATCH=first["ETag"])

    assert (unchanged.status_code, cached(unchanged), unchanged["ETag"]) == (
        304,
        "hit",
        first["ETag"],
    )
    # The page is the same for every visitor: another's copy is as good.
    assert (someone_else.status_code, cached(someone_else)) == (304, "hit")
    assert (changed.status_code, cached(changed)) == (200, "miss")
    assert changed["ETag"] != first["ETag"]


@pytest.mark.django_db
def test_a_feed_answers_304_to_any_visitor_with_its_etag(client):
    public_forum(slug="future-city")
    first = client.get("/feeds/recaps.atom")

    again = Client().get("/feeds/recaps.atom", HTTP_IF_NONE_MATCH=first["ETag"])

    assert (first.status_code, again.status_code, cached(again)) == (200, 304, "hit")


# --- The API ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_api_read_is_cached_for_anonymous_callers_and_changes_with_the_forum(client, organiser):
    forum = public_forum(slug="future-city")
    first = client.get("/api/v1/forums/future-city/")
    second = client.get("/api/v1/forums/future-city/")
    not_modified = client.get("/api/v1/forums/future-city/", HTTP_IF_NONE_MATCH=first["ETag"])

    services.update_forum(
        forum, user=organiser, expected_version=forum.recap.version, title="改过的标题"
    )
    changed = client.get("/api/v1/forums/future-city/")

    assert [(a.status_code, cached(a)) for a in (first, second, not_modified, changed)] == [
        (200, "miss"),
        (200, "hit"),
        (304, "hit"),
        (200, "miss"),
    ]
    assert (second.content, second["ETag"], second["Last-Modified"]) == (
        first.content,
        first["ETag"],
        first["Last-Modified"],
    )
    assert (first.json()["title"], changed.json()["title"]) == (
        "WeCity 未来城市圆桌论坛",
        "改过的标题",
    )


@pytest.mark.django_db
def test_api_callers_with_credentials_are_never_served_from_the_cache(client, organiser):
    public_forum(slug="future-city")
    RecapFactory(forum__slug="draft")
    _token, secret = create_api_token(organiser, name="脚本")
    anonymous = [client.get("/api/v1/forums/") for _ in range(2)]

    with_token = Client().get("/api/v1/forums/", HTTP_AUTHORIZATION=f"Bearer {secret}")
    session = Client()
    session.force_login(organiser)
    signed_in = session.get("/api/v1/forums/")

    slugs = [[f["slug"] for f in a.json()["results"]] for a in [*anonymous, with_token, signed_in]]
    assert [cached(a) for a in [*anonymous, with_token, signed_in]] == ["miss", "hit", None, None]
    assert slugs == [["future-city"]] * 2 + [["draft", "future-city"]] * 2


@pytest.mark.django_db
def test_cached_api_answers_count_towards_the_anonymous_rate_limit(client, settings):
    public_forum(slug="future-city")
    settings.API_THROTTLE_ANON_RATE = "3/minute"

    answers = [client.get("/api/v1/forums/") for _ in range(4)]

    assert [(a.status_code, cached(a)) for a in answers] == [
        (200, "miss"),
        (200, "hit"),
        (200, "hit"),
        (429, "miss"),
    ]


# --- Redis down ---------------------------------------------------------------------------------


def redis_cache(location, **options):
    return {
        "default": {
            "BACKEND": "wecity.caches.RedisCacheWithFallback",
            "LOCATION": location,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5, **options},
        }
    }


def test_redis_cache_says_when_it_answers_from_memory():
    down = RedisCacheWithFallback(f"redis://127.0.0.1:{free_port()}/1", {})

    before = down.is_falling_back
    down.set("key", "value")

    assert (before, down.is_falling_back, down.get("key")) == (False, True, "value")


@pytest.mark.django_db
def test_while_redis_is_down_pages_are_neither_served_from_nor_kept_in_the_cache(client, settings):
    public_forum(slug="future-city")
    settings.CACHES = redis_cache(f"redis://127.0.0.1:{free_port()}/1")

    answers = [client.get("/forums/future-city/") for _ in range(2)]

    assert [(a.status_code, cached(a)) for a in answers] == [(200, None), (200, None)]
    assert cache.is_falling_back is True


@pytest.mark.services
@pytest.mark.django_db
def test_changes_made_while_redis_was_unreachable_show_once_it_answers_again(
    client, settings, organiser, redis_server
):
    forum = public_forum(slug="future-city")
    settings.CACHES = redis_cache(f"redis://127.0.0.1:{redis_server.port}/1")
    primed = [cached(client.get("/forums/future-city/")) for _ in range(2)]

    redis_server.stop()
    try:
        services.update_forum(
            forum, user=organiser, expected_version=forum.recap.version, title="停机时改的标题"
        )
        during = client.get("/forums/future-city/")
    finally:
        redis_server.start()  # with what it held before: the page of the old title
    after = client.get("/forums/future-city/")
    again = client.get("/forums/future-city/")

    assert primed == ["miss", "hit"]
    assert (cached(during), "停机时改的标题" in during.content.decode()) == (None, True)
    assert [(cached(a), "停机时改的标题" in a.content.decode()) for a in (after, again)] == [
        ("miss", True),
        ("hit", True),
    ]


# --- The API's rate counter ---------------------------------------------------------------------


@pytest.mark.services
def test_on_redis_a_rate_counter_counts_and_says_when_its_window_ends(redis_server):
    redis = RedisCacheWithFallback(f"redis://127.0.0.1:{redis_server.port}/1", {})

    counts = [redis.count_in_window("throttle_anon_203.0.113.9", 60) for _ in range(3)]
    other = redis.count_in_window("throttle_anon_203.0.113.10", 60)

    assert [count for count, _ in counts] == [1, 2, 3]
    assert all(55 <= left <= 60 for _, left in counts)
    assert (other[0], redis.get("throttle_anon_203.0.113.9"), redis.is_falling_back) == (
        1,
        3,
        False,
    )


@pytest.mark.services
def test_on_redis_a_rate_counter_starts_again_when_its_window_ends(redis_server):
    redis = RedisCacheWithFallback(f"redis://127.0.0.1:{redis_server.port}/1", {})
    redis.count_in_window("throttle_anon_203.0.113.9", 1)
    redis.count_in_window("throttle_anon_203.0.113.9", 1)

    assert wait_until(lambda: redis.get("throttle_anon_203.0.113.9") is None, timeout=5)
    assert redis.count_in_window("throttle_anon_203.0.113.9", 1)[0] == 1


def test_while_redis_is_down_a_rate_counter_counts_in_memory():
    down = RedisCacheWithFallback(f"redis://127.0.0.1:{free_port()}/1", {})

    counts = [down.count_in_window("throttle_anon_203.0.113.9", 60) for _ in range(2)]

    assert [count for count, _ in counts] == [1, 2]
    assert all(0 < left <= 60 for _, left in counts)
    assert down.is_falling_back is True


def test_any_other_cache_counts_with_its_own_operations():
    counts = [count_in_window(cache, "throttle_anon_203.0.113.9", 60) for _ in range(3)]

    assert [count for count, _ in counts] == [1, 2, 3]
    assert counts[0][1] >= counts[2][1] > 59


@pytest.mark.services
@pytest.mark.django_db
def test_on_redis_the_api_refuses_a_caller_over_its_rate_and_says_when_to_come_back(
    client, settings, redis_server
):
    public_forum(slug="future-city")
    settings.CACHES = redis_cache(f"redis://127.0.0.1:{redis_server.port}/1")
    settings.API_THROTTLE_ANON_RATE = "2/minute"

    answers = [client.get("/api/v1/forums/") for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert 55 <= int(answers[2]["Retry-After"]) <= 60
    assert answers[2].json()["error"]["code"] == "throttled"


@pytest.fixture
def django_behind_the_page_cache():
    """The portal as gunicorn runs it: CachedPagesApp in front of Django. As with Django's
    test client, a request does not close the database connection (the test's transaction).
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield CachedPagesApp(get_wsgi_application())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture(params=["memory", "redis"])
def any_cache(request, settings):
    """The tests' in-process cache, then a Redis of the test's own."""
    if request.param == "redis":
        server = request.getfixturevalue("redis_server")
        settings.CACHES = redis_cache(f"redis://127.0.0.1:{server.port}/1")
    return request.param


@pytest.mark.services
@pytest.mark.django_db
def test_an_api_read_is_counted_once_whether_stored_or_built(
    settings, any_cache, django_behind_the_page_cache
):
    public_forum(slug="future-city")
    settings.API_THROTTLE_ANON_RATE = "2/minute"
    portal = django_behind_the_page_cache
    key = "throttle_anon_127.0.0.1"

    answers = [wsgi(portal, "/api/v1/forums/", REMOTE_ADDR="127.0.0.1") for _ in range(3)]

    assert [(status, headers.get("X-Page-Cache")) for status, headers, _ in answers] == [
        ("200 OK", "miss"),  # built by Django, counted once before it
        ("200 OK", "hit"),
        ("429 Too Many Requests", "miss"),  # Django answers it
    ]
    assert 55 <= int(answers[2][1]["Retry-After"]) <= 60
    assert cache.get(key) == 3


@pytest.mark.services
@pytest.mark.django_db
def test_on_redis_an_api_hit_before_django_is_one_round_trip(
    settings, redis_server, monkeypatch, django_behind_the_page_cache
):
    public_forum(slug="future-city")
    settings.CACHES = redis_cache(f"redis://127.0.0.1:{redis_server.port}/1")
    portal = django_behind_the_page_cache
    wsgi(portal, "/api/v1/forums/")  # stored
    commands = []
    execute = redis.Redis.execute_command

    def counting(client, *args, **options):
        commands.append(args[0])
        return execute(client, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", counting)

    status, headers, _ = wsgi(portal, "/api/v1/forums/")

    assert (status, headers["X-Page-Cache"], commands) == ("200 OK", "hit", ["EVALSHA"])


# --- Settings and static files ------------------------------------------------------------------


def settings_with(monkeypatch, **environment):
    """wecity/settings.py as a deployment with this environment reads it (no .env file)."""
    for name in ("DEBUG", "SECRET_KEY", "CACHE_URL", "PAGE_CACHE_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(environ.Env, "read_env", lambda *args, **kwargs: None)
    return runpy.run_path(str(ROOT / "wecity" / "settings.py"))


@pytest.mark.parametrize(
    ("environment", "seconds"),
    [
        ({}, 0),
        ({"CACHE_URL": "redis://127.0.0.1:6379/1"}, 300),
        ({"CACHE_URL": "pymemcache://127.0.0.1:11211"}, 300),
        ({"CACHE_URL": "filecache:///var/tmp/wecity-cache"}, 300),
        ({"CACHE_URL": "redis://127.0.0.1:6379/1", "PAGE_CACHE_SECONDS": "0"}, 0),
        ({"PAGE_CACHE_SECONDS": "60"}, 60),
    ],
)
def test_page_cache_is_on_by_default_only_with_a_cache_shared_by_processes(
    monkeypatch, environment, seconds
):
    assert settings_with(monkeypatch, **environment)["PAGE_CACHE_SECONDS"] == seconds


@pytest.mark.django_db  # closing a response closes old database connections
def test_hashed_static_files_are_cached_for_ever_in_production(monkeypatch, settings, tmp_path):
    production = settings_with(monkeypatch, DEBUG="0", SECRET_KEY="x" * 50)
    settings.STORAGES = production["STORAGES"]
    settings.STATIC_ROOT = tmp_path / "static"
    settings.DEBUG = False
    settings.WHITENOISE_AUTOREFRESH = False
    call_command(
        "collectstatic",
        interactive=False,
        verbosity=0,
        ignore_patterns=["admin", "rest_framework", "drf_spectacular_sidecar"],
    )
    middleware = WhiteNoiseMiddleware(lambda request: HttpResponse(status=404))

    hashed = middleware(RequestFactory().get(static("css/portal.css")))
    plain = middleware(RequestFactory().get("/static/css/portal.css"))
    hashed.close()
    plain.close()

    assert production["STORAGES"]["staticfiles"]["BACKEND"] == (
        "whitenoise.storage.CompressedManifestStaticFilesStorage"
    )
    assert re.fullmatch(r"/static/css/portal\.[0-9a-f]{12}\.css", static("css/portal.css"))
    assert (hashed.status_code, hashed["Cache-Control"]) == (
        200,
        "max-age=315360000, public, immutable",
    )
    assert (plain.status_code, plain["Cache-Control"]) == (200, "max-age=60, public")


@pytest.fixture
def page_cache_off_on_a_shared_cache(settings, tmp_path):
    """This process's page cache off, on a cache other processes read (a file-based one)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    }
    settings.PAGE_CACHE_SECONDS = 0


@pytest.mark.usefixtures("page_cache_off_on_a_shared_cache")
def test_a_process_with_the_page_cache_off_still_invalidates_a_shared_cache():
    # A Celery worker started without PAGE_CACHE_SECONDS publishes a recap: the web
    # processes that share its cache must not keep serving the old pages.
    before = pagecache.tag_versions([pagecache.FORUMS])

    pagecache.touch(pagecache.FORUMS)

    assert pagecache.tag_versions([pagecache.FORUMS]) != before


@pytest.mark.django_db
@pytest.mark.usefixtures("page_cache_off_on_a_shared_cache")
def test_a_save_in_a_process_with_the_page_cache_off_invalidates_a_shared_cache():
    # The receivers of saves and deletions, not only pagecache.touch: the worker publishes
    # through the models.
    forum = public_forum(slug="future-city")
    tags = [pagecache.FORUMS, pagecache.forum("future-city")]
    before = pagecache.tag_versions(tags)

    Recap.objects.get(forum=forum).save()
    saved = pagecache.tag_versions(tags)
    forum.delete()

    assert before[0] != saved[0] != pagecache.tag_versions(tags)[0]
    assert before[1] != saved[1]


def test_a_process_with_a_cache_of_its_own_and_the_page_cache_off_touches_nothing(settings):
    settings.PAGE_CACHE_SECONDS = 0
    before = pagecache.tag_versions([pagecache.FORUMS])

    pagecache.touch(pagecache.FORUMS)

    assert pagecache.tag_versions([pagecache.FORUMS]) == before


# --- Before Django: the WSGI fast path ----------------------------------------------------------


def not_django(environ, start_response):
    raise AssertionError(f"Django was asked for {environ['PATH_INFO']}")


def wsgi(application, path, method="get", **headers):
    """Ask `application` for `path` as gunicorn would: (status, headers, body)."""
    environ = getattr(RequestFactory(), method)(path, **headers).environ
    answer = {}

    def start_response(status, response_headers):
        answer.update(status=status, headers=dict(response_headers))

    body = b"".join(application(environ, start_response))
    return answer["status"], answer["headers"], body


@pytest.mark.django_db
def test_a_stored_page_is_answered_before_django_with_every_header(client):
    public_forum(slug="future-city")
    first = client.get("/forums/future-city/", HTTP_ACCEPT_LANGUAGE="en")

    with CaptureQueriesContext(connection) as queries:
        status, headers, body = wsgi(
            CachedPagesApp(not_django), "/forums/future-city/", HTTP_ACCEPT_LANGUAGE="en"
        )

    assert (status, body, len(queries)) == ("200 OK", first.content, 0)
    names = ("Content-Security-Policy", "X-Frame-Options", "Content-Language", "ETag")
    assert {name: headers[name] for name in names} == {name: first[name] for name in names}
    assert (headers["X-Page-Cache"], headers["Content-Length"]) == ("hit", str(len(body)))


@pytest.mark.django_db
def test_a_hit_before_django_is_one_read_of_the_cache(client, monkeypatch):
    public_forum(slug="future-city")
    client.get("/forums/future-city/")
    reads, inside = [], []

    def spy(name, method):
        def read(*args, **kwargs):
            if not inside:  # the cache's own get_many calls its get for each key
                reads.append(name)
            inside.append(name)
            try:
                return method(*args, **kwargs)
            finally:
                inside.pop()

        return read

    for name in ("get", "get_many"):
        monkeypatch.setattr(cache, name, spy(name, getattr(cache, name)))

    status, headers, _ = wsgi(CachedPagesApp(not_django), "/forums/future-city/")

    assert (status, headers["X-Page-Cache"], reads) == ("200 OK", "hit", ["get_many"])


@pytest.mark.django_db
def test_a_page_stored_before_a_tag_it_shows_was_touched_is_built_again(client):
    public_forum(slug="future-city")
    client.get("/forums/future-city/")
    django_asked = []

    def django(environ, start_response):
        django_asked.append(environ["PATH_INFO"])
        start_response("200 OK", [])
        return [b"from Django"]

    before = wsgi(CachedPagesApp(django), "/forums/future-city/")
    pagecache.touch(pagecache.forum("future-city"))
    after = wsgi(CachedPagesApp(django), "/forums/future-city/")

    assert (before[1].get("X-Page-Cache"), after[2], django_asked) == (
        "hit",
        b"from Django",
        ["/forums/future-city/"],
    )


@pytest.mark.django_db
def test_before_django_each_language_gets_its_own_page(client):
    public_forum(slug="future-city")
    client.get("/forums/future-city/", HTTP_ACCEPT_LANGUAGE="en")
    django_asked = []

    def django(environ, start_response):
        django_asked.append(environ["HTTP_ACCEPT_LANGUAGE"])
        start_response("200 OK", [])
        return [b"from Django"]

    english = wsgi(CachedPagesApp(django), "/forums/future-city/", HTTP_ACCEPT_LANGUAGE="en")
    chinese = wsgi(CachedPagesApp(django), "/forums/future-city/", HTTP_ACCEPT_LANGUAGE="zh")

    assert (b'<html lang="en"' in english[2], chinese[2], django_asked) == (
        True,
        b"from Django",
        ["zh"],
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"HTTP_COOKIE": "sessionid=abc"},  # maybe signed in: Django decides
        {"HTTP_COOKIE": "messages=abc"},  # a message to show
        {"HTTP_AUTHORIZATION": "Token abc"},
        {"HTTP_HOST": "evil.example"},  # a host Django refuses
        {"method": "post"},
        {"path": "/forums/future-city/?q=%00"},
        {"path": "/api/v1/forums/future-city/", "HTTP_ACCEPT": "text/csv"},
    ],
)
def test_what_only_django_may_answer_goes_to_django(client, request_kwargs):
    public_forum(slug="future-city")
    path = request_kwargs.pop("path", "/forums/future-city/")
    client.get(path)
    client.get(path)  # stored, if the cache keeps it
    asked = []

    def django(environ, start_response):
        asked.append(environ["PATH_INFO"])
        start_response("200 OK", [])
        return [b""]

    wsgi(CachedPagesApp(django), path, **request_kwargs)

    assert asked == [path.split("?")[0]]


@pytest.mark.django_db
def test_before_django_an_unchanged_page_answers_304_and_head_has_no_body(client):
    public_forum(slug="future-city")
    first = client.get("/forums/future-city/")

    unchanged = wsgi(
        CachedPagesApp(not_django), "/forums/future-city/", HTTP_IF_NONE_MATCH=first["ETag"]
    )
    head = wsgi(CachedPagesApp(not_django), "/forums/future-city/", method="head")

    assert (unchanged[0], unchanged[2], unchanged[1]["ETag"]) == (
        "304 Not Modified",
        b"",
        first["ETag"],
    )
    assert (head[0], head[2], head[1]["Content-Length"]) == ("200 OK", b"", str(len(first.content)))


@pytest.mark.django_db
def test_before_django_a_changed_page_goes_to_django(client, organiser):
    forum = public_forum(slug="future-city")
    client.get("/forums/future-city/")
    services.update_forum(forum, user=organiser, expected_version=forum.recap.version, title="新")
    asked = []

    def django(environ, start_response):
        asked.append(environ["PATH_INFO"])
        start_response("200 OK", [])
        return [b""]

    wsgi(CachedPagesApp(django), "/forums/future-city/")

    assert asked == ["/forums/future-city/"]


@pytest.mark.django_db
def test_before_django_an_api_read_counts_towards_the_rate_limit(client, settings):
    public_forum(slug="future-city")
    settings.API_THROTTLE_ANON_RATE = "3/minute"
    assert client.get("/api/v1/forums/future-city/")["X-Page-Cache"] == "miss"
    asked = []

    def django(environ, start_response):
        asked.append(environ["PATH_INFO"])
        start_response("429 Too Many Requests", [])
        return [b""]

    answers = [wsgi(CachedPagesApp(django), "/api/v1/forums/future-city/")[0] for _ in range(3)]

    # The first request (through Django) and two hits make three: the fourth is Django's.
    assert (answers, asked) == (
        ["200 OK", "200 OK", "429 Too Many Requests"],
        ["/api/v1/forums/future-city/"],
    )


def test_the_portals_wsgi_application_answers_from_the_cache_first():
    from wecity import wsgi as portal_wsgi

    assert isinstance(portal_wsgi.application, CachedPagesApp)
