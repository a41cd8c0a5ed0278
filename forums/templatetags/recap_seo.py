"""The recap page's <head> meta: `{% recap_meta forum recap headline %}`."""

from django import template

from forums.seo import page_meta

register = template.Library()


@register.inclusion_tag("forums/includes/recap_meta.html")
def recap_meta(forum, recap, headline):
    """Canonical URL, OpenGraph, Twitter card and JSON-LD; expects appearances prefetched."""
    return {"meta": page_meta(forum, recap, headline)}
