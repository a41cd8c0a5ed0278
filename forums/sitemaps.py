"""sitemap.xml: the public pages, each public recap, speaker, topic and cohort."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from cohorts.models import Cohort
from forums.models import Forum, Speaker
from topics.models import Topic


class PortalSitemap(Sitemap):
    """URLs in SITE_URL's scheme (the Site's domain is set from SITE_URL by a migration)."""

    @property
    def protocol(self):
        return urlsplit(settings.SITE_URL).scheme


class StaticPagesSitemap(PortalSitemap):
    def items(self):
        return [
            "home",
            "forums:forum-list",
            "forums:speaker-list",
            "topics:topic-list",
            "cohorts:cohort-list",
        ]

    def location(self, item):
        return reverse(item)


class RecapSitemap(PortalSitemap):
    def items(self):
        return Forum.objects.published().select_related("recap").order_by("id")

    def lastmod(self, forum):
        return forum.recap.updated_at


class SpeakerSitemap(PortalSitemap):
    def items(self):
        # Exactly what an anonymous visitor may open: speakers of public forums.
        return Speaker.objects.visible_to(AnonymousUser()).order_by("id")


class TopicSitemap(PortalSitemap):
    def items(self):
        return Topic.objects.order_by("position", "id")


class CohortSitemap(PortalSitemap):
    def items(self):
        return Cohort.objects.order_by("-starts_on", "-id")


SITEMAPS = {
    "pages": StaticPagesSitemap,
    "recaps": RecapSitemap,
    "speakers": SpeakerSitemap,
    "topics": TopicSitemap,
    "cohorts": CohortSitemap,
}
