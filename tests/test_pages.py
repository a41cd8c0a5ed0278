"""What every page shares: both languages, a fixed query budget, accounts, error pages."""

import datetime
import re
from collections.abc import Callable
from typing import NamedTuple

import factory
import pytest
from django.contrib.auth import get_user
from django.db import connection
from django.template.loader import get_template
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import path, reverse
from django.utils import timezone

from accounts.models import User
from forums.models import Appearance
from forums.views import PAGE_SIZE
from tests.factories import (
    PASSWORD,
    AppearanceFactory,
    CohortFactory,
    DeliverableFactory,
    ForumFactory,
    MemberFactory,
    MilestoneFactory,
    QuoteFactory,
    RecapFactory,
    SpeakerFactory,
    ThemeFactory,
    TopicFactory,
    TranscriptTurnFactory,
    UserFactory,
)
from tests.html import elements, texts
from wecity.urls import urlpatterns as project_urlpatterns

pytestmark = pytest.mark.django_db

HEADLINE = "如何加速智慧城市建设进程"
NAV = {
    "zh-hans": ["首页", "论坛", "嘉宾", "课题", "班级"],
    "en": ["Home", "Forums", "Speakers", "Topics", "Cohorts"],
}
# A page may cost at most this many queries, whatever the size of its data.
QUERY_CEILING = 12
SMALL, LARGE = 3, 30


def broken_view(request):
    raise RuntimeError("a bug in a view")


# The project's URLs plus a view that fails, for the 500 page (see `test_view_that_raises…`).
urlpatterns = [*project_urlpatterns, path("broken/", broken_view)]


def html_lang(response):
    return re.search(r'<html lang="([^"]*)">', response.text).group(1)


def published_forum(**fields):
    return RecapFactory(forum=ForumFactory(**fields), published=True).forum


def account_tools(response):
    """The header's sign-in link, or the signed-in user's name and sign-out form."""
    return elements(response.text, '<div class="account-tools"')[0]


# --- Both languages -----------------------------------------------------------------------


@pytest.fixture
def programme():
    """One of each public thing, with Chinese content and fixed slugs."""
    forum = RecapFactory(forum__slug="city-roundtable", published=True, headline=HEADLINE).forum
    speaker = SpeakerFactory(slug="wang-hua", name="王华")
    AppearanceFactory(forum=forum, speaker=speaker)
    QuoteFactory(forum=forum, speaker=speaker, featured=True, text="城市是一个复杂的系统。")
    topic = TopicFactory(
        slug="digital-government",
        name="数字政府",
        name_en="Digital government",
        brief="让办事不再跑腿。",
    )
    cohort = CohortFactory(slug="cohort-1", name="WeCity 加速器第一期")
    MemberFactory(cohort=cohort, topic=topic, name="李明", is_public=True)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize(
    ("url", "interface", "content"),
    [
        pytest.param(
            "/", {"zh-hans": "最新论坛回顾", "en": "Latest forum recap"}, HEADLINE, id="home"
        ),
        pytest.param(
            "/forums/",
            {
                "zh-hans": "项目的圆桌论坛及其回顾。",
                "en": "Roundtable forums of the programme and their recaps.",
            },
            HEADLINE,
            id="forum-list",
        ),
        pytest.param(
            "/forums/city-roundtable/",
            {"zh-hans": "亮点速读", "en": "Highlights"},
            HEADLINE,
            id="forum",
        ),
        pytest.param(
            "/speakers/",
            {
                "zh-hans": "在论坛上发言的院士学者、行业领袖与学员代表。",
                "en": "Scholars, industry leaders and cohort representatives who spoke at the "
                "forums.",
            },
            "王华",
            id="speaker-list",
        ),
        pytest.param(
            "/speakers/wang-hua/",
            {"zh-hans": ">观点<", "en": ">Quotes<"},
            "城市是一个复杂的系统。",
            id="speaker",
        ),
        pytest.param(
            "/topics/",
            {
                "zh-hans": "每位学员参与六大行业课题之一；同一课题的学员共同完成课题交付物。",
                "en": "Each member works in one of six sector topics; the members of a topic "
                "co-create its deliverables.",
            },
            "让办事不再跑腿。",
            id="topic-list",
        ),
        pytest.param(
            "/topics/digital-government/",
            {"zh-hans": "课题说明", "en": "Challenge brief"},
            "数字政府",
            id="topic",
        ),
        pytest.param(
            "/cohorts/",
            {
                "zh-hans": "每期班级用8个月时间围绕六大课题共创。",
                "en": "Each cohort works for eight months on the six topics.",
            },
            "WeCity 加速器第一期",
            id="cohort-list",
        ),
        pytest.param(
            "/cohorts/cohort-1/",
            {"zh-hans": "学员名录", "en": "Directory"},
            "李明",
            id="cohort",
        ),
    ],
)
def test_content_page_shows_chinese_content_in_the_requested_interface_language(
    client, programme, url, interface, content, language
):
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)

    assert (
        response.status_code,
        html_lang(response),
        texts(elements(response.text, '<nav class="site-nav"')[0], "<a"),
        interface[language] in response.text,
        content in response.text,
    ) == (200, language, NAV[language], True, True)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize(
    ("url", "status", "heading"),
    [
        pytest.param("/accounts/login/", 200, {"zh-hans": "登录", "en": "Sign in"}, id="login"),
        pytest.param(
            "/accounts/password/reset/",
            200,
            {"zh-hans": "密码重置", "en": "Password Reset"},
            id="password-reset",
        ),
        pytest.param(
            "/forums/no-such-forum/",
            404,
            {"zh-hans": "页面未找到", "en": "Page not found"},
            id="not-found",
        ),
    ],
)
def test_account_and_error_page_speaks_the_requested_language(
    client, url, status, heading, language
):
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)

    assert (
        response.status_code,
        html_lang(response),
        texts(elements(response.text, '<nav class="site-nav"')[0], "<a"),
        texts(response.text, "<h1"),
    ) == (status, language, NAV[language], [heading[language]])


