"""What search engines and link previews read about a recap: canonical URL, OpenGraph, JSON-LD.

Everything here works on objects the recap page has already loaded, and runs no query.
"""

import json
import re
from dataclasses import dataclass
from urllib.parse import urljoin

from django.conf import settings
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext

from forums.models import Recap

DESCRIPTION_LENGTH = 150

# Inside <script> the HTML parser ends the element at the first "</script", whatever JSON
# thinks of it: escaping these characters as JSON's \u escapes keeps the data inside.
JSON_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


@dataclass(frozen=True)
class PageMeta:
    """The values of a recap page's <head> meta elements."""

    canonical_url: str
    title: str
    description: str
    image_url: str
    published_time: str  # ISO 8601; empty while the recap has never been public
    modified_time: str
    is_public: bool
    json_ld: SafeString


def absolute_url(path):
    """An absolute URL on the portal's public address (SITE_URL), whatever the request's host."""
    return urljoin(settings.SITE_URL, path)


def is_public(recap, *, now=None):
    """The rule of `Forum.objects.published()`, for one recap already in memory."""
    if recap is None:
        return False
    now = now or timezone.now()
    return recap.status == Recap.Status.PUBLISHED or (
        recap.status == Recap.Status.SCHEDULED and recap.publish_at <= now
    )


def public_since(recap):
    """When the recap went (or goes) public: a scheduled recap counts from its publish_at."""
    if recap is None:
        return None
    if recap.published_at:
        return recap.published_at
    return recap.publish_at if recap.status == Recap.Status.SCHEDULED else None


def iso_datetime(value):
    return timezone.localtime(value).replace(microsecond=0).isoformat() if value else ""


def first_paragraph(text):
    paragraphs = re.split(r"\n\s*\n", text.strip(), maxsplit=1)
    return " ".join(paragraphs[0].split())


def json_ld_script_content(data):
    """JSON for a <script type="application/ld+json"> element; it cannot close the element."""
    return mark_safe(json.dumps(data, ensure_ascii=False).translate(JSON_SCRIPT_ESCAPES))


def speakers_of(appearances):
    """A forum's speakers as schema.org Persons, each once, with their affiliation then;
    from its appearances, loaded with their speakers by the view.
    """
    people, seen = [], set()
    for appearance in appearances:
        if appearance.speaker_id in seen:
            continue
        seen.add(appearance.speaker_id)
        person = {
            "@type": "Person",
            "name": appearance.speaker.name,
            "url": absolute_url(appearance.speaker.get_absolute_url()),
        }
        if appearance.title:
            person["jobTitle"] = appearance.title
        if appearance.organisation:
            person["affiliation"] = {"@type": "Organization", "name": appearance.organisation}
        people.append(person)
    return people


def page_meta(forum, recap, headline, appearances):
    """The meta of a forum's recap page, from the forum, its recap and its appearances (with
    their speakers)."""
    canonical_url = absolute_url(forum.get_absolute_url())
    description = Truncator(first_paragraph(forum.lede) or forum.title).chars(DESCRIPTION_LENGTH)
    image_url = absolute_url(forum.cover_image.url) if forum.cover_image else ""
    published_time = iso_datetime(public_since(recap))
    modified_time = iso_datetime(recap.updated_at) if recap else ""
    organisation = {"@type": "Organization", "name": gettext("WeCity Accelerator")}

    article = {
        "@context": "https://schema.org",
        "@type": "Article",
        "headline": headline,
        "description": description,
        "mainEntityOfPage": canonical_url,
        "inLanguage": "zh-Hans",
        "author": organisation,
        "publisher": organisation,
    }
    if published_time:
        article["datePublished"] = published_time
    if modified_time:
        article["dateModified"] = modified_time
    if image_url:
        article["image"] = image_url
    speakers = speakers_of(appearances)
    if speakers:
        article["about"] = speakers

    return PageMeta(
        canonical_url=canonical_url,
        title=headline,
        description=description,
        image_url=image_url,
        published_time=published_time,
        modified_time=modified_time,
        is_public=is_public(recap),
        json_ld=json_ld_script_content(article),
    )
