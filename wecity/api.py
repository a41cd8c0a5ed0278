"""What every endpoint of the REST API shares, besides the policies of `wecity.api_policies`:
strict input, links to pages, conditional GET, and the base views the apps' `api.py` use.

Strict means that input the API does not understand is refused with a 400 naming it (an
unknown body field, a filter given without a value, "maybe" for a boolean), never silently
ignored or guessed at; `wecity.api_errors` gives every refusal the same shape.
"""

import datetime
import hashlib
from collections.abc import Mapping

import django_filters
from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django import forms
from django.core.cache import cache
from django.utils import timezone, translation
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date, quote_etag
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.views import APIView

# --- Input ----------------------------------------------------------------------------------


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know (or that are read-only), instead of dropping them unseen."""

    def to_internal_value(self, data):
        writable = {name for name, field in self.fields.items() if not field.read_only}
        unknown = sorted(set(data) - writable) if isinstance(data, Mapping) else []
        errors = {name: [_("This field is not known here.")] for name in unknown}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            if errors and isinstance(error.detail, dict):
                raise serializers.ValidationError({**error.detail, **errors}) from error
            raise
        if errors:
            raise serializers.ValidationError(errors)
        return value


class StrictModelSerializer(StrictSerializer, serializers.ModelSerializer):
    pass


class FilterSet(django_filters.FilterSet):
    """Refuses a filter given without a value (`?kind=`), which django-filter reads as unset.

    Only text filters take an empty value: an empty search is no search.
    """

    def is_valid(self):
        valid = super().is_valid()
        for name, filter_ in self.filters.items():
            if self.data.get(name) == "" and not isinstance(filter_, django_filters.CharFilter):
                self.form.add_error(name, _("Give a value, or leave the parameter out."))
                valid = False
        return valid


class StrictBooleanField(forms.NullBooleanField):
    widget = forms.TextInput  # NullBooleanSelect would read any unknown value as unset

    def to_python(self, value):
        if value is None:
            return None
        if value in ("true", "false"):
            return value == "true"
        raise forms.ValidationError(_("Use true or false."), code="invalid")

    def validate(self, value):
        pass


class BooleanFilter(django_filters.BooleanFilter):
    """`true` or `false`, and nothing else."""

    field_class = StrictBooleanField


# The largest id a database row can have (a signed 64-bit integer): a larger one in a
# filter would reach the database as an error instead of matching nothing.
MAX_ID = 2**63 - 1


class IdField(forms.IntegerField):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=1, max_value=MAX_ID, **kwargs)


class IdFilter(django_filters.NumberFilter):
    """An object's id: a whole number (django-filter's NumberFilter takes decimals too)."""

    field_class = IdField


@extend_schema_field(OpenApiTypes.URI)
class PageLinkField(serializers.Field):
    """The object's page on the portal, as an absolute URL."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "The object's page on the portal.")
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, value):
        return self.context["request"].build_absolute_uri(value.get_absolute_url())


# --- Conditional GET ------------------------------------------------------------------------

# How long the API remembers since when a response has been the same (for Last-Modified).
VALIDATOR_SECONDS = 24 * 60 * 60


def last_modified_of(request, etag):
    """Since when the response to this request, for this user and language, has been `etag`.

    The ETag says whether a response changed; most responses gather rows of several tables,
    so no column knows when. The API remembers, per URL, user and language, the ETag it last
    answered and when it first did: a different ETag starts a new "since". Forgetting (cache
    eviction) only makes a response look newer, never older than it is.
    """
    user = request.user.pk if request.user.is_authenticated else 0
    key = (
        "api-validator:"
        + hashlib.sha256(
            f"{user}|{translation.get_language()}|{request.get_full_path()}".encode()
        ).hexdigest()
    )
    remembered = cache.get(key)
    if remembered and remembered[0] == etag:
        return remembered[1]
    since = timezone.now().replace(microsecond=0)
    if remembered:
        # HTTP dates count whole seconds: a change within the second of the last one must
        # still be later than it, or If-Modified-Since would call the new response unchanged.
        since = max(since, remembered[1] + datetime.timedelta(seconds=1))
    cache.set(key, (etag, since), VALIDATOR_SECONDS)
    return since


class ApiViewMixin:
    """The API's answers: 405 before any other check, ETag and Last-Modified on reads."""

    def check_permissions(self, request):
        # A method the endpoint does not have is a 405 for everyone, signed in or not.
        if not hasattr(self, request.method.lower()):
            self.http_method_not_allowed(request)
        super().check_permissions(request)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method not in ("GET", "HEAD") or response.status_code != 200:
            return response
        response.render()
        etag = quote_etag(hashlib.md5(response.content, usedforsecurity=False).hexdigest())
        last_modified = last_modified_of(request, etag)
        response["ETag"] = etag
        response["Last-Modified"] = http_date(last_modified.timestamp())
        response["Cache-Control"] = "private, no-cache"
        patch_vary_headers(response, ["Authorization", "Accept-Language", "Cookie"])
        return get_conditional_response(
            request,
            etag=etag,
            last_modified=int(last_modified.timestamp()),
            response=response,
        )


class ApiView(ApiViewMixin, APIView):
    pass


class ReadOnlyViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """A resource to list and read; `ordering_fields` names what `?ordering=` may use."""

    ordering_fields = {}
    default_ordering_description = ""


# --- Documentation pages --------------------------------------------------------------------

# Swagger UI and Redoc style their pages inline, draw icons as data: images and search in a
# blob: worker: the portal's Content-Security-Policy allows these on these two pages only.
DOCUMENTATION_CSP = {"style-src": [UNSAFE_INLINE], "img-src": ["data:"], "worker-src": ["blob:"]}


def documentation_page(view):
    """`view` with the policy that Swagger UI and Redoc need, enforced or reported only."""
    return csp_update(DOCUMENTATION_CSP, REPORT_ONLY=True)(csp_update(DOCUMENTATION_CSP)(view))