def language_link(page, code):
    """The href of the header's link to `code`, as the page shows it."""
    link = re.search(rf'<a href="([^"]+)" lang="{code}"', page.text)
    return link.group(1).replace("&amp;", "&")


def test_language_switch_renders_the_next_page_in_english(client, programme):
    page = client.get("/forums/city-roundtable/", HTTP_ACCEPT_LANGUAGE="zh-hans")

    switch = client.get(language_link(page, "en"))
    # The choice outlasts the browser's own preference.
    page = client.get(switch.url, HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert (
        switch.url,
        client.cookies["django_language"].value,
        client.cookies["django_language"]["samesite"],
        html_lang(page),
        texts(page.text, '<h2 id="highlights-title"'),
        texts(page.text, "<h1"),
    ) == ("/forums/city-roundtable/", "en", "Lax", "en", ["Highlights"], [HEADLINE])


def test_language_switch_back_to_chinese(client):
    client.get(reverse("switch-language", kwargs={"code": "en"}) + "?next=/")
    topics = client.get("/topics/?page=1")

    switch = client.get(language_link(topics, "zh-hans"))
    page = client.get(switch.url, HTTP_ACCEPT_LANGUAGE="en")

    assert (switch.url, html_lang(page), texts(page.text, "<h1")) == (
        "/topics/?page=1",
        "zh-hans",
        ["课题"],
    )


def test_language_switch_marks_the_current_language_and_needs_no_form(client):
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en")

    assert re.findall(
        r'class="lang-switch__button is-current" aria-current="true">([^<]+)<', page.text
    ) == ["English"]
    assert "csrfmiddlewaretoken" not in page.text  # a public page holds no visitor's token


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "javascript:alert(1)", ""]
)
def test_language_switch_never_leaves_the_portal(client, target):
    switch = client.get(reverse("switch-language", kwargs={"code": "en"}), {"next": target})

    assert (switch.status_code, switch.url) == (302, "/")


def test_language_switch_refuses_a_language_the_portal_does_not_speak(client):
    response = client.get(reverse("switch-language", kwargs={"code": "fr"}) + "?next=/")

    assert (response.status_code, "django_language" in response.cookies) == (404, False)


# --- Query budget -------------------------------------------------------------------------


class PageData(NamedTuple):
    """A page with SMALL rows of everything it lists, and how to grow them to LARGE."""

    url: str
    grow: Callable[[], None]
    item: str  # HTML that appears once per listed row
    items_at_large_size: int


def home_page():
    forum = published_forum()

    def grow(count):
        for _ in range(count):
            appearance = AppearanceFactory(forum=forum)
            QuoteFactory(forum=forum, speaker=appearance.speaker, featured=True)
            TopicFactory()
            published_forum(starts_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC))

    grow(SMALL)
    return PageData("/", lambda: grow(LARGE - SMALL), '<li class="highlight">', LARGE)


