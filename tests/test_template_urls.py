"""wecity.template_urls: the templates' {% url %}, remembered, writes what Django's writes."""

from urllib.parse import quote

import pytest
from django.template import Context, Template
from django.template.engine import Engine
from django.test import RequestFactory
from django.urls import NoReverseMatch, clear_script_prefix, resolve, set_script_prefix

from forums.models import Speaker
from wecity import urls_cache
from wecity.template_urls import RememberedURLNode

DJANGOS = Engine(builtins=[])  # Django's own built-in tags only
OURS = Engine(builtins=["wecity.template_urls"])

USES = [
    "{% url 'home' %}",
    "{% url 'forums:speaker-list' %}?page=2",
    "{% url 'forums:speaker-detail' slug %}",
    "{% url 'forums:speaker-detail' slug=slug %}",
    "{% url 'forums:quote-detail' pk=7 %}",
    "{% url 'switch-language' 'en' %}",
    "{% url view_name slug=slug %}",
    "{% url 'forums:speaker-detail' slug=speaker.slug %}",
    "{% url 'forums:speaker-detail' slug=speaker.slug as link %}[{{ link }}]",
    "{% url 'no-such-page' as link %}[{{ link }}]",
    # True and 1 are equal as keys, not as URLs.
    "{% url 'switch-language' flag %} {% url 'switch-language' one %}"
    " {% url 'switch-language' flag %}",
]


@pytest.fixture(autouse=True)
def forgotten():
    urls_cache.reversed_url.cache_clear()
    yield
    urls_cache.reversed_url.cache_clear()
    clear_script_prefix()


def context(**extra):
    request = RequestFactory().get("/speakers/")
    request.resolver_match = resolve("/speakers/")
    return Context(
        {
            "request": request,
            "slug": "王晓明",
            "view_name": "forums:speaker-detail",
            "speaker": Speaker(slug="wang-2"),
            "flag": True,
            "one": 1,
            **extra,
        }
    )


def render(engine, source, **extra):
    made = context(**extra)
    made.request = made["request"]
    return engine.from_string(source).render(made)


@pytest.mark.parametrize("source", USES)
def test_it_writes_what_djangos_url_writes(source):
    expected = render(DJANGOS, source)

    assert (render(OURS, source), render(OURS, source)) == (expected, expected)


def test_a_url_that_does_not_exist_fails_as_with_django():
    with pytest.raises(NoReverseMatch):
        render(OURS, "{% url 'no-such-page' %}")


def test_the_same_url_is_reversed_once(monkeypatch):
    calls = []
    reverse = urls_cache.reverse
    monkeypatch.setattr(
        urls_cache, "reverse", lambda *a, **kw: calls.append(a) or reverse(*a, **kw)
    )

    pages = [render(OURS, "{% url 'forums:speaker-detail' slug=slug %}") for _ in range(3)]
    other = render(OURS, "{% url 'forums:speaker-detail' slug=slug %}", slug="li-ming")

    assert (pages, other, len(calls)) == ([quote("/speakers/王晓明/")] * 3, "/speakers/li-ming/", 2)


def test_an_argument_that_is_not_a_plain_value_is_reversed_each_time(monkeypatch):
    calls = []
    monkeypatch.setattr(
        "wecity.template_urls.reverse", lambda *a, **kw: calls.append(a) or "/somewhere/"
    )

    render(OURS, "{% url 'forums:speaker-detail' slug=speaker %}")
    render(OURS, "{% url 'forums:speaker-detail' slug=speaker %}")

    assert len(calls) == 2


def test_a_new_script_prefix_gives_new_urls():
    before = render(OURS, "{% url 'home' %}")
    set_script_prefix("/portal/")

    assert (before, render(OURS, "{% url 'home' %}")) == ("/", "/portal/")


def test_the_portals_templates_use_it():
    assert isinstance(Template("{% url 'home' %}").nodelist[0], RememberedURLNode)
