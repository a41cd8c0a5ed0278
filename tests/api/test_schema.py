"""The OpenAPI schema: valid, without warnings, every operation, parameter and field
described, every error response declared."""

import io
import json

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db

ERRORS = {"400", "401", "403", "404", "429"}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    output = io.StringIO()
    with django_db_blocker.unblock():
        call_command(
            "spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", stdout=output
        )
    return json.loads(output.getvalue())


def operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def test_schema_validates_without_warnings(schema):
    assert (schema["openapi"], schema["info"]["title"]) == (
        "3.0.3",
        "WeCity Accelerator Portal API",
    )


def test_schema_covers_every_resource(schema):
    resources = {path.split("/")[3] for path in schema["paths"]}

    assert resources == {
        "cohorts", "deliverables", "forums", "me", "members", "milestones", "notifications",
        "quotes", "recaps", "reminder-opt-outs", "reviews", "search", "speakers",
        "submissions", "topics",
    }  # fmt: skip


def test_every_operation_and_parameter_is_described(schema):
    undescribed = [
        name
        for name, operation in operations(schema)
        if not operation.get("summary")
        or any(not parameter.get("description") for parameter in operation.get("parameters", []))
    ]

    assert undescribed == []


def test_every_field_is_described(schema):
    undescribed = [
        f"{component}.{name}"
        for component, definition in schema["components"]["schemas"].items()
        for name, field in definition.get("properties", {}).items()
        if not field.get("description")
    ]

    assert undescribed == []


def test_every_operation_declares_the_error_responses(schema):
    missing = {
        name: sorted(ERRORS - set(operation["responses"]))
        for name, operation in operations(schema)
        if ERRORS - set(operation["responses"])
    }
    error = schema["paths"]["/api/v1/forums/"]["get"]["responses"]["404"]

    assert (missing, error["content"]["application/json"]["schema"]) == (
        {},
        {"$ref": "#/components/schemas/Error"},
    )


def test_hand_in_is_documented_as_a_multipart_upload(schema):
    body = schema["paths"]["/api/v1/submissions/"]["post"]["requestBody"]["content"]
    fields = schema["components"]["schemas"]["HandInRequest"]["properties"]

    assert (sorted(body), fields["file"]["format"]) == (
        ["application/json", "multipart/form-data"],
        "binary",
    )


def test_tokens_and_sessions_are_the_documented_credentials(schema):
    assert sorted(schema["components"]["securitySchemes"]) == ["cookieAuth", "tokenAuth"]
