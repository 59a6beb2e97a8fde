"""schemathesis against the 教研员's operations of /api/openapi.json, signed in as a 教研员."""

from __future__ import annotations

import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from webapp.extensions import db
from webapp.lessons.operations import save_activity
from webapp.lessons.schemas import ActivityWriteSchema

from .conftest import login
from .lessons_world import lesson, make_world


def test_the_document_describes_the_activity_api(client):
    document = client.get("/api/openapi.json").get_json()
    put = document["paths"]["/api/v1/activities/{activity_id}"]["put"]
    assert set(put["responses"]) >= {"200", "201", "409", "422"}
    assert document["components"]["schemas"]["ActivityWrite"]["properties"]["kind"]["enum"][0] == "lesson"


@pytest.fixture
def api_schema(make_app, factory):
    app = make_app(WTF_CSRF_ENABLED=True, PRINT_UNHANDLED=True)
    with app.app_context():
        world = make_world(factory)
        # A record to find: schemathesis tries ids from the document's examples and random UUIDs.
        save_activity(world.researcher, str(uuid.uuid4()), ActivityWriteSchema().load(lesson(world.rural, world.today)))
        db.session.commit()
        username = world.researcher.username
    client = app.test_client()
    login(client, username)
    token = client.get("/api/v1/me").get_json()["csrf_token"]
    cookie = client.get_cookie("session")
    # identity: the WSGI transport hands schemathesis the body as sent, and large JSON is gzipped.
    headers = {"X-CSRFToken": token, "Accept-Encoding": "identity"}
    app.config["_auth"] = {"headers": headers, "cookies": {"session": cookie.value}}
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app).include(path_regex="activities|researcher")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_activity_api_never_fails_and_honours_its_document(case):
    # What a record needs depends on its kind (a lesson needs a school, subject, grade and
    # teacher; a session a topic) and on the county's schools and rubric: the document
    # cannot say it, so a schema-valid record may get a documented 422 with field errors.
    case.call_and_validate(**case.operation.schema.app.config["_auth"], excluded_checks=[positive_data_acceptance])
