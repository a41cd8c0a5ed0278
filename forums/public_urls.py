"""Feeds and the sitemap, at the site's root: included without a namespace."""

from django.contrib.sitemaps.views import sitemap
from django.urls import path

from forums.feeds import RecapsAtomFeed, RecapsRssFeed
from forums.sitemaps import SITEMAPS

urlpatterns = [
    path("feeds/recaps.rss", RecapsRssFeed(), name="recaps-rss"),
    path("feeds/recaps.atom", RecapsAtomFeed(), name="recaps-atom"),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
]
