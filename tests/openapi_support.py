"""schemathesis against the app's own document, signed in (shared by the OpenAPI test files)."""

from __future__ import annotations

import atexit
import os
from collections import Counter
from typing import Any

import schemathesis
from flask import Flask
from schemathesis.checks import positive_data_acceptance

from webapp.guard import FORBIDDEN

from .conftest import login

#: Random cases per operation and generation mode, on top of schemathesis's coverage cases (each boundary and
#: each violation of each constraint): about 1,850 requests over the two files. CI may raise it.
EXAMPLES = int(os.environ.get("DUDAO_SCHEMATHESIS_EXAMPLES", "20"))
#: Operations where a request valid by the document may still be refused, and why (JSON Schema cannot say it).
REFUSED_WHEN_VALID = {
    "PUT /api/v1/uploads/{sha256}": "Content-Range must agree with the body's length (else 400 bad_range)",
    "PUT /api/v1/activities/{activity_id}": "the school, teacher and rubric must be the county's (else 422)",
    "PUT /api/v1/visits/{visit_id}/photos/{photo_id}": "sha256 must be the file's and the file a photo (else 422)",
    "PUT /api/v1/activities/{activity_id}/photos/{photo_id}": "sha256 must be the file's and the file a photo",
}


def checks_to_skip(case: Any) -> list[Any]:
    """Every check, but positive data acceptance where :data:`REFUSED_WHEN_VALID` says why not."""
    return [positive_data_acceptance] if case.operation.label in REFUSED_WHEN_VALID else []


def _name(key: str) -> str:
    # A line break cannot be carried in a multipart field's name (the part's header would break: 400), nor can a
    # quote or a backslash as schemathesis writes them (unescaped: `name="Tq\"` never ends, so the part has no name).
    return _without_control_characters(key).translate(str.maketrans('\r\n"\\', "????"))


def _without_control_characters(value: Any) -> Any:
    """The edge refuses control characters in any text and a form field without a name (webapp/guard.py, tested
    by tests/test_input_guard.py); JSON Schema 3.0 cannot say so for object keys, so generated data leaves them
    out (the document's description says it in words)."""
    if isinstance(value, str):
        return FORBIDDEN.sub("?", value)
    if isinstance(value, dict):
        return {_name(k): _without_control_characters(v) for k, v in value.items() if k != ""}
    if isinstance(value, list):
        return [_without_control_characters(v) for v in value]
    return value


def api_schema_for(app: Flask, username: str) -> Any:
    """The app's document loaded by schemathesis, requests signed in as ``username`` with a CSRF token."""
    client = app.test_client()
    login(client, username)
    token = client.get("/api/v1/me").get_json()["csrf_token"]
    cookie = client.get_cookie("session")
    # identity: the WSGI transport hands schemathesis the body as sent, and large JSON is gzipped.
    # X-Dudao-User as the phone sends it (its records' owner, the account signed in): a generated one would only
    # ever meet 409 user_changed (tested in test_sessions.py) before the operation it is meant to exercise.
    owner = str(client.get("/api/v1/me").get_json()["user"]["id"])
    headers = {"X-CSRFToken": token, "Accept-Encoding": "identity", "X-Dudao-User": owner}
    app.config["_auth"] = {"headers": headers, "cookies": {"session": cookie.value}}
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    if os.environ.get("DUDAO_COUNT_CASES"):  # prints how many requests each operation got (run with -s)
        counts: Counter[str] = Counter()
        schema.hook("after_call")(lambda _context, case, _response: counts.update([case.operation.label]))
        atexit.register(lambda: print("cases:", sum(counts.values()), dict(counts)))
    schema.hook("map_case")(_clean_positive_case)
    return schema


def _clean_positive_case(_context: Any, case: Any) -> Any:
    """Leave control characters out of data meant to be valid; data meant to be invalid keeps them (a negative
    case whose only fault is a control character would become valid, and its acceptance be reported)."""
    generation = getattr(getattr(case, "meta", None), "generation", None)
    if generation is not None and generation.mode.is_negative:
        return case
    case.body = _without_control_characters(case.body)
    if case.query:
        case.query = _without_control_characters(case.query)
    return case
