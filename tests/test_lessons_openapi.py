"""schemathesis against the 教研员's operations of /api/openapi.json, signed in as a 教研员."""

from __future__ import annotations

import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from webapp.extensions import db
from webapp.lessons.operations import save_activity
from webapp.lessons.schemas import ActivityWriteSchema

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
