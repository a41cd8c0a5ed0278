"""reverse() remembered, for the URLs that pages write by the hundred.

A recap links each speaker, a speaker's page each forum and quote, the directory twenty
speakers, and every page's header and footer a dozen pages more: reverse() walks the URL
patterns each time, a good part of such a page's cost. A URL is the same until the URLconf
or the script prefix changes, and both are part of the key. `object_url` serves models'
get_absolute_url(), `wecity.template_urls` the templates' {% url %}.
"""

import functools

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse


def object_url(viewname, **kwargs):
    """reverse(viewname, kwargs=kwargs), computed once per URLconf and script prefix."""
    return remembered_reverse(viewname, kwargs=tuple(kwargs.items()))


def remembered_reverse(viewname, *, args=(), kwargs=(), current_app=None):
    """reverse() of a view name with `args` and `kwargs` (tuples of (name, value) pairs) of
    hashable values that stand for themselves in a URL (strings, numbers), remembered."""
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    return reversed_url(urlconf, get_script_prefix(), viewname, args, kwargs, current_app)


@functools.lru_cache(maxsize=8192)
def reversed_url(urlconf, prefix, viewname, args, kwargs, current_app):
    # `prefix` is only a key: reverse() reads the same script prefix of this thread.
    return reverse(
        viewname, urlconf=urlconf, args=args, kwargs=dict(kwargs), current_app=current_app
    )
