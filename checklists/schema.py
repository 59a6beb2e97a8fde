"""marshmallow schemas that validate a policy pack file and build the model."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import (
    EXCLUDE,
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from . import model
from .vocabulary import (
    ACTIVITY_FORMS,
    ACTIVITY_KINDS,
    CHECK_TYPES,
    CHECKED_BY,
    CHECKLISTS,
    LOCATIONS,
    OPERATORS,
    PACK_STATUSES,
    PERIODS,
    QUOTA_SCHOOLS,
    QUOTA_WHO,
    STAGES,
)

ITEM_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
CONCEPT = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
#: A phone row fits about 24 Chinese characters in two lines.
TITLE_MAX = 24


def _one_of(vocabulary: dict[str, Any]) -> validate.OneOf:
    return validate.OneOf(list(vocabulary))


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class SourceSchema(_Strict):
    """One citation: seed file, document number, section and quote."""

    file = fields.String(required=True)
    doc_no = fields.String(required=True, validate=validate.Length(min=1))
    section = fields.String(required=True, validate=validate.Length(min=1))
    quote = fields.String(required=True, validate=validate.Length(min=4, max=200))

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> model.Source:
        return model.Source(**data)


#: Which check fields each check type needs (and which it may carry).
CHECK_REQUIRES: dict[str, set[str]] = {
    "yes_no": set(),
    "text": set(),
    "numeric": {"operator", "unit"},
    "percentage": {"operator", "value"},
    "count_per_period": {"count", "period"},
    "deadline": {"due"},
}
CHECK_ALLOWS: dict[str, set[str]] = {
    "yes_no": set(),
    "text": set(),
    "numeric": {"operator", "value", "unit", "by_stage"},
    "percentage": {"operator", "value", "unit"},
    "count_per_period": {"count", "period", "unit"},
    "deadline": {"due"},
}


class CheckSchema(_Strict):
    """How an item is checked; the fields needed depend on ``type``."""

    type = fields.String(required=True, validate=_one_of(CHECK_TYPES))
    operator = fields.String(validate=_one_of(OPERATORS))
    value = fields.Float()
    unit = fields.String()
    by_stage = fields.Dict(keys=fields.String(validate=_one_of(STAGES)), values=fields.Float())
    count = fields.Integer(validate=validate.Range(min=1))
    period = fields.String(validate=_one_of(PERIODS))
    due = fields.Date()

    @validates_schema
    def check_fields_fit_type(self, data: dict[str, Any], **_: Any) -> None:
        """Refuse a check that lacks what its type needs or carries extras."""
        kind = data.get("type")
        if kind not in CHECK_REQUIRES:
            return
        present = set(data) - {"type"}
        missing = CHECK_REQUIRES[kind] - present
        extra = present - CHECK_ALLOWS[kind]
        errors: dict[str, list[str]] = {}
        for name in sorted(missing):
            errors[name] = [f"check type {kind} needs {name}"]
        for name in sorted(extra):
            errors[name] = [f"check type {kind} does not take {name}"]
        if kind == "numeric" and "value" not in data and not data.get("by_stage"):
            errors["value"] = ["numeric check needs value or by_stage"]
        if errors:
            raise ValidationError(errors)

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> model.Check:
        return model.Check(**data)


class AppliesToSchema(_Strict):
    """School profiles an item applies to."""

    stages = fields.List(fields.String(validate=_one_of(STAGES)))
    locations = fields.List(fields.String(validate=_one_of(LOCATIONS)))
    boarding_only = fields.Boolean()

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> model.AppliesTo:
        return model.AppliesTo(
            stages=tuple(data.get("stages", ())),
            locations=tuple(data.get("locations", ())),
            boarding_only=data.get("boarding_only", False),
        )


class QuotaSchema(_Strict):
    """Which activity kinds (and forms) count toward a count_per_period item, and for whom."""

    kinds = fields.List(fields.String(validate=_one_of(ACTIVITY_KINDS)), required=True, validate=validate.Length(min=1))
    who = fields.String(load_default="researcher", validate=_one_of(QUOTA_WHO))
    schools = fields.String(load_default="assigned", validate=_one_of(QUOTA_SCHOOLS))
    forms = fields.List(fields.String(), load_default=list)
    cycle_from = fields.Date(load_default=None)

    @validates_schema
    def forms_belong_to_kinds(self, data: dict[str, Any], **_: Any) -> None:
        """A form must be one of the counted kinds' forms."""
        known = {form for kind in data.get("kinds", ()) for form in ACTIVITY_FORMS.get(kind, {})}
        unknown = [form for form in data.get("forms", ()) if form not in known]
        if unknown:
            raise ValidationError({"forms": [f"form {', '.join(unknown)} is not a form of {data.get('kinds')}"]})

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> model.Quota:
        return model.Quota(
            kinds=tuple(dict.fromkeys(data["kinds"])),
            who=data["who"],
            schools=data["schools"],
            forms=tuple(dict.fromkeys(data["forms"])),
            cycle_from=data["cycle_from"],
        )


