"""Answers of the school's phone API, as the OpenAPI document describes them (webapp/apidoc.py)."""

from __future__ import annotations

from marshmallow import Schema, fields


class SchoolPhoneBundleSchema(Schema):
    """The school, its open and recent 整改 tasks (findings, deadlines, photos, history), and the server's clock."""

    school = fields.Dict(required=True)
    tasks = fields.List(fields.Dict(), required=True)
    at = fields.String(required=True)


class ProgressAnswerSchema(Schema):
    """One progress entry recorded (201) or already recorded under the same UUID (200, ``replayed``)."""

    update_id = fields.Integer(required=True)
    task = fields.Dict(required=True)
    replayed = fields.Boolean(required=True)
