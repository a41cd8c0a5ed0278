"""reverse() remembered, for the URLs that pages write by the hundred.

A recap links each speaker, a speaker's page each forum and quote, the directory twenty
speakers: reverse() walks the URL patterns each time, a good part of such a page's cost.
A URL is the same until the URLconf or the script prefix changes, and both are part of
the key.
"""

import functools

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse


def object_url(viewname, **kwargs):
    """reverse(viewname, kwargs=kwargs), computed once per URLconf and script prefix."""
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    return reversed_url(urlconf, get_script_prefix(), viewname, tuple(kwargs.items()))


@functools.lru_cache(maxsize=8192)
def reversed_url(urlconf, prefix, viewname, items):
    # `prefix` is only a key: reverse() reads the same script prefix of this thread.
    return reverse(viewname, urlconf=urlconf, kwargs=dict(items))
