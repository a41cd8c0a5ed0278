"""The page cache: whole responses of public pages and API reads, for anonymous visitors.

A page is cached only for visitors who are not signed in, per language and full address,
and only if nothing in it belongs to one visitor: no cookie set by the page, no message
shown, no session written, no CSP nonce used, no CSRF token (the public pages hold no form
that posts: the language switch is a link).

Invalidation is by tags. `PAGES` and `API` name, for each URL name, the tags of what its
page shows ("forums", "forum:<slug>" …). Each tag has a version in the cache, and a stored
page holds the versions its tags had when it was built, so `touch(tag)` gives the tag a new
version and every page showing it no longer matches: it is built again at its next request.
`wecity.pagecache_signals` touches the tags of whatever a write changes.

A hit costs one cache round trip (the tag versions and the page, in one MGET) and no query;
an API read one more, for its rate limit. Hits are served by `CachedPagesApp`, around
Django's WSGI application, before Django builds a request or runs any middleware. The
middleware serves what the WSGI layer leaves to Django (a visitor with a session cookie
who is not signed in), and stores pages and API answers at the end of the middleware
chain, with every header the others added. The setting is PAGE_CACHE_SECONDS; 0 turns the
cache off.
"""

import functools
import hashlib
import logging
import secrets
from dataclasses import dataclass
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIRequest
from django.db import transaction
from django.http import HttpResponse
from django.http.cookie import parse_cookie
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.cache import get_conditional_response
from django.utils.deprecation import MiddlewareMixin
from django.utils.http import parse_http_date_safe, quote_etag

from wecity.api_policies import COUNTED, CountedRateThrottle
from wecity.caches import get_many_and_count

logger = logging.getLogger(__name__)

# --- Tags -------------------------------------------------------------------------------------

# Every page carries this tag: touched when invalidations were lost (see `recover`).
EVERYTHING = "*"
# The lists, and what pages show of every forum, speaker, quote, topic or cohort.
FORUMS = "forums"
SPEAKERS = "speakers"
QUOTES = "quotes"
TOPICS = "topics"
COHORTS = "cohorts"


def forum(slug):
    return f"forum:{slug}"


def speaker(slug):
    return f"speaker:{slug}"


def quote_tag(pk):
    return f"quote:{pk}"


def topic(slug):
    return f"topic:{slug}"


def cohort(slug):
    return f"cohort:{slug}"


# What each public page shows, by URL name: a function of the URL's keyword arguments.
PAGES = {
    "home": lambda kw: [FORUMS, TOPICS],
    "forums:forum-list": lambda kw: [FORUMS],
    "forums:forum-detail": lambda kw: [forum(kw["slug"]), TOPICS],
    # The directory's filter lists the public forums.
    "forums:speaker-list": lambda kw: [SPEAKERS, FORUMS],
    "forums:speaker-detail": lambda kw: [speaker(kw["slug"])],
    "forums:quote-detail": lambda kw: [quote_tag(kw["pk"])],
    "topics:topic-list": lambda kw: [TOPICS],
    # A topic's page lists the latest cohort's members in it and their next deliverables.
    "topics:topic-detail": lambda kw: [topic(kw["slug"]), COHORTS],
    "cohorts:cohort-list": lambda kw: [COHORTS],
    "cohorts:cohort-detail": lambda kw: [cohort(kw["slug"]), TOPICS],
    "schedule:cohort-feed": lambda kw: [cohort(kw["slug"]), TOPICS],
    "recaps-rss": lambda kw: [FORUMS],
    "recaps-atom": lambda kw: [FORUMS],
    "sitemap": lambda kw: [FORUMS, SPEAKERS, TOPICS, COHORTS],
}
# The API's reads of public resources, cached like pages.
API = {
    "api-v1:forum-list": lambda kw: [FORUMS, TOPICS],
    "api-v1:forum-detail": lambda kw: [forum(kw["slug"]), TOPICS],
    "api-v1:forum-turn-list": lambda kw: [forum(kw["forum_slug"])],
    "api-v1:forum-turn-detail": lambda kw: [forum(kw["forum_slug"])],
    "api-v1:recap-list": lambda kw: [FORUMS],
    "api-v1:recap-detail": lambda kw: [forum(kw["forum_slug"])],
    "api-v1:speaker-list": lambda kw: [SPEAKERS, FORUMS],
    "api-v1:speaker-detail": lambda kw: [speaker(kw["slug"])],
    "api-v1:quote-list": lambda kw: [QUOTES],
    "api-v1:quote-detail": lambda kw: [quote_tag(kw["pk"])],
    "api-v1:topic-list": lambda kw: [TOPICS],
    "api-v1:topic-detail": lambda kw: [topic(kw["slug"])],
    "api-v1:cohort-list": lambda kw: [COHORTS],
    "api-v1:cohort-detail": lambda kw: [cohort(kw["slug"])],
}

