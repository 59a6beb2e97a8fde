"""schemathesis against the 教研员's operations of /api/openapi.json, signed in as a 教研员."""

from __future__ import annotations

import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from webapp.extensions import db
from webapp.lessons.operations import save_activity
from webapp.lessons.schemas import ActivityWriteSchema

from .conftest import login
from .lessons_world import lesson, make_world
from .openapi_support import EXAMPLES, api_schema_for, checks_to_skip


def test_the_document_describes_the_activity_api(client):
    document = client.get("/api/openapi.json").get_json()
    put = document["paths"]["/api/v1/activities/{activity_id}"]["put"]
    assert set(put["responses"]) >= {"200", "201", "409", "422"}
    assert document["components"]["schemas"]["LessonWrite"]["properties"]["kind"]["enum"] == ["lesson"]
    assert "lesson" not in document["components"]["schemas"]["SessionWrite"]["properties"]["kind"]["enum"]


@pytest.fixture
def api_schema(make_app, factory):
    app = make_app(WTF_CSRF_ENABLED=True, PRINT_UNHANDLED=True)
    with app.app_context():
        world = make_world(factory)
        # A record to find: schemathesis tries ids from the document's examples and random UUIDs.
        save_activity(world.researcher, str(uuid.uuid4()), ActivityWriteSchema().load(lesson(world.rural, world.today)))
        db.session.commit()
        username = world.researcher.username
    return api_schema_for(app, username)


schema = schemathesis.pytest.from_fixture("api_schema").include(path_regex="activities|researcher")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_activity_api_never_fails_and_honours_its_document(case):
    case.call_and_validate(**case.operation.schema.app.config["_auth"], excluded_checks=checks_to_skip(case))


def test_the_document_and_the_server_agree_on_what_a_record_needs(client, factory):
    """Issue 9, finding 10: each of these was valid by the hand-built document and refused by the server."""
    from openapi_schema_validator import OAS30Validator

    world = make_world(factory)
    document = client.get("/api/openapi.json").get_json()
    body = document["paths"]["/api/v1/activities/{activity_id}"]["put"]["requestBody"]["content"]["application/json"]
    validator = OAS30Validator({**body["schema"], "components": document["components"]})
    good = lesson(world.rural, world.today)
    assert validator.is_valid(good)
    login(client, world.researcher)
    assert client.put(f"/api/v1/activities/{uuid.uuid4()}", json=good).status_code == 201
    for broken, field in (
        ({**good, "subject": ""}, "subject"),
        ({**good, "grade": ""}, "grade"),
        ({**good, "school_id": None}, "school_id"),
        ({**good, "kind": "guidance", "form": "", "topic": "  "}, "topic"),
        ({**good, "kind": "guidance", "form": "", "topic": "集体备课", "school_id": None}, "school_id"),
        ({**good, "kind": "studio", "form": "", "topic": ""}, "topic"),
    ):
        broken = {**broken, "write_id": str(uuid.uuid4())}
        assert not validator.is_valid(broken), broken
        response = client.put(f"/api/v1/activities/{uuid.uuid4()}", json=broken)
        assert response.status_code == 422 and field in response.get_json()["error"]["fields"], response.get_json()
