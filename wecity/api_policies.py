"""The policies `REST_FRAMEWORK` in settings names: pagination, ordering and throttling.

Kept apart from `wecity.api` because DRF imports them while defining its own view classes:
this module must not import `rest_framework.views` (or anything that does).
"""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, pagination, throttling
from rest_framework.filters import BaseFilterBackend

from wecity.caches import count_in_window


def positive_int(value, *, name, maximum=None):
    """`value` of the query parameter `name` as an int from 1 to `maximum`; 400 otherwise."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number < 1 or (maximum is not None and number > maximum):
        if maximum is None:
            message = _("A whole number of at least 1 is needed.")
        else:
            message = _("A whole number from 1 to %(maximum)s is needed.") % {"maximum": maximum}
        raise exceptions.ValidationError({name: [message]})
    return number


# --- Pagination -----------------------------------------------------------------------------


def page_size_of(request, default):
    value = request.query_params.get("page_size")
    if value is None:
        return default
    return positive_int(value, name="page_size", maximum=settings.API_MAX_PAGE_SIZE)


def page_size_parameter():
    return {
        "name": "page_size",
        "required": False,
        "in": "query",
        "description": (
            f"How many results a page holds (default {settings.API_PAGE_SIZE}, "
            f"at most {settings.API_MAX_PAGE_SIZE})."
        ),
        "schema": {"type": "integer", "minimum": 1, "maximum": settings.API_MAX_PAGE_SIZE},
    }


PAGE_PROPERTIES = {
    "count": "How many results there are in all.",
    "next": "The next page's address; null on the last page.",
    "previous": "The previous page's address; null on the first page.",
    "results": "This page's results.",
}


def described(schema):
    """A paginated response's schema, with each of its properties described."""
    for name, description in PAGE_PROPERTIES.items():
        if name in schema["properties"]:
            schema["properties"][name]["description"] = description
    return schema


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=2&page_size=50`; a page past the last one is a 404."""

    page_size_query_param = "page_size"

    def get_page_size(self, request):
        return page_size_of(request, settings.API_PAGE_SIZE)

    def get_paginated_response_schema(self, schema):
        return described(super().get_paginated_response_schema(schema))

    def get_page_number(self, request, paginator):
        value = request.query_params.get(self.page_query_param)
        return 1 if value is None else positive_int(value, name=self.page_query_param)

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "The page to show, from 1.",
                "schema": {"type": "integer", "minimum": 1},
            },
            page_size_parameter(),
        ]


class CursorPagination(pagination.CursorPagination):
    """`?cursor=…` from the `next` and `previous` links: for the long lists, newest first.

    A cursor stays right while rows are added; a cursor that was not made by the API is a 404,
    as an unknown page is.
    """

    ordering = "-id"
    page_size_query_param = "page_size"
    invalid_cursor_message = _("This cursor is not valid: follow the `next` or `previous` links.")

    def get_page_size(self, request):
        return page_size_of(request, settings.API_PAGE_SIZE)

    def get_paginated_response_schema(self, schema):
        return described(super().get_paginated_response_schema(schema))

    def decode_cursor(self, request):
        cursor = super().decode_cursor(request)
        if cursor is None:
            return None
        # A cursor the API made always says something; an empty one was not made here.
        if cursor == pagination.Cursor(offset=0, reverse=False, position=None):
            raise exceptions.NotFound(self.invalid_cursor_message)
        # Every cursor ordering of the API is on integers; any other position would reach the
        # database as a malformed filter.
        if cursor.position is not None:
            try:
                int(cursor.position)
            except ValueError as error:
                raise exceptions.NotFound(self.invalid_cursor_message) from error
        return cursor

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Where the page starts: the cursor of a `next` or `previous` link.",
                "schema": {"type": "string"},
            },
            page_size_parameter(),
        ]


# --- Ordering -------------------------------------------------------------------------------


class OrderingFilter(BaseFilterBackend):
    """`?ordering=name,-starts_at` over the view's `ordering_fields`, {public name: field}.

    Any other name is a 400. Ties are broken by id, so that pages never overlap.
    """

    param = "ordering"

    def terms(self, request, view):
        value = request.query_params.get(self.param)
        if value is None:
            return []
        terms = [term.strip() for term in value.split(",")]
        allowed = view.ordering_fields
        unknown = [term for term in terms if term.removeprefix("-") not in allowed]
        if unknown:
            raise exceptions.ValidationError(
                {
                    self.param: [
                        _("Order by one of: %(fields)s (a leading “-” reverses).")
                        % {"fields": ", ".join(allowed)}
                    ]
                }
            )
        return terms

    def filter_queryset(self, request, queryset, view):
        if not getattr(view, "ordering_fields", None):
            return queryset  # a list in a fixed order, such as a cursor-paginated one
        terms = self.terms(request, view)
        if not terms:
            return queryset
        fields = view.ordering_fields
        order = [("-" if t.startswith("-") else "") + fields[t.removeprefix("-")] for t in terms]
        return queryset.order_by(*order, "pk")

    def get_schema_operation_parameters(self, view):
        if not getattr(view, "ordering_fields", None):
            return []
        names = list(view.ordering_fields)
        return [
            {
                "name": self.param,
                "required": False,
                "in": "query",
                "description": (
                    "Order by these fields, comma-separated; a leading `-` reverses. "
                    f"Default: {view.default_ordering_description}."
                ),
                "schema": {
                    "type": "array",
                    "items": {"type": "string", "enum": [*names, *(f"-{n}" for n in names)]},
                },
                "style": "form",
                "explode": False,
            }
        ]


# --- Throttling -----------------------------------------------------------------------------


# The WSGI environ's entry in which the page cache leaves the counts it made before Django
# ran ({counter key: (count, seconds left)}), so that a request is counted once. A client
# cannot set it: its headers arrive as HTTP_… entries.
COUNTED = "wecity.rate_counts"


class CountedRateThrottle:
    """A counter per caller and window in the cache, instead of DRF's list of the times of
    each request, which every request reads and writes back whole: its cost grows with the
    rate allowed, this one's does not (one round trip to Redis, `wecity.caches`).

    A window starts at the caller's first request and lasts the rate's period; the limit
    applies within it, and a caller refused learns (Retry-After) when it ends. A caller
    may so send twice the rate across the end of a window, never more.
    """

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        counted = request.META.get(COUNTED, {}).get(self.key)
        if counted is None:
            counted = count_in_window(self.cache, self.key, self.duration)
        count, self.seconds_left = counted
        return count <= self.num_requests

    def counter(self, request):
        """(cache key, seconds, requests allowed) of this limit on `request`, or None: for
        the page cache, which counts the request as it reads the stored answer.
        """
        if self.rate is None:
            return None
        key = self.get_cache_key(request, None)
        return None if key is None else (key, self.duration, self.num_requests)

    def wait(self):
        return self.seconds_left


class AnonRateThrottle(CountedRateThrottle, throttling.AnonRateThrottle):
    """Requests without credentials, per client address (API_THROTTLE_ANON_RATE)."""

    def get_rate(self):
        # Read at each request, not at import as DRF's own classes do: tests can change it.
        return settings.API_THROTTLE_ANON_RATE


class UserRateThrottle(CountedRateThrottle, throttling.UserRateThrottle):
    """Requests of each signed-in user (API_THROTTLE_USER_RATE). Requests without
    credentials are AnonRateThrottle's only (DRF's class counts them a second time, by
    address, which doubles a cached answer's cost for nothing).
    """

    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None
        return super().get_cache_key(request, view)

    def get_rate(self):
        return settings.API_THROTTLE_USER_RATE