TAG_PREFIX = "pagecache:tag:"
PAGE_PREFIX = "pagecache:page:"
DATA_PREFIX = "pagecache:data:"
# Tag versions outlive the pages stored under them; one that expires gets a new random
# version, which only makes its pages miss once.
TAG_SECONDS = 24 * 60 * 60

# Invalidations this process made while the cache answered from a fallback (they never
# reached the shared cache): everything is touched once it answers again.
lost_invalidations = False


def enabled():
    return settings.PAGE_CACHE_SECONDS > 0


def shared_cache():
    """Whether other processes read this cache: then writes here touch tags even with the
    page cache off in this process (a Celery worker started without PAGE_CACHE_SECONDS).
    """
    return not settings.CACHES["default"]["BACKEND"].endswith(".LocMemCache")


def touching():
    """Whether writes here touch tags: the page cache is on here, or others share the cache."""
    return enabled() or shared_cache()


def falling_back():
    """Whether the cache answered its last operation from a fallback (wecity.caches)."""
    return getattr(cache, "is_falling_back", False)


def tag_key(tag):
    # Slugs may be Chinese: percent-encoded, a key is the same in every cache backend.
    return TAG_PREFIX + quote(tag, safe=":*")


def new_version():
    return secrets.token_hex(8)


def bump(tags):
    global lost_invalidations
    try:
        cache.set_many({tag_key(tag): new_version() for tag in tags}, TAG_SECONDS)
    except Exception:
        # A write must not fail because the cache does; its pages expire by themselves.
        logger.exception("Page cache: could not touch %s", ", ".join(sorted(tags)))
        lost_invalidations = True
        return
    if falling_back():
        lost_invalidations = True


def touch(*tags):
    """New versions for `tags`: pages showing them are built again at their next request.

    Done at once, and again when the current transaction commits, so that a page rebuilt
    in between from what was not yet committed is not kept.
    """
    if not tags or not touching():
        return
    tags = frozenset(tags)
    recover()
    bump(tags)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: bump(tags))


def recover():
    """Touch every page once the cache answers again after invalidations were lost."""
    global lost_invalidations
    if not lost_invalidations:
        return
    lost_invalidations = False
    bump({EVERYTHING})


def tag_versions(tags):
    """The current version of each tag, in order: a new one for a tag never seen."""
    keys = [tag_key(tag) for tag in tags]
    versions = cache.get_many(keys)
    for key in keys:
        if key not in versions:
            version = new_version()
            # Whoever adds first wins; the others read what it added.
            if not cache.add(key, version, TAG_SECONDS):
                version = cache.get(key) or version
            versions[key] = version
    return [versions[key] for key in keys]