def forum_list_page():
    # Listed with their status to organisers only.
    ForumFactory()
    RecapFactory()

    def grow(count):
        RecapFactory.create_batch(count, published=True)

    grow(SMALL)
    return PageData("/forums/", lambda: grow(LARGE - SMALL), '<li class="entry">', PAGE_SIZE)


def forum_page():
    forum = published_forum()
    themes = ThemeFactory.create_batch(SMALL, forum=forum)

    def grow(count):
        appearances = AppearanceFactory.create_batch(
            count, forum=forum, role=factory.Iterator(Appearance.Role)
        )
        for appearance in appearances:
            QuoteFactory(forum=forum, speaker=appearance.speaker, featured=True)
        for theme in themes:
            TranscriptTurnFactory.create_batch(count, theme=theme)
        forum.released_topics.add(*TopicFactory.create_batch(count))

    grow(SMALL)
    return PageData(
        forum.get_absolute_url(),
        lambda: grow(LARGE - SMALL),
        '<div class="turn">',
        LARGE * SMALL,
    )


def speaker_list_page():
    forum = published_forum()

    def grow(count):
        AppearanceFactory.create_batch(count, forum=forum)

    grow(SMALL)
    return PageData("/speakers/", lambda: grow(LARGE - SMALL), '<li class="person">', PAGE_SIZE)


def speaker_page():
    speaker = SpeakerFactory()

    def grow(count):
        for _ in range(count):
            forum = published_forum()
            AppearanceFactory(forum=forum, speaker=speaker)
            theme = ThemeFactory(forum=forum)
            QuoteFactory(forum=forum, speaker=speaker, theme=theme, approved=True)

    grow(SMALL)
    return PageData(
        speaker.get_absolute_url(), lambda: grow(LARGE - SMALL), '<li class="highlight">', LARGE
    )


def topic_list_page():
    def grow(count):
        TopicFactory.create_batch(count)

    grow(SMALL)
    return PageData("/topics/", lambda: grow(LARGE - SMALL), '<li class="card">', LARGE)


def topic_page():
    topic = TopicFactory()
    cohort = CohortFactory()

    def grow(count):
        MemberFactory.create_batch(count, cohort=cohort, topic=topic, is_public=True)
        MemberFactory.create_batch(count, cohort=cohort, topic=topic, is_public=False)
        DeliverableFactory.create_batch(
            count,
            topic=topic,
            milestone__cohort=cohort,
            milestone__starts_at=timezone.now() + datetime.timedelta(days=7),
        )

    grow(SMALL)
    return PageData(
        topic.get_absolute_url(), lambda: grow(LARGE - SMALL), '<li class="person">', LARGE
    )


def cohort_list_page():
    def grow(count):
        for cohort in CohortFactory.create_batch(count):
            MemberFactory(cohort=cohort, is_public=True)

    grow(SMALL)
    return PageData("/cohorts/", lambda: grow(LARGE - SMALL), '<li class="entry">', PAGE_SIZE)


def cohort_page():
    cohort = CohortFactory()

    def grow(count):
        for topic in TopicFactory.create_batch(count):
            MemberFactory(cohort=cohort, topic=topic, is_public=True)
            MemberFactory(cohort=cohort, topic=topic, is_public=False)
            MilestoneFactory(cohort=cohort, topic=topic)

    grow(SMALL)
    return PageData(
        cohort.get_absolute_url(), lambda: grow(LARGE - SMALL), '<li class="person">', LARGE
    )


def assert_queries_do_not_grow(client, page, django_assert_max_num_queries):
    """Count the page's queries at the small size, grow its data, and allow no more queries.

    Returns the small count and the response at the large size.
    """
    with CaptureQueriesContext(connection) as small:
        client.get(page.url)
    page.grow()
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(page.url)
    return len(small.captured_queries), response


@pytest.mark.parametrize("viewer", ["anonymous", "organiser"])
@pytest.mark.parametrize(
    "make_page",
    [
        home_page,
        forum_list_page,
        forum_page,
        speaker_list_page,
        speaker_page,
        topic_list_page,
        topic_page,
        cohort_list_page,
        cohort_page,
    ],
)
def test_page_queries_do_not_grow_with_its_data(
    client, organiser, django_assert_max_num_queries, make_page, viewer
):
    if viewer == "organiser":
        client.force_login(organiser)
    page = make_page()

    small, response = assert_queries_do_not_grow(client, page, django_assert_max_num_queries)

    assert (small <= QUERY_CEILING, response.text.count(page.item)) == (
        True,
        page.items_at_large_size,
    )


