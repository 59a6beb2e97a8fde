"""Validation of the school-profile and county-settings forms (Chinese messages)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from marshmallow import Schema, fields, validate

from checklists.model import CountySetting
from checklists.vocabulary import SCHOOL_TRAITS

#: The years a county setting of type ``year`` may take.
YEARS = (2000, 2100)


class SchoolTraitsSchema(Schema):
    """The traits ticked on a school's form (codes of SCHOOL_TRAITS)."""

    traits = fields.List(
        fields.String(validate=validate.OneOf(list(SCHOOL_TRAITS), error="不是有效的学校特征：“{input}”。")),
        load_default=list,
    )


def _setting_field(setting: CountySetting) -> fields.Field:
    if setting.type == "year":
        return fields.Integer(
            load_default=None,
            validate=validate.Range(min=YEARS[0], max=YEARS[1], error=f"应为{YEARS[0]}到{YEARS[1]}之间的年份。"),
            error_messages={"invalid": "应为年份，如 2027。"},
        )
    return fields.Date(load_default=None, error_messages={"invalid": "日期格式应为 2026-09-01。"})


def load_county_settings(declared: Iterable[CountySetting], form: Mapping[str, str]) -> dict[str, Any]:
    """The values of a county-settings form, as stored (years as int, dates as ISO text).

    A blank field is left out, so the pack's default applies. Raises
    ValidationError with a Chinese message per field.
    """
    declared = list(declared)
    schema = Schema.from_dict({s.key: _setting_field(s) for s in declared})()
    raw = {s.key: form.get(s.key, "").strip() for s in declared}
    loaded = schema.load({k: v for k, v in raw.items() if v})
    values: dict[str, Any] = {}
    for key, value in loaded.items():
        if value is not None:
            values[key] = value if isinstance(value, int) else value.isoformat()
    return values