def remember(name, tags, compute):
    """What `compute()` returns, kept under the versions of `tags` like a page: computed
    again once one of them is touched. For figures many pages ask and few writes change
    (the speaker directory's organisations and count), so that a page Django builds does
    not run them over the whole table each time. Where touches do not reach this cache
    (the page cache off on a cache of this process's own), always computed.
    """
    if not touching():
        return compute()
    key = DATA_PREFIX + quote(name, safe=":")
    tag_keys = [tag_key(tag) for tag in tags]
    try:
        values = cache.get_many([*tag_keys, key])
        versions = [values.get(tag_key) for tag_key in tag_keys]
        kept = values.get(key)
        if not falling_back() and None not in versions and kept and kept["versions"] == versions:
            return kept["value"]
        if None in versions:
            versions = tag_versions(tags)  # before computing: a touch meanwhile makes it stale
    except Exception:
        logger.exception("Page cache: could not read %s", name)
        return compute()
    value = compute()
    try:
        if not falling_back():
            cache.set(key, {"versions": versions, "value": value}, TAG_SECONDS)
    except Exception:
        logger.exception("Page cache: could not keep %s", name)
    return value


# --- What is cached -----------------------------------------------------------------------------

# Django's {% csrf_token %}: a page holding a visitor's token is theirs, never stored.
CSRF_TOKEN = b'name="csrfmiddlewaretoken"'
# Headers that are the visitor's or the server's own, never stored.
UNSTORED_HEADERS = {"content-length", "etag", "x-page-cache"}


@dataclass
class Lookup:
    """The page cache's view of one request: its page's key, the versions of its tags when it
    was looked up (a stored page matches only these), the page if one matched, and for an
    API read looked up with its rate counter, the caller's count and the seconds it has left.
    """

    key: str
    is_api: bool
    versions: list
    stored: dict | None = None
    hit: bool = False
    count: int | None = None
    left: float | None = None


@dataclass(frozen=True)
class RateCounter:
    """The one rate limit of an API read that applies to an anonymous caller."""

    key: str
    seconds: int
    allowed: int


def look_up(request, tags, *, is_api, counter=None):
    """Read the tags' versions and the stored page (and count the request against `counter`,
    a RateCounter) in one round trip: a Lookup, or None while the cache answers from a
    fallback (other processes' invalidations would not reach it). A tag never seen gets its
    first version now, before the page is built, so that a touch while it is built makes
    what is stored stale.
    """
    recover()
    key = page_key(request)
    tag_keys = [tag_key(tag) for tag in tags]
    count = left = None
    if counter is None:
        values = cache.get_many([*tag_keys, key])
    else:
        values, count, left = get_many_and_count(
            cache, [*tag_keys, key], counter.key, counter.seconds
        )
    if falling_back():
        return None
    versions = [values.get(tag_key) for tag_key in tag_keys]
    if None in versions:
        return Lookup(key, is_api, tag_versions(tags), count=count, left=left)
    stored = values.get(key)
    if stored is not None and stored.get("versions") != versions:
        stored = None  # built before a tag it shows was touched
    return Lookup(key, is_api, versions, stored, count=count, left=left)


def entry_for(request):
    """(tags, is_api) of the request's page if the cache may serve it, else None."""
    match = request.resolver_match
    if match is None or request.method not in ("GET", "HEAD"):
        return None
    is_api = match.view_name in API
    tags_of = API.get(match.view_name) or PAGES.get(match.view_name)
    if tags_of is None:
        return None
    if is_api and not accepts_json(request):
        return None  # DRF answers 406; leave it to DRF
    if request.headers.get("Authorization") or request.user.is_authenticated:
        return None
    if len(get_messages(request)):
        return None  # the page must show them, and only to this visitor
    return [EVERYTHING, *tags_of(match.kwargs)], is_api


def accepts_json(request):
    # META, not request.headers: that builds a dict of every header, at each cached API read.
    accept = request.META.get("HTTP_ACCEPT", "*/*")
    return any(kind in accept for kind in ("*/*", "application/*", "application/json"))


def page_key(request):
    raw = f"{request.LANGUAGE_CODE}\n{request.build_absolute_uri()}"
    return PAGE_PREFIX + hashlib.sha256(raw.encode()).hexdigest()


def cache_control(response):
    directives = response.get("Cache-Control", "").split(",")
    return {directive.strip().split("=")[0].lower() for directive in directives}