class RubricDimensionSchema(_Strict):
    """One scored dimension of the lesson evaluation."""

    id = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9_]*$"))
    label = fields.String(required=True, validate=validate.Length(min=1, max=12))
    max_score = fields.Integer(load_default=5, validate=validate.Range(min=2, max=10))

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> model.RubricDimension:
        return model.RubricDimension(**data)


class ItemSchema(_Strict):
    """One checkable requirement."""

    id = fields.String(required=True, validate=validate.Regexp(ITEM_ID))
    concept = fields.String(required=True, validate=validate.Regexp(CONCEPT))
    title = fields.String(required=True, validate=validate.Length(min=2, max=TITLE_MAX))
    guidance = fields.String(load_default="")
    check = fields.Nested(CheckSchema, required=True)
    photo_required = fields.Boolean(load_default=False)
    checked_by = fields.String(required=True, validate=_one_of(CHECKED_BY))
    applies_to = fields.Nested(AppliesToSchema, load_default=None)
    effective_from = fields.Date(load_default=None)
    effective_until = fields.Date(load_default=None)
    quota = fields.Nested(QuotaSchema, load_default=None)
    sources = fields.List(fields.Nested(SourceSchema), required=True, validate=validate.Length(min=1))

    @validates_schema
    def quota_fits_check(self, data: dict[str, Any], **_: Any) -> None:
        """A quota counts records per period: only a count_per_period check can have one."""
        quota, check = data.get("quota"), data.get("check")
        if quota is None or check is None:
            return
        if check.type != "count_per_period":
            raise ValidationError({"quota": ["a quota needs a count_per_period check"]})
        if check.period == "three_years" and quota.cycle_from is None and data.get("effective_from") is None:
            raise ValidationError({"quota": ["a three_years quota needs cycle_from (or the item's effective_from)"]})

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> model.Item:
        data["sources"] = tuple(data["sources"])
        if data["applies_to"] is None:
            data["applies_to"] = model.AppliesTo()
        return model.Item(**data)


class ChecklistSchema(_Strict):
    """A group of items; the id comes from the shared vocabulary."""

    id = fields.String(required=True, validate=_one_of(CHECKLISTS))
    items = fields.List(fields.Nested(ItemSchema), required=True, validate=validate.Length(min=1))

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> model.Checklist:
        return model.Checklist(id=data["id"], title=CHECKLISTS[data["id"]], items=tuple(data["items"]))


class DocumentSchema(_Strict):
    """A seed document cited by the pack."""

    file = fields.String(required=True)
    doc_no = fields.String(required=True)
    title = fields.String(required=True)
    issued_on = fields.Date(load_default=None)

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> model.Document:
        return model.Document(**data)


class PackSchema(Schema):
    """A whole policy pack file."""

    class Meta:
        unknown = EXCLUDE

    id = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9_]*$"))
    name = fields.String(required=True)
    region = fields.String(required=True)
    status = fields.String(required=True, validate=_one_of(PACK_STATUSES))
    documents = fields.List(fields.Nested(DocumentSchema), required=True, validate=validate.Length(min=1))
    checklists = fields.List(fields.Nested(ChecklistSchema), required=True, validate=validate.Length(min=1))
    lesson_rubric = fields.List(fields.Nested(RubricDimensionSchema), load_default=list)

    @validates_schema
    def rubric_ids_unique(self, data: dict[str, Any], **_: Any) -> None:
        """Scores are stored by dimension id: ids must not repeat."""
        ids = [dimension.id for dimension in data.get("lesson_rubric", ())]
        if len(ids) != len(set(ids)):
            raise ValidationError({"lesson_rubric": ["dimension ids must be unique"]})

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> model.Pack:
        return model.Pack(
            id=data["id"],
            name=data["name"],
            region=data["region"],
            status=data["status"],
            documents=tuple(data["documents"]),
            checklists=tuple(data["checklists"]),
            lesson_rubric=tuple(data["lesson_rubric"]),
        )
