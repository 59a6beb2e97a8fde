"""API payloads of the sync protocol (marshmallow): what the views load, and the OpenAPI document (webapp/apidoc.py).

Request schemas without ``Meta.unknown = EXCLUDE`` refuse unknown fields, and the document says so
(``additionalProperties: false``); answer schemas list what the views answer, checked by schemathesis.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from marshmallow import EXCLUDE, Schema, fields, pre_load, validate

from checklists.vocabulary import VISIT_TYPES

UUID = validate.Regexp(r"^[0-9a-fA-F-]{32,36}$", error="必须是 UUID。")
SHA256 = validate.Regexp(r"^[0-9a-f]{64}$", error="必须是 64 位小写十六进制 SHA-256。")
DEVICE = validate.Length(max=64)
#: Database ids are 32-bit on every back end we support.
ROW_ID = validate.Range(min=1, max=2**31 - 1, error="编号无效。")


class JsonInteger(fields.Integer):
    """An integer as JSON Schema (and so the document) means it: 3 or 3.0, not 2.5, "3" or true.

    marshmallow's own takes "3" and cuts 2.5 to 2, so the server would take what the document refuses.
    """

    default_error_messages = {"invalid": "必须是整数。"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        if isinstance(value, bool) or not whole:
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class JsonBoolean(fields.Boolean):
    """true or false (marshmallow's own also takes 1, "yes", "on" …)."""

    default_error_messages = {"invalid": "必须是 true 或 false。"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class DeclaredSchema(Schema):
    """What the phone holds for a visit: the server compares it with what arrived."""

    result_count = JsonInteger(required=True, validate=validate.Range(min=0, max=10000))
    photo_hashes = fields.List(fields.String(validate=SHA256), required=True, validate=validate.Length(max=500))


class VisitUpsertSchema(Schema):
    """PUT /api/v1/visits/{id}: create or update a visit header (idempotent)."""

    class Meta:
        unknown = EXCLUDE

    school_id = JsonInteger(required=True, validate=ROW_ID)
    checklist_version = fields.String(required=True, validate=validate.Length(equal=64))
    visit_type = fields.String(load_default="routine", validate=validate.OneOf(list(VISIT_TYPES)))
    state = fields.String(required=True, validate=validate.OneOf(["in_progress", "submitted"]))
    started_at = fields.AwareDateTime(load_default=None, default_timezone=None)
    submitted_at = fields.AwareDateTime(load_default=None)
    summary = fields.String(load_default="", validate=validate.Length(max=4000))
    device_id = fields.String(load_default="", validate=DEVICE)
    #: On a visit the bureau returned: the round (``visit.review_round``) a resubmission answers.
    review_round = JsonInteger(load_default=0, validate=validate.Range(min=0, max=10000))
    # Optional but never null: apispec would document a nullable ref as "any object".
    declared = fields.Nested(DeclaredSchema)


class ResultWriteSchema(Schema):
    """One edit of one item, made on the phone."""

    id = fields.String(required=True, validate=UUID)
    item_id = fields.String(required=True, validate=validate.Length(min=1, max=96))
    value = fields.Dict(required=True)
    observation = fields.String(load_default="", validate=validate.Length(max=4000))
    edited_at = fields.AwareDateTime(required=True)
    device_id = fields.String(load_default="", validate=DEVICE)


class ResultBatchSchema(Schema):
    """POST /api/v1/visits/{id}/results: a batch of edits."""

    writes = fields.List(fields.Nested(ResultWriteSchema), required=True, validate=validate.Length(min=1, max=500))


_WRITE_FIELDS = frozenset(ResultWriteSchema().fields)
_WRITE_REQUIRED = frozenset(name for name, field in ResultWriteSchema().fields.items() if field.required)
#: The fields the fast path knows: a field added to the schema turns it off until it learns the new one.
_FAST_FIELDS = frozenset({"id", "item_id", "value", "observation", "edited_at", "device_id"})


def load_result_batch_fast(payload: Any) -> dict[str, Any] | None:
    """``ResultBatchSchema().load(payload)`` for a batch that is plainly valid, else None (load it with the schema,
    which says what is wrong).

    A visit-sync carries 60 writes and the schema's per-field machinery was a tenth of its CPU. This takes
    only what the schema surely takes, with the schema's own validators, and answers what it answers;
    anything else (a missing or unknown field, another type, a value out of range) goes to the schema.
    """
    if _WRITE_FIELDS != _FAST_FIELDS or type(payload) is not dict or payload.keys() != {"writes"}:
        return None
    writes = payload["writes"]
    if type(writes) is not list or not 1 <= len(writes) <= 500:
        return None
    loaded = []
    for write in writes:
        if type(write) is not dict or not _WRITE_REQUIRED <= write.keys() <= _WRITE_FIELDS:
            return None
        write_id, item_id, value = write["id"], write["item_id"], write["value"]
        observation, device_id = write.get("observation", ""), write.get("device_id", "")
        if not (
            type(write_id) is str
            and UUID.regex.match(write_id)
            and type(item_id) is str
            and 1 <= len(item_id) <= 96
            and type(value) is dict
            and type(observation) is str
            and len(observation) <= 4000
            and type(device_id) is str
            and len(device_id) <= 64
            and type(write["edited_at"]) is str
        ):
            return None
        try:
            edited_at = datetime.fromisoformat(write["edited_at"])
        except ValueError:
            return None
        if edited_at.tzinfo is None or edited_at.tzinfo.utcoffset(edited_at) is None:
            return None
        loaded.append(
            {
                "id": write_id,
                "item_id": item_id,
                "value": dict(value),
                "observation": observation,
                "edited_at": edited_at,
                "device_id": device_id,
            }
        )
    return {"writes": loaded}


class PhotoMetaSchema(Schema):
    """Form fields sent with a photo upload."""

    class Meta:
        unknown = EXCLUDE

    @pre_load
    def blank_is_absent(self, data: dict, **_: object) -> dict:
        """A form has no null: an empty field (or the text ``null``) means "not given"."""
        return {k: v for k, v in data.items() if v not in ("", "null")}

    sha256 = fields.String(required=True, validate=SHA256)
    item_id = fields.String(load_default=None, validate=validate.Length(max=96))
    caption = fields.String(load_default="", validate=validate.Length(max=200))
    captured_at = fields.AwareDateTime(load_default=None)
    latitude = fields.Float(load_default=None, validate=validate.Range(min=-90, max=90))
    longitude = fields.Float(load_default=None, validate=validate.Range(min=-180, max=180))
    accuracy_m = fields.Float(load_default=None, validate=validate.Range(min=0, max=100000))
    device_id = fields.String(load_default="", validate=DEVICE)


class _NullIsAbsent(Schema):
    """A JSON body where null means "not given" (the field's default applies)."""

    class Meta:
        unknown = EXCLUDE

    @pre_load
    def null_is_absent(self, data: Any, **_: object) -> Any:
        """Drop null values before loading."""
        return {k: v for k, v in data.items() if v is not None} if isinstance(data, dict) else data


def attach_schema(meta: type[Schema], name: str) -> type[Schema]:
    """The JSON body of a photo PUT that names a finished resumable upload instead of sending the file:
    ``upload`` (its SHA-256, which is the photo's) and ``meta``'s other fields, each nullable."""
    declared: dict[str, Any] = {}
    for key, field in meta._declared_fields.items():
        if key != "sha256":
            declared[key] = copy.copy(field)
            declared[key].allow_none = True
    declared["upload"] = fields.String(required=True, validate=SHA256)
    return _NullIsAbsent.from_dict(declared, name=name)


PhotoAttachSchema = attach_schema(PhotoMetaSchema, "PhotoAttachSchema")


class PlanSchema(Schema):
    """POST /api/v1/visits: plan a visit to an assigned school."""

    school_id = JsonInteger(required=True, validate=ROW_ID)
    planned_on = fields.Date(required=True)
    visit_type = fields.String(load_default="routine", validate=validate.OneOf(list(VISIT_TYPES)))


class SchoolBundleQuerySchema(Schema):
    """GET /api/v1/schools/{id}/bundle: the kind of visit the checklist is for."""

    class Meta:
        unknown = EXCLUDE  # a cache-busting parameter is harmless

    visit_type = fields.String(load_default="routine", validate=validate.OneOf(list(VISIT_TYPES)))


# --- responses (documented in OpenAPI) ---------------------------------------


class ErrorBodySchema(Schema):
    """The one error shape."""

    code = fields.String(required=True)
    message = fields.String(required=True)
    fields_ = fields.Dict(data_key="fields", required=True)


class ErrorSchema(Schema):
    """``{"error": {...}}``."""

    error = fields.Nested(ErrorBodySchema, required=True)


class ReceiptSchema(Schema):
    """What the server holds for a visit, for the phone to keep and show."""

    visit_id = fields.String(required=True)
    state = fields.String(required=True)
    result_count = fields.Integer(required=True)
    photo_count = fields.Integer(required=True)
    photo_hashes = fields.List(fields.String(), required=True)
    declared_result_count = fields.Integer(allow_none=True, required=True)
    declared_photo_count = fields.Integer(allow_none=True, required=True)
    missing_photo_hashes = fields.List(fields.String(), required=True)
    is_fully_received = fields.Boolean(required=True)
    server_time = fields.String(required=True)


class WriteOutcomeSchema(Schema):
    """The decision on one write: applied, or superseded by a later edit."""

    id = fields.String(required=True)
    item_id = fields.String(required=True)
    decision = fields.String(required=True)
    outcome = fields.String(allow_none=True, required=True)


class ResultBatchResponseSchema(Schema):
    """Decisions for each write, and the visit's receipt."""

    writes = fields.List(fields.Nested(WriteOutcomeSchema), required=True)
    receipt = fields.Nested(ReceiptSchema, required=True)


class VisitResponseSchema(Schema):
    """A visit header and its receipt."""

    visit = fields.Dict(required=True)
    receipt = fields.Nested(ReceiptSchema, required=True)


class PhotoResponseSchema(Schema):
    """A stored photo and the visit's receipt."""

    photo = fields.Dict(required=True)
    receipt = fields.Nested(ReceiptSchema, required=True)


class UserSchema(Schema):
    """The signed-in user."""

    id = fields.Integer(required=True)
    username = fields.String(required=True)
    display_name = fields.String(required=True)
    role = fields.String(required=True)


class MeSchema(Schema):
    """The signed-in user, a CSRF token for writes and the server's clock."""

    user = fields.Nested(UserSchema, required=True)
    csrf_token = fields.String(required=True)
    server_time = fields.String(required=True)


class SchoolRefSchema(Schema):
    """A school as listed for the phone."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    code = fields.String(required=True)


class VisitListSchema(Schema):
    """The inspector's visits and schools."""

    visits = fields.List(fields.Dict(), required=True)
    schools = fields.List(fields.Nested(SchoolRefSchema), required=True)


class PlannedSchema(Schema):
    """A planned visit."""

    visit = fields.Dict(required=True)


class BundleSchema(Schema):
    """Everything needed to record a visit offline."""

    visit = fields.Dict(required=True)
    school = fields.Dict(required=True)
    checklist = fields.Dict(required=True)
    results = fields.List(fields.Dict(), required=True)
    photos = fields.List(fields.Dict(), required=True)
    rectifications = fields.List(fields.Dict(), required=True)
    #: The bureau's last decision (comments per item on a returned visit), or null.
    review = fields.Dict(required=True, allow_none=True)
    receipt = fields.Nested(ReceiptSchema, required=True)


class SchoolBundleSchema(Schema):
    """A school, its current checklist version and its open rectification tasks.

    When the pack has nothing for the school, ``checklist.applicable`` is false and
    ``checklist.not_applicable`` says why (本政策包不适用于幼儿园); that checklist is not
    stored, and planning a visit there answers 422 ``checklist_not_applicable``.
    """

    school = fields.Dict(required=True)
    checklist = fields.Dict(required=True)
    rectifications = fields.List(fields.Dict(), required=True)


class ReceiptOnlySchema(Schema):
    """A visit's receipt."""

    receipt = fields.Nested(ReceiptSchema, required=True)