def storable(request, response, lookup):
    """Whether this response is the same for every anonymous visitor, as the cache requires."""
    if response.status_code != 200 or response.streaming or response.cookies:
        return False
    directives = cache_control(response)
    # The API says `private` of every read since it depends on who asks; the cache keeps only
    # what it answers anonymous visitors, and gives it to no one else.
    if "no-store" in directives or ("private" in directives and not lookup.is_api):
        return False
    if any(name.startswith("_csp") for name in vars(response)):
        return False  # a policy of its own (django-csp's decorators), lost in the cache
    if getattr(request, "_csp_nonce", None):
        return False  # a nonce used in the page must match this response's policy only
    if request.user.is_authenticated or len(get_messages(request)):
        return False
    session = getattr(request, "session", None)
    return not (session is not None and session.modified)


def to_stored(response, versions):
    headers = [(k, v) for k, v in response.items() if k.lower() not in UNSTORED_HEADERS]
    # The API's own ETag (computed from its content) is kept; a page's is its digest.
    etag = response.get("ETag") or quote_etag(hashlib.sha256(response.content).hexdigest()[:32])
    return {
        "headers": [*headers, ("ETag", etag)],
        "content": response.content,
        "versions": versions,
    }


def from_stored(stored):
    response = HttpResponse(stored["content"])
    for name, value in stored["headers"]:
        response[name] = value
    return response


def conditional(request, response):
    """304 Not Modified for a matching If-None-Match or If-Modified-Since."""
    last_modified = response.get("Last-Modified")
    return get_conditional_response(
        request,
        etag=response.get("ETag"),
        last_modified=last_modified and parse_http_date_safe(last_modified),
        response=response,
    )


def rate_counter(request, view_func):
    """The RateCounter of the API view's one limit on this anonymous caller, counted with
    the page lookup; None when it has none, or limits the page cache cannot count so (those
    are checked by `throttles_allow`).
    """
    view_class = getattr(view_func, "cls", None)
    if view_class is None:
        return None
    throttles = [throttle_class() for throttle_class in view_class.throttle_classes]
    if not all(isinstance(throttle, CountedRateThrottle) for throttle in throttles):
        return None
    counters = [c for c in (throttle.counter(request) for throttle in throttles) if c]
    return RateCounter(*counters[0]) if len(counters) == 1 else None


def throttles_allow(request, view_func):
    """The API's rate limits count a cached answer as any other (DRF's throttles)."""
    view_class = getattr(view_func, "cls", None)
    if view_class is None:
        return True
    view = view_class()
    return all(throttle.allow_request(request, view) for throttle in view.get_throttles())


# --- The middleware ---------------------------------------------------------------------------


