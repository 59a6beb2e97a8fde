"""Validation of the composition form (school profile and visit type)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from checklists.vocabulary import LOCATIONS, SCHOOL_TRAITS, STAGES, VISIT_TYPES


class ComposeSchema(Schema):
    """A school profile and visit type to compose a checklist for."""

    stage = fields.String(
        load_default="primary",
        validate=validate.OneOf(list(STAGES), error="学段无效，可选：" + "、".join(STAGES.values())),
    )
    location = fields.String(
        load_default="town",
        validate=validate.OneOf(list(LOCATIONS), error="城乡类型无效，可选：" + "、".join(LOCATIONS.values())),
    )
    boarding = fields.Boolean(
        load_default=False, truthy={"1", "true", "on", "yes"}, falsy={"0", "false", "off", "no", ""}
    )
    traits = fields.List(
        fields.String(validate=validate.OneOf(list(SCHOOL_TRAITS), error="不是有效的学校特征：“{input}”。")),
        load_default=list,
    )
    visit_type = fields.String(
        load_default="routine",
        validate=validate.OneOf(list(VISIT_TYPES), error="督导类型无效。"),
    )
