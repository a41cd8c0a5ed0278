"""One shape for every error of the API, whoever raises it:

    {"error": {"status": 400, "code": "invalid", "message": "…", "fields": {"name": ["…"]}}}

DRF's exceptions, Django's Http404, PermissionDenied and ValidationError (which the services
raise) go through `exception_handler`; what happens outside a view (no URL matches, a
suspicious request, a crash) through the `handler400/403/404/500` of the root URLconf, which
answer in this shape under /api/ and with the portal's pages elsewhere.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

API_PREFIX = "/api/"


def error_body(status, code, message, fields=None):
    return {"error": {"status": status, "code": code, "message": message, "fields": fields or {}}}


def validation_body(status, detail):
    """A 400's body: the fields' errors by field, errors of no one field as the message."""
    if isinstance(detail, dict):
        general = detail.get(api_settings.NON_FIELD_ERRORS_KEY, [])
        fields = {k: v for k, v in detail.items() if k != api_settings.NON_FIELD_ERRORS_KEY}
    else:
        general, fields = detail, {}
    message = " ".join(str(item) for item in general) or _(
        "The request is not valid: see the errors of its fields."
    )
    return error_body(status, "invalid", message, fields)


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        # One message for a missing object and an invisible one, in the user's language.
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a crash: handler500 answers
    if isinstance(exc, exceptions.ValidationError):
        response.data = validation_body(response.status_code, exc.detail)
    else:
        response.data = error_body(response.status_code, exc.get_codes(), str(exc.detail))
    return response


# --- Outside the views ------------------------------------------------------------------------


def is_api(request):
    return request.path.startswith(API_PREFIX)


def json_error(status, code, message):
    return JsonResponse(error_body(status, code, message), status=status)


def bad_request(request, exception, template_name=defaults.ERROR_400_TEMPLATE_NAME):
    if is_api(request):
        return json_error(400, "bad_request", _("The request could not be understood."))
    return defaults.bad_request(request, exception, template_name)


def permission_denied(request, exception, template_name=defaults.ERROR_403_TEMPLATE_NAME):
    if is_api(request):
        return json_error(403, "permission_denied", _("You may not do this."))
    return defaults.permission_denied(request, exception, template_name)


def page_not_found(request, exception, template_name=defaults.ERROR_404_TEMPLATE_NAME):
    if is_api(request):
        return json_error(404, "not_found", _("There is nothing at this address."))
    return defaults.page_not_found(request, exception, template_name)


def server_error(request, template_name=defaults.ERROR_500_TEMPLATE_NAME):
    if is_api(request):
        return json_error(
            500, "server_error", _("Something went wrong on our side; it has been logged.")
        )
    return defaults.server_error(request, template_name)


# --- The schema -------------------------------------------------------------------------------

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error of the API has this shape.",
    "properties": {
        "error": {
            "type": "object",
            "description": "What went wrong.",
            "properties": {
                "status": {"type": "integer", "description": "The HTTP status, again."},
                "code": {
                    "type": "string",
                    "description": (
                        "What went wrong, for programs: `invalid`, `not_authenticated`, "
                        "`authentication_failed`, `permission_denied`, `not_found`, "
                        "`method_not_allowed`, `throttled`, `parse_error`, …"
                    ),
                },
                "message": {"type": "string", "description": "What went wrong, for people."},
                "fields": {
                    "type": "object",
                    "description": "For `invalid`: the errors of each input field by its name.",
                    "additionalProperties": {},
                },
            },
            "required": ["status", "code", "message", "fields"],
        }
    },
    "required": ["error"],
}

ERROR_RESPONSES = {
    "400": "The request is not valid: a field, a filter, the ordering or the page size.",
    "401": "No credentials, or a token that is not valid.",
    "403": "The credentials are valid, but do not allow this.",
    "404": "Nothing here, or nothing the caller may see: an invisible object is not found.",
    "406": "None of the accepted media types can be answered.",
    "415": "The body's media type is not accepted.",
    "429": "Too many requests: wait the seconds of the `Retry-After` header.",
}

VALIDATOR_HEADERS = {
    "ETag": {
        "description": "The version of the response; send it as `If-None-Match` to get a 304.",
        "schema": {"type": "string"},
    },
    "Last-Modified": {
        "description": "Since when the response is as it is; `If-Modified-Since` gets a 304.",
        "schema": {"type": "string"},
    },
}


# The lookups in the API's addresses, described once for every operation that has them.
PATH_PARAMETERS = {
    "id": "The object's id, as its list gives it.",
    "slug": "The object's slug, as its list gives it.",
    "forum_slug": "The forum's slug.",
}


def add_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: every operation declares the error responses."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and not parameter.get("description"):
                    parameter["description"] = PATH_PARAMETERS[parameter["name"]]
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_RESPONSES.items():
                if status == "415" and "requestBody" not in operation:
                    continue
                if status == "429":
                    responses.setdefault(
                        status,
                        {
                            "description": description,
                            "content": reference,
                            "headers": {
                                "Retry-After": {
                                    "description": "Seconds to wait before asking again.",
                                    "schema": {"type": "integer"},
                                }
                            },
                        },
                    )
                else:
                    responses.setdefault(status, {"description": description, "content": reference})
            if method == "get" and "200" in responses:
                responses["200"].setdefault("headers", {}).update(VALIDATOR_HEADERS)
    return result
