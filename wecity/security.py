"""The Django admin's sign-in lock-out (django-axes), the client address it counts by, and
the refusal of addresses that PostgreSQL could not even look up.

The portal's own sign-in (django-allauth) has allauth's rate limits (ACCOUNT_RATE_LIMITS);
axes is scoped to the admin (AXES_ONLY_ADMIN_SITE), where allauth's limits do not apply, so
that one failed sign-in is never counted by both.
"""

from urllib.parse import unquote_plus

from allauth.account.adapter import get_adapter
from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied
from django.shortcuts import render


class AdminOnlyAxesHandler(AxesDatabaseHandler):
    """axes' records of sign-ins to the admin only (AXES_HANDLER).

    AXES_ONLY_ADMIN_SITE makes axes lock out of the admin only, yet it would still count the
    portal's failed sign-ins towards that lock-out, and clear the count on any successful
    one (a portal account could then reset the admin's count between guesses). Elsewhere
    allauth's own limits count.
    """

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        if request is not None and self.is_admin_request(request):
            super().user_login_failed(sender, credentials, request, **kwargs)

    def user_logged_in(self, sender, request, user, **kwargs):
        if request is not None and self.is_admin_request(request):
            super().user_logged_in(sender, request, user, **kwargs)

    def user_logged_out(self, sender, request, user, **kwargs):
        if request is not None and self.is_admin_request(request):
            super().user_logged_out(sender, request, user, **kwargs)


class AdminLockoutBackend(AxesStandaloneBackend):
    """Refuses a locked-out address before any other backend checks the password.

    A call to `authenticate()` without a request (the test client's `login()`, a script)
    cannot come from the admin's sign-in form, so it is left to the other backends instead
    of being refused as axes' own backend does.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


def client_ip(request):
    """The client's address as allauth's rate limits see it (ALLAUTH_TRUSTED_PROXY_COUNT).

    Where allauth cannot tell (a request built in code, X-Forwarded-For with fewer entries
    than the proxies said), the address that connected, which is never more lenient.
    """
    try:
        return get_adapter(request).get_client_ip(request)
    except PermissionDenied:
        return request.META.get("REMOTE_ADDR")


def lockout_response(request, original_response=None, credentials=None):
    """The page a locked-out address gets from the admin's sign-in (AXES_LOCKOUT_CALLABLE)."""
    context = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }
    return render(request, "admin/lockout.html", context, status=429)


class RejectNullCharacterMiddleware:
    """Answers 400 to a request whose address holds a NUL character.

    PostgreSQL refuses NUL in any string, so every view that looks up a slug or a token, or
    filters by a word from the query string, would answer 500 instead of 404 or nothing found.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or "\x00" in unquote_plus(request.META.get("QUERY_STRING", "")):
            raise BadRequest("NUL character in the address")
        return self.get_response(request)