class PageCacheMiddleware(MiddlewareMixin):
    """Serves and stores the pages of `PAGES` and `API` (after the locale, session, CSRF,
    authentication and message middleware, whose results it reads).

    Answers carry `X-Page-Cache: hit` or `miss`, and an ETag (304 for If-None-Match).
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not enabled():
            return None
        entry = entry_for(request)
        if entry is None:
            return None
        tags, is_api = entry
        try:
            lookup = look_up(request, tags, is_api=is_api)
        except Exception:
            logger.exception("Page cache: could not read %s", request.path)
            return None
        if lookup is None:
            return None
        request.page_cache = lookup
        if lookup.stored is None:
            return None
        if is_api and not throttles_allow(request, view_func):
            return None  # the view answers 429
        lookup.hit = True
        return conditional(request, from_stored(lookup.stored))

    def process_response(self, request, response):
        lookup = getattr(request, "page_cache", None)
        if lookup is None:
            return response
        if lookup.hit:
            response["X-Page-Cache"] = "hit"
            return response
        response["X-Page-Cache"] = "miss"
        if not storable(request, response, lookup):
            return response
        if CSRF_TOKEN in response.content:
            return response
        stored = to_stored(response, lookup.versions)
        try:
            if not falling_back():
                cache.set(lookup.key, stored, settings.PAGE_CACHE_SECONDS)
        except Exception:
            logger.exception("Page cache: could not store %s", request.path)
        response["ETag"] = dict(stored["headers"])["ETag"]
        return conditional(request, response)


# --- Before Django --------------------------------------------------------------------------


class CachedPagesApp:
    """WSGI: a page stored for anonymous visitors is answered before Django builds its
    request, resolves the middleware chain and renders anything: the cost of a hit is that
    of one cache read, close to serving a file.

    Only where the answer would be the same through Django: GET or HEAD, no session or
    message cookie and no Authorization header (so not signed in, no message to show), a
    host Django allows, no redirect to HTTPS due, no NUL character, a page of `PAGES` or an
    API read of `API` within the caller's rate limits (counted here as Django would).
    Anything else, and a miss, goes to Django, whose middleware stores the page for the
    next visitor.
    """

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        stored = None
        if enabled() and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            try:
                stored = self.stored_page(environ)
            except Exception:
                logger.exception("Page cache: could not read %s", environ.get("PATH_INFO"))
        if stored is None:
            return self.application(environ, start_response)
        headers = [(name, value) for name, value in stored["headers"]]
        etag = dict(headers)["ETag"]
        if etag_matches(environ.get("HTTP_IF_NONE_MATCH", ""), etag):
            kept = {"cache-control", "content-location", "date", "etag", "expires", "vary"}
            start_response("304 Not Modified", [h for h in headers if h[0].lower() in kept])
            return [b""]
        content = stored["content"]
        headers += [("Content-Length", str(len(content))), ("X-Page-Cache", "hit")]
        start_response("200 OK", headers)
        return [b"" if environ["REQUEST_METHOD"] == "HEAD" else content]

    def stored_page(self, environ):
        if environ.get("HTTP_AUTHORIZATION"):
            return None
        cookies = parse_cookie(environ.get("HTTP_COOKIE", ""))
        if settings.SESSION_COOKIE_NAME in cookies or CookieStorage.cookie_name in cookies:
            return None
        if "\x00" in environ.get("PATH_INFO", "") or "%00" in environ.get("QUERY_STRING", ""):
            return None
        request = WSGIRequest(environ)
        request.get_host()  # DisallowedHost for a host Django would refuse: Django answers
        if settings.SECURE_SSL_REDIRECT and not request.is_secure():
            return None
        match = resolved(settings.ROOT_URLCONF, request.path_info)
        if match is None:
            return None
        tags_of = PAGES.get(match.view_name) or API.get(match.view_name)
        if tags_of is None:
            return None
        is_api = match.view_name in API
        if is_api and not accepts_json(request):
            return None
        language = translation.get_language_from_request(request)
        request.LANGUAGE_CODE = translation.get_supported_language_variant(language)
        counter = None
        if is_api:
            request.user = AnonymousUser()  # no session cookie, no credentials
            counter = rate_counter(request, match.func)
        tags = [EVERYTHING, *tags_of(match.kwargs)]
        lookup = look_up(request, tags, is_api=is_api, counter=counter)
        if lookup is None:
            return None
        if counter is not None:
            # Counted: Django's throttle reads this count instead of counting again.
            environ[COUNTED] = {counter.key: (lookup.count, lookup.left)}
            if lookup.count > counter.allowed:
                return None  # Django's view answers 429
        if lookup.stored is None:
            return None
        if is_api and counter is None and not throttles_allow(request, match.func):
            return None  # Django's view answers 429
        return lookup.stored


@functools.lru_cache(maxsize=4096)
def resolved(urlconf, path):
    """The URL's match, or None: resolving walks the URL patterns, a good part of a hit's
    cost, and a URL resolves the same until the URLconf changes (the key holds its name).
    """
    try:
        return resolve(path, urlconf)
    except Resolver404:
        return None


def etag_matches(header, etag):
    if not header:
        return False
    if header.strip() == "*":
        return True
    return etag in {tag.strip().removeprefix("W/") for tag in header.split(",")}
