"""The OpenAPI document is valid, made from the schemas the views use, and honoured by the server.

schemathesis runs every operation with all its checks (no server error, answers as documented,
schema-valid requests accepted, schema-violating ones refused) signed in as an inspector;
tests/test_lessons_openapi.py does the same for the 教研员's operations.
"""

from __future__ import annotations

from datetime import date

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from marshmallow import fields
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from webapp.apidoc import build
from webapp.extensions import db
from webapp.visits.operations import plan_visit
from webapp.visits.schemas import PlanSchema

from .conftest import login
from .openapi_support import EXAMPLES, api_schema_for, checks_to_skip


def test_document_is_valid_openapi(client):
    document = client.get("/api/openapi.json").get_json()
    validate(document)
    assert document["info"]["version"] == "1.0.0"
    assert "/api/v1/visits/{visit_id}/results" in document["paths"]


def test_every_api_route_is_described(app):
    """Each method of each /api/v1 rule is an operation of the document (a route without one fails the build)."""
    document = build(app)
    routes = {
        (rule.rule.replace("<int:", "<").replace("<", "{").replace(">", "}"), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    described = {(path, method) for path, operations in document["paths"].items() for method in operations}
    assert described == routes
    assert {("/api/v1/sync", "post"), ("/api/v1/uploads/{sha256}", "put")} <= described


def test_validators_become_constraints(app):
    schemas = build(app)["components"]["schemas"]
    lesson = schemas["LessonWrite"]["properties"]
    assert "" not in lesson["subject"]["enum"] and "math" in lesson["subject"]["enum"]
    assert schemas["SessionWrite"]["properties"]["topic"]["pattern"]
    assert schemas["ResultWrite"]["properties"]["item_id"]["minLength"] == 1
    assert schemas["VisitUpsert"]["properties"]["school_id"]["minimum"] == 1
    assert schemas["Plan"]["additionalProperties"] is False  # the schema refuses unknown fields


def test_a_changed_schema_changes_the_document(app, monkeypatch):
    monkeypatch.setitem(PlanSchema._declared_fields, "note", fields.String(required=True))
    assert "note" in build(app)["components"]["schemas"]["Plan"]["required"]


def test_every_write_may_name_its_owner_and_be_refused_409(app):
    """The phone names its records' owner on every write (X-Dudao-User); another account answers 409."""
    document = build(app)
    for path, operations in document["paths"].items():
        for method, item in operations.items():
            headers = [p["name"] for p in item["parameters"] if p["in"] == "header"]
            assert ("X-Dudao-User" in headers) == (method != "get"), (method, path)
            assert method == "get" or "409" in item["responses"], (method, path)


def test_uploads_and_the_photo_attach_body_are_described(app):
    document = build(app)
    chunk = document["paths"]["/api/v1/uploads/{sha256}"]["put"]
    assert "application/octet-stream" in chunk["requestBody"]["content"]
    assert [p["name"] for p in chunk["parameters"] if p["in"] == "header"] == ["Content-Range", "X-Dudao-User"]
    assert "received" in document["components"]["schemas"]["OffsetMismatch"]["properties"]
    for path in ("/api/v1/visits/{visit_id}/photos/{photo_id}", "/api/v1/activities/{activity_id}/photos/{photo_id}"):
        content = document["paths"][path]["put"]["requestBody"]["content"]
        assert set(content) == {"multipart/form-data", "application/json"}
        attach = document["components"]["schemas"][content["application/json"]["schema"]["$ref"].split("/")[-1]]
        assert attach["required"] == ["upload"]
        assert "file" in content["multipart/form-data"]["schema"]["required"]
    error = {"$ref": "#/components/responses/Error429"}
    assert all(op["responses"]["429"] == error for ops in document["paths"].values() for op in ops.values())


def _allowed(schema: dict, body: dict, document: dict) -> bool:
    """Whether ``body`` is valid by ``schema`` of the document (refs resolved within it)."""
    validator = OAS30Validator({**schema, "components": document["components"]})
    return validator.is_valid(body)


def test_the_document_and_the_server_agree_on_an_empty_subject(app, factory):
    """Finding 10: a lesson with subject "" was valid by the document and refused by the server."""
    from .lessons_world import lesson, make_world

    with app.app_context():
        world = make_world(factory)
        good = lesson(world.rural, world.today)
        username = world.researcher.username
    client = app.test_client()
    login(client, username)
    document = client.get("/api/openapi.json").get_json()
    body = document["paths"]["/api/v1/activities/{activity_id}"]["put"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    bad = {**good, "subject": ""}
    assert _allowed(schema, good, document)
    assert not _allowed(schema, bad, document)
    import uuid

    refused = client.put(f"/api/v1/activities/{uuid.uuid4()}", json=bad)
    assert refused.status_code == 422 and "subject" in refused.get_json()["error"]["fields"]
    assert client.put(f"/api/v1/activities/{uuid.uuid4()}", json=good).status_code == 201


@pytest.fixture
def api_schema(make_app, factory):
    app = make_app(WTF_CSRF_ENABLED=True, PRINT_UNHANDLED=True)
    with app.app_context():
        county = factory.county("西吉县", "xiji")
        school = factory.school(county)
        inspector = factory.user("inspector", county, (school,))
        plan_visit(inspector, school.id, date(2026, 11, 25))
        db.session.commit()
        username = inspector.username
    return api_schema_for(app, username)


# The 教研员's operations run signed in as one, in tests/test_lessons_openapi.py.
schema = schemathesis.pytest.from_fixture("api_schema").exclude(path_regex="activities|researcher")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_never_fails_and_honours_its_document(case):
    case.call_and_validate(**case.operation.schema.app.config["_auth"], excluded_checks=checks_to_skip(case))
