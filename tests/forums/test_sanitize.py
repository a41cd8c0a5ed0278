"""Markdown from the browser never carries script into a page."""

from html.parser import HTMLParser

import pytest

from forums.sanitize import ALLOWED_TAGS, render_markdown
from tests.factories import RecapFactory


class Elements(HTMLParser):
    """The elements of an HTML fragment with their attributes (text is inert, not counted)."""

    def __init__(self, html):
        super().__init__()
        self.found = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    "![x](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    "<iframe src=https://example.org></iframe>",
    '<svg onload="alert(1)"></svg>',
    '<p style="background:url(javascript:alert(1))">x</p>',
    "[x](JaVaScRiPt:alert(1))",
    "<<script>script>alert(1)<</script>/script>",
    '<details open ontoggle="alert(1)">',
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
]


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_render_markdown_leaves_no_script_in_the_html(payload):
    html = render_markdown(f"智慧城市 {payload} 数据与价值")

    elements = Elements(html).found
    assert {tag for tag, _ in elements} <= ALLOWED_TAGS
    assert [
        (tag, name, value)
        for tag, attrs in elements
        for name, value in attrs.items()
        if name.startswith("on")
        or name == "style"
        or (name in {"href", "src"} and not value.startswith(("https:", "http:", "mailto:")))
    ] == []
    assert "智慧城市" in html and "数据与价值" in html


def test_render_markdown_keeps_the_formatting_an_organiser_writes():
    html = render_markdown(
        "## 城市与未来\n\n**数据为民**，让数据多跑路。\n\n- 精准服务\n- 隐私保护\n\n"
        "[腾讯WeCity](https://example.org/wecity)"
    )

    assert html == (
        "<h2>城市与未来</h2>\n<p><strong>数据为民</strong>，让数据多跑路。</p>\n"
        "<ul>\n<li>精准服务</li>\n<li>隐私保护</li>\n</ul>\n"
        '<p><a href="https://example.org/wecity" rel="noopener noreferrer nofollow">'
        "腾讯WeCity</a></p>\n"
    )


def test_render_markdown_of_nothing_is_empty():
    assert render_markdown("") == ""
    assert render_markdown(None) == ""


@pytest.mark.django_db
def test_recap_page_shows_the_body_rendered_and_sanitised(client):
    recap = RecapFactory(
        published=True,
        body='**数据为民**\n\n<script>alert("x")</script>\n\n[x](javascript:alert(1))',
    )

    response = client.get(recap.forum.get_absolute_url())

    body = response.content.decode()
    assert "<strong>数据为民</strong>" in body
    assert '<script>alert("x")</script>' not in body
    assert 'href="javascript:' not in body
