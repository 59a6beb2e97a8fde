"""The review form: accept or return, with per-item notes and the settings of the tasks it opens."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate
from werkzeug.datastructures import MultiDict

from ...errors import AppError
from ..rectification.schemas import TaskSpecSchema
from ..schemas import TEXT, _Form


class ReviewSchema(_Form):
    """Accept or return a visit; per-item notes and task settings arrive as ``note-…``, ``deadline-…`` fields."""

    decision = fields.String(
        required=True,
        validate=validate.OneOf(["accept", "return"], error="请选择“审核通过”或“退回修改”。"),
        error_messages={"required": "请选择“审核通过”或“退回修改”。"},
    )
    comment = fields.String(load_default="", validate=TEXT)


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
