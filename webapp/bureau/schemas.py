"""Form input of the bureau's pages, validated at the edge (one flat field-error shape)."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate
from werkzeug.datastructures import MultiDict

from ..errors import AppError

TEXT = validate.Length(max=4000, error="最多4000字。")
DATE_ERRORS = {"invalid": "日期格式应为 年-月-日。"}


class _Form(Schema):
    class Meta:
        unknown = EXCLUDE

    @pre_load
    def strip_blanks(self, data: dict[str, Any], **_: object) -> dict[str, Any]:
        """An empty form field means "not given"."""
        return {k: v for k, v in data.items() if not (isinstance(v, str) and v.strip() == "")}


class ReviewSchema(_Form):
    """Accept or return a visit; per-item notes and task settings arrive as ``note-…``, ``deadline-…`` fields."""

    decision = fields.String(
        required=True,
        validate=validate.OneOf(["accept", "return"], error="请选择“审核通过”或“退回修改”。"),
        error_messages={"required": "请选择“审核通过”或“退回修改”。"},
    )
    comment = fields.String(load_default="", validate=TEXT)


class TaskSpecSchema(_Form):
    """What the reviewer sets for a task opened from one failed item."""

    deadline = fields.Date(load_default=None, error_messages=DATE_ERRORS)
    responsible_person = fields.String(load_default="", validate=validate.Length(max=64, error="最多64字。"))
    problem = fields.String(load_default="", validate=TEXT)


class ProgressSchema(_Form):
    """The school's progress on a task, optionally asking for closure."""

    note = fields.String(load_default="", validate=TEXT)
    request_closure = fields.Boolean(load_default=False)


class CloseSchema(_Form):
    """The bureau closes a task."""

    note = fields.String(load_default="", validate=TEXT)


class ReopenSchema(_Form):
    """The bureau sends a task back to 整改中."""

    note = fields.String(load_default="", validate=TEXT)
    deadline = fields.Date(load_default=None, error_messages=DATE_ERRORS)


class EditTaskSchema(TaskSpecSchema):
    """The bureau changes a task's deadline, responsible person or description."""


def load_form(schema: Schema, data: MultiDict[str, str] | dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Validate form fields; errors become AppError 422 with fields named as in the form."""
    try:
        return schema.load(dict(data.items()))
    except ValidationError as exc:
        flat = {
            f"{prefix}{name}": list(msgs) if isinstance(msgs, list) else [str(msgs)]
            for name, msgs in exc.messages.items()
        }
        raise AppError(422, "invalid_form", "填写的内容有误，请检查标红的项目。", flat) from exc


def per_item(form: MultiDict[str, str], item_ids: list[str]) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """Per-item review notes and task settings.

    Fields: ``note-<item>``, ``deadline-<item>``, ``responsible-<item>``, ``problem-<item>``.
    """
    notes: dict[str, str] = {}
    specs: dict[str, dict[str, Any]] = {}
    errors: dict[str, list[str]] = {}
    for item_id in item_ids:
        note = form.get(f"note-{item_id}", "").strip()
        if note:
            if len(note) > 4000:
                errors[f"note-{item_id}"] = ["最多4000字。"]
            notes[item_id] = note
        raw = {
            "deadline": form.get(f"deadline-{item_id}", ""),
            "responsible_person": form.get(f"responsible-{item_id}", ""),
            "problem": form.get(f"problem-{item_id}", ""),
        }
        try:
            specs[item_id] = TaskSpecSchema().load(raw)
        except ValidationError as exc:
            names = {"deadline": "deadline", "responsible_person": "responsible", "problem": "problem"}
            for name, msgs in exc.messages.items():
                errors[f"{names.get(name, name)}-{item_id}"] = list(msgs) if isinstance(msgs, list) else [str(msgs)]
    if errors:
        raise AppError(422, "invalid_form", "填写的内容有误，请检查标红的项目。", errors)
    return notes, specs
