"""RSS and Atom feeds of the latest public recaps."""

from django.contrib.syndication.views import Feed
from django.db.models import F
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _

from forums.models import Forum
from forums.seo import absolute_url

FEED_SIZE = 20


def headline(forum):
    return forum.recap.headline or forum.title


class RecapsRssFeed(Feed):
    """The 20 most recently published recaps, newest first, linked by their canonical URL."""

    url_name = "recaps-rss"
    title = _("WeCity Accelerator forum recaps")
    description = _("The latest recaps of the WeCity Accelerator roundtable forums.")
    author_name = _("WeCity Accelerator")
    item_author_name = author_name
    item_guid_is_permalink = True
    language = "zh-hans"  # the language of the recaps, whatever the reader's interface

    def link(self):
        return absolute_url(reverse("forums:forum-list"))

    def feed_url(self):
        return absolute_url(reverse(self.url_name))

    def items(self):
        # A scheduled recap whose time has passed is public before the task stamps
        # published_at: it is dated by its publish_at until then.
        return (
            Forum.objects.published()
            .select_related("recap")
            .annotate(public_at=Coalesce("recap__published_at", "recap__publish_at"))
            .order_by(F("public_at").desc(), "-id")[:FEED_SIZE]
        )

    def item_title(self, forum):
        # RSS readers commonly read titles as HTML, so the plain text is escaped once more
        # (Django's own default, ticket #6533); Atom says its titles are text.
        return escape(headline(forum))

    def item_description(self, forum):
        # The lede is plain text and the description is HTML: escape it, never pass markup.
        return escape(forum.lede)

    def item_link(self, forum):
        return absolute_url(forum.get_absolute_url())

    def item_pubdate(self, forum):
        return forum.public_at

    def item_updateddate(self, forum):
        return forum.recap.updated_at


class RecapsAtomFeed(RecapsRssFeed):
    feed_type = Atom1Feed
    url_name = "recaps-atom"
    subtitle = RecapsRssFeed.description

    def item_title(self, forum):
        return headline(forum)
