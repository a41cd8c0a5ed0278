"""Markdown written in the browser, rendered to HTML that is safe to show to anyone."""

import functools

import nh3
from django.utils.safestring import mark_safe
from markdown_it import MarkdownIt

# CommonMark with raw HTML off; nh3 (ammonia) then keeps only this allow-list, so nothing
# an author writes, pastes or imports can run in a reader's browser.
_markdown = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])

ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "blockquote", "ul", "ol", "li",
    "strong", "em", "s", "code", "pre", "a", "img",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}


@functools.lru_cache(maxsize=128)
def render_markdown(text):
    """Markdown to sanitised HTML, marked safe for templates.

    Kept for the texts rendered last (a process's recaps, read again and again): the same
    text always gives the same HTML.
    """
    html = _markdown.render(text or "")
    return mark_safe(  # nh3 has just cleaned it
        nh3.clean(
            html,
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            url_schemes=URL_SCHEMES,
            link_rel="noopener noreferrer nofollow",
        )
    )