# --- Accounts -----------------------------------------------------------------------------


@pytest.mark.parametrize("typed_email", ["li.ming@example.com", "Li.Ming@Example.com"])
def test_sign_in_with_email_and_password_shows_the_name_in_the_header(client, typed_email):
    user = UserFactory(email="li.ming@example.com", name="李明")

    response = client.post(reverse("account_login"), {"login": typed_email, "password": PASSWORD})
    home = client.get(response.url)

    tools = account_tools(home)
    assert (
        response.url,
        get_user(client),
        texts(tools, '<span class="account-tools__user"'),
        re.findall(r'<form action="([^"]+)" method="post">', tools),
        texts(tools, "<button"),
    ) == ("/", user, ["李明"], ["/accounts/logout/"], ["退出"])


def test_sign_in_returns_to_the_page_it_was_asked_from(client):
    UserFactory(email="li.ming@example.com")

    response = client.post(
        "/accounts/login/?next=/cohorts/",
        {"login": "li.ming@example.com", "password": PASSWORD},
    )

    assert response.url == "/cohorts/"


def test_sign_out_shows_sign_in_in_the_header_again(client):
    client.post(
        reverse("account_login"),
        {"login": UserFactory(email="li.ming@example.com").email, "password": PASSWORD},
    )

    response = client.post(reverse("account_logout"))
    home = client.get(response.url)

    tools = account_tools(home)
    assert (
        response.url,
        get_user(client).is_authenticated,
        texts(tools, "<a"),
        re.findall(r'<a class="button button--small" href="([^"]+)"', tools),
    ) == ("/", False, ["登录"], ["/accounts/login/?next=/"])


def test_sign_in_with_a_wrong_password_shows_an_error_and_starts_no_session(client):
    UserFactory(email="li.ming@example.com", name="李明")

    response = client.post(
        reverse("account_login"), {"login": "li.ming@example.com", "password": "wrong password"}
    )

    assert (
        response.status_code,
        texts(response.text, '<ul class="errorlist nonfield"'),
        get_user(client).is_authenticated,
        texts(account_tools(response), "<a"),
    ) == (200, ["您提供的电子邮件地址和/或密码不正确。"], False, ["登录"])


def test_sign_in_page_offers_no_sign_up(client):
    response = client.get(reverse("account_login"))

    assert (
        texts(response.text, "<p")[0],
        "/accounts/signup/" in response.text,
    ) == ("请使用电子邮箱和密码登录。学员通过邀请加入项目。", False)


def test_sign_up_page_says_sign_up_is_closed(client):
    response = client.get("/accounts/signup/")

    assert (
        texts(response.text, "<h1"),
        texts(elements(response.text, "<main")[0], "<p"),
        "password1" in response.text,
    ) == (["注册关闭"], ["非常抱歉，当前已关闭注册。"], False)


def test_sign_up_post_creates_no_account(client):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "new@example.com",
            "password1": "a-long-pass-1234",
            "password2": "a-long-pass-1234",
        },
    )

    assert (texts(response.text, "<h1"), User.objects.filter(email="new@example.com").count()) == (
        ["注册关闭"],
        0,
    )


# --- Errors and health --------------------------------------------------------------------


def test_500_template_renders_without_a_context():
    html = get_template("500.html").render()

    assert (
        texts(html, "<h1"),
        texts(html, '<p lang="en"'),
        re.findall(r'<a class="button" href="([^"]+)"', html),
    ) == (
        ["服务器出错了"],
        [
            "Sorry, something went wrong on our side. "
            "The problem has been logged; please try again later."
        ],
        ["/"],
    )


def test_view_that_raises_gives_the_500_page(settings):
    settings.ROOT_URLCONF = __name__
    client = Client(raise_request_exception=False)

    response = client.get("/broken/")

    assert (response.status_code, texts(response.text, "<h1")) == (500, ["服务器出错了"])


def test_healthz_answers_ok_uncached(client):
    response = client.get(reverse("healthz"))

    assert (response.json(), response["Cache-Control"]) == (
        {"status": "ok"},
        "max-age=0, no-cache, no-store, must-revalidate, private",
    )
