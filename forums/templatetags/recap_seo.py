"""The recap page's <head> meta: `{% recap_meta forum recap headline appearances %}`."""

from django import template

from forums.seo import page_meta

register = template.Library()


@register.inclusion_tag("forums/includes/recap_meta.html")
def recap_meta(forum, recap, headline, appearances):
    """Canonical URL, OpenGraph, Twitter card and JSON-LD; `appearances` with their speakers."""
    return {"meta": page_meta(forum, recap, headline, appearances)}
