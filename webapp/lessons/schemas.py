"""API payloads for 教研员 activity records (marshmallow), also used for the OpenAPI document."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate, validates_schema

from checklists.vocabulary import ACTIVITY_FORMS, ACTIVITY_KINDS, GRADES, LESSON_KINDS, SUBJECTS

from ..visits.schemas import DEVICE, ROW_ID, UUID, JsonBoolean, JsonInteger, attach_schema

TEXT = validate.Length(max=2000)


def _code_or_blank(vocabulary: dict[str, str]) -> validate.OneOf:
    return validate.OneOf(["", *vocabulary], error="取值无效。")


def _chosen(vocabulary: dict[str, str], blank: str) -> list[validate.Validator]:
    """A code that must be given: blank says ``blank``, anything else not in ``vocabulary`` is invalid."""
    return [validate.Length(min=1, error=blank), validate.OneOf(list(vocabulary), error="取值无效。")]


class _ActivityWriteBase(Schema):
    """The fields every kind of record has (one write of the whole record as edited on the phone)."""

    class Meta:
        unknown = EXCLUDE

    write_id = fields.String(required=True, validate=UUID)
    edited_at = fields.AwareDateTime(required=True)
    device_id = fields.String(load_default="", validate=DEVICE)
    is_deleted = JsonBoolean(load_default=False)
    form = fields.String(load_default="", validate=validate.Length(max=24))
    occurred_on = fields.Date(required=True)
    school_id = JsonInteger(load_default=None, allow_none=True, validate=ROW_ID)
    grade = fields.String(load_default="", validate=_code_or_blank(GRADES))
    class_name = fields.String(load_default="", validate=validate.Length(max=32))
    subject = fields.String(load_default="", validate=_code_or_blank(SUBJECTS))
    teacher_id = JsonInteger(load_default=None, allow_none=True, validate=ROW_ID)
    teacher_name = fields.String(load_default="", validate=validate.Length(max=64))
    topic = fields.String(load_default="", validate=validate.Length(max=200))
    participants = JsonInteger(load_default=None, allow_none=True, validate=validate.Range(min=0, max=100000))
    scores = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=32)),
        values=JsonInteger(validate=validate.Range(min=0, max=100)),
        load_default=dict,
    )
    strengths = fields.String(load_default="", validate=TEXT)
    suggestions = fields.String(load_default="", validate=TEXT)
    notes = fields.String(load_default="", validate=TEXT)

    @validates_schema
    def form_fits_kind(self, data: dict[str, Any], **_: Any) -> None:
        """The form must be one of the kind's forms (blank takes the kind's first)."""
        kind, form = data.get("kind"), data.get("form", "")
        if kind in ACTIVITY_FORMS and form and form not in ACTIVITY_FORMS[kind]:
            raise ValidationError({"form": ["形式与活动类别不符。"]})


class LessonWriteSchema(_ActivityWriteBase):
    """A lesson observed (听评课): at a school, of a subject and grade."""

    kind = fields.String(required=True, validate=validate.OneOf(sorted(LESSON_KINDS), error="活动类别无效。"))
    school_id = JsonInteger(
        required=True,
        validate=ROW_ID,
        error_messages={"required": "听评课必须选择学校。", "null": "听评课必须选择学校。"},
    )
    subject = fields.String(
        required=True, validate=_chosen(SUBJECTS, "请选择学科。"), error_messages={"required": "请选择学科。"}
    )
    grade = fields.String(
        required=True, validate=_chosen(GRADES, "请选择年级。"), error_messages={"required": "请选择年级。"}
    )


class SessionWriteSchema(_ActivityWriteBase):
    """Any other activity (工作室, 主题教研, 校长论坛): it has a topic."""

    kind = fields.String(
        required=True,
        validate=validate.OneOf(
            [k for k in ACTIVITY_KINDS if k not in LESSON_KINDS and k != "guidance"], error="活动类别无效。"
        ),
    )
    topic = fields.String(
        required=True,
        validate=[validate.Length(max=200), validate.Regexp(r"\s*\S", error="请填写活动主题。")],
        error_messages={"required": "请填写活动主题。"},
    )


class GuidanceWriteSchema(SessionWriteSchema):
    """A 教研指导 session: a topic, at a school."""

    kind = fields.String(required=True, validate=validate.OneOf(["guidance"], error="活动类别无效。"))
    school_id = JsonInteger(
        required=True,
        validate=ROW_ID,
        error_messages={"required": "教研指导必须选择学校。", "null": "教研指导必须选择学校。"},
    )


class ActivityWriteSchema(Schema):
    """PUT /api/v1/activities/{id}: the whole record as edited on the phone (one write), by its kind.

    What a record needs depends on its kind, and the document says so (``oneOf`` the variants): a lesson
    its school, subject and grade, a 教研指导 its topic and school, any other activity its topic.
    """

    variants = (LessonWriteSchema, GuidanceWriteSchema, SessionWriteSchema)

    def load(self, data: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """Load ``data`` with the variant of its ``kind`` (an unknown kind fails as a session's would)."""
        kind = data.get("kind") if isinstance(data, dict) else None
        variant = SessionWriteSchema
        if isinstance(kind, str) and kind in LESSON_KINDS:
            variant = LessonWriteSchema
        elif kind == "guidance":
            variant = GuidanceWriteSchema
        return variant().load(data, **kwargs)


class ActivityPhotoMetaSchema(Schema):
    """Form fields sent with an activity photo."""

    class Meta:
        unknown = EXCLUDE

    @pre_load
    def blank_is_absent(self, data: dict, **_: object) -> dict:
        """A form has no null: an empty field (or the text ``null``) means "not given"."""
        return {k: v for k, v in data.items() if v not in ("", "null")}

    sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$", error="必须是 SHA-256。"))
    caption = fields.String(load_default="", validate=validate.Length(max=200))
    captured_at = fields.AwareDateTime(load_default=None)
    latitude = fields.Float(load_default=None, validate=validate.Range(min=-90, max=90))
    longitude = fields.Float(load_default=None, validate=validate.Range(min=-180, max=180))
    device_id = fields.String(load_default="", validate=DEVICE)


ActivityPhotoAttachSchema = attach_schema(ActivityPhotoMetaSchema, "ActivityPhotoAttachSchema")


# --- responses (documented in OpenAPI) ---------------------------------------


class ActivityReceiptSchema(Schema):
    """What the server holds for a record: the write in force and the photos."""

    activity_id = fields.String(required=True)
    write_id = fields.String(required=True)
    is_deleted = JsonBoolean(required=True)
    photo_hashes = fields.List(fields.String(), required=True)
    is_locked = fields.Boolean(required=True)


class ActivityResponseSchema(Schema):
    """A record as stored, the decision on the write sent, and the receipt."""

    activity = fields.Dict(required=True)
    write = fields.Dict(required=True)
    receipt = fields.Nested(ActivityReceiptSchema, required=True)


class ActivityShowSchema(Schema):
    """A record as stored and its receipt."""

    activity = fields.Dict(required=True)
    receipt = fields.Nested(ActivityReceiptSchema, required=True)


class ActivityPhotoResponseSchema(Schema):
    """A stored photo and the record's receipt."""

    photo = fields.Dict(required=True)
    receipt = fields.Nested(ActivityReceiptSchema, required=True)


class ActivityReceiptOnlySchema(Schema):
    """A record's receipt."""

    receipt = fields.Nested(ActivityReceiptSchema, required=True)


class ResearcherBundleSchema(Schema):
    """Everything the phone needs to log activities offline and show progress."""

    county = fields.Dict(required=True)
    today = fields.String(required=True)
    term = fields.Dict(required=True, allow_none=True)
    schools = fields.List(fields.Dict(), required=True)
    teachers = fields.List(fields.Dict(), required=True)
    kinds = fields.List(fields.Dict(), required=True)
    subjects = fields.List(fields.Dict(), required=True)
    grades = fields.List(fields.Dict(), required=True)
    rubric = fields.List(fields.Dict(), required=True)
    quotas = fields.List(fields.Dict(), required=True)
    records = fields.List(fields.Dict(), required=True)
