"""What every bureau form shares: blank fields dropped, text limits, one flat field-error shape."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, pre_load, validate
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
