"""marshmallow schemas that validate a policy pack file and build the model."""

from __future__ import annotations

import dataclasses
import re
from datetime import date
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
from .seeds import normalize
from .vocabulary import (
    ACTIVITY_FORMS,
    ACTIVITY_KINDS,
    BINDING_WORDS,
    BINDINGS,
    CHECK_TYPES,
    CHECKED_BY,
    CHECKLISTS,
    CONCEPTS,
    DUE_KINDS,
    LOCATIONS,
    OPERATORS,
    PACK_STATUSES,
    PERIODS,
    QUOTA_SCHOOLS,
    QUOTA_WHO,
    SCHOOL_TRAITS,
    SECTIONS,
    SETTING_TYPES,
)

ITEM_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
CONCEPT = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
SETTING_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
MONTH_DAY = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")
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
    "deadline": set(),
}
CHECK_ALLOWS: dict[str, set[str]] = {
    "yes_no": set(),
    "text": set(),
    "numeric": {"operator", "value", "unit", "by_stage"},
    "percentage": {"operator", "value", "unit"},
    "count_per_period": {"count", "period", "unit"},
    "deadline": set(),
}


class CheckSchema(_Strict):
    """How an item is checked; the fields needed depend on ``type``."""

    type = fields.String(required=True, validate=_one_of(CHECK_TYPES))
    operator = fields.String(validate=_one_of(OPERATORS))
    value = fields.Float()
    unit = fields.String()
    by_stage = fields.Dict(keys=fields.String(validate=_one_of(SECTIONS)), values=fields.Float())
    count = fields.Integer(validate=validate.Range(min=1))
    period = fields.String(validate=_one_of(PERIODS))

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
    """An audience: sections, locations, traits (format v1's ``boarding_only`` is read as trait ``boarding``)."""

    stages = fields.List(fields.String(validate=_one_of(SECTIONS)))
    locations = fields.List(fields.String(validate=_one_of(LOCATIONS)))
    traits = fields.List(fields.String(validate=_one_of(SCHOOL_TRAITS)))
    boarding_only = fields.Boolean()

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> model.AppliesTo:
        traits = list(data.get("traits", ()))
        if data.get("boarding_only"):
            traits.append("boarding")
        return model.AppliesTo(
            stages=tuple(dict.fromkeys(data.get("stages", ()))),
            locations=tuple(dict.fromkeys(data.get("locations", ()))),
            traits=tuple(dict.fromkeys(traits)),
        )


#: Which fields each kind of due rule needs, and which it may carry.
DUE_REQUIRES: dict[str, set[str]] = {
    "once": {"date"},
    "yearly": {"month_day"},
    "termly": set(),
    "cycle": {"years"},
    "relative": {"setting", "offset_years", "month_day"},
}
DUE_ALLOWS: dict[str, set[str]] = {
    "once": {"date"},
    "yearly": {"month_day"},
    "termly": {"offset_days"},
    "cycle": {"years", "anchor", "anchor_setting"},
    "relative": {"setting", "offset_years", "month_day"},
}


class DueSchema(_Strict):
    """An item's time rule; the fields needed depend on ``kind``."""

    kind = fields.String(required=True, validate=_one_of(DUE_KINDS))
    date = fields.Date()
    month_day = fields.String(validate=validate.Regexp(MONTH_DAY, error="month_day must be MM-DD"))
    offset_days = fields.Integer(validate=validate.Range(min=0, max=366))
    years = fields.Integer(validate=validate.Range(min=1, max=10))
    anchor = fields.Date()
    anchor_setting = fields.String(validate=validate.Regexp(SETTING_KEY))
    setting = fields.String(validate=validate.Regexp(SETTING_KEY))
    offset_years = fields.Integer(validate=validate.Range(min=-10, max=10))

    @validates_schema
    def fields_fit_kind(self, data: dict[str, Any], **_: Any) -> None:
        """Refuse a rule that lacks what its kind needs or carries extras."""
        kind = data.get("kind")
        if kind not in DUE_REQUIRES:
            return
        present = set(data) - {"kind"}
        errors: dict[str, list[str]] = {}
        for name in sorted(DUE_REQUIRES[kind] - present):
            errors[name] = [f"due kind {kind} needs {name}"]
        for name in sorted(present - DUE_ALLOWS[kind]):
            errors[name] = [f"due kind {kind} does not take {name}"]
        if kind == "cycle" and ("anchor" in data) == ("anchor_setting" in data):
            errors["anchor"] = ["a cycle needs either anchor (from the text) or anchor_setting (a county setting)"]
        if "month_day" in data and "month_day" not in errors:
            month, day = (int(part) for part in data["month_day"].split("-"))
            try:
                date(2024, month, day)  # a leap year: 02-29 is a real day
            except ValueError:
                errors["month_day"] = [f"no such day: {data['month_day']}"]
        if errors:
            raise ValidationError(errors)

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> model.Due:
        return model.Due(**data)


class ReferenceSchema(_Strict):
    """A number from a national standard, shown as 参考 beside the item."""

    standard = fields.String(required=True, validate=validate.Length(min=2))
    text = fields.String(required=True, validate=validate.Length(min=1))

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> model.Reference:
        return model.Reference(**data)


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
    concept = fields.String(
        required=True,
        validate=[
            validate.Regexp(CONCEPT),
            validate.OneOf(list(CONCEPTS), error="unknown concept {input}: add it to checklists/concepts.py"),
        ],
    )
    title = fields.String(required=True, validate=validate.Length(min=2, max=TITLE_MAX))
    guidance = fields.String(load_default="")
    check = fields.Nested(CheckSchema, required=True)
    photo_required = fields.Boolean(load_default=False)
    checked_by = fields.String(required=True, validate=_one_of(CHECKED_BY))
    applies_to = fields.Nested(AppliesToSchema, load_default=None)
    effective_from = fields.Date(load_default=None)
    effective_until = fields.Date(load_default=None)
    quota = fields.Nested(QuotaSchema, load_default=None)
    binding = fields.String(load_default="mandatory", validate=_one_of(BINDINGS))
    binding_word = fields.String(load_default=None, validate=validate.OneOf(BINDING_WORDS))
    due = fields.Nested(DueSchema, load_default=None)
    reference = fields.Nested(ReferenceSchema, load_default=None)
    sources = fields.List(fields.Nested(SourceSchema), required=True, validate=validate.Length(min=1))

    @validates_schema
    def deadline_has_due(self, data: dict[str, Any], **_: Any) -> None:
        """A deadline check is judged against the item's due rule: it must have one."""
        check = data.get("check")
        if check is not None and check.type == "deadline" and data.get("due") is None:
            raise ValidationError({"due": ["check type deadline needs the item's due rule"]})

    @validates_schema
    def binding_word_is_quoted(self, data: dict[str, Any], **_: Any) -> None:
        """A soft item names its soft word, and that word stands in one of its quotes."""
        binding, word = data.get("binding", "mandatory"), data.get("binding_word")
        if binding == "soft" and not word:
            raise ValidationError({"binding_word": ["a soft item names its word (力争, 原则上 …)"]})
        if binding != "soft" and word:
            raise ValidationError({"binding_word": ["binding_word goes with binding: soft"]})
        if word and data.get("sources") and not any(word in normalize(src.quote) for src in data["sources"]):
            raise ValidationError({"binding_word": [f"binding word {word} is not in any of the item's quotes"]})

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


class DocumentSectionSchema(_Strict):
    """A part of a document, by section prefix, with its own audience."""

    prefix = fields.String(required=True, validate=validate.Length(min=1))
    addresses = fields.Nested(AppliesToSchema, required=True)

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> model.DocumentSection:
        return model.DocumentSection(**data)


class DocumentSchema(_Strict):
    """A seed document cited by the pack, and whom it addresses."""

    file = fields.String(required=True)
    doc_no = fields.String(required=True)
    title = fields.String(required=True)
    addresses = fields.Nested(AppliesToSchema, required=True)
    issued_on = fields.Date(load_default=None)
    effective_from = fields.Date(load_default=None)
    effective_until = fields.Date(load_default=None)
    sections = fields.List(fields.Nested(DocumentSectionSchema), load_default=list)

    @validates_schema
    def dates_in_order(self, data: dict[str, Any], **_: Any) -> None:
        """A document cannot end before it starts."""
        start, end = data.get("effective_from"), data.get("effective_until")
        if start and end and start > end:
            raise ValidationError({"effective_until": ["effective_until is before effective_from"]})

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> model.Document:
        data["sections"] = tuple(data["sections"])
        return model.Document(**data)


class CountySettingSchema(_Strict):
    """A value each county sets itself (验收年份 …), which due rules refer to by key."""

    key = fields.String(required=True, validate=validate.Regexp(SETTING_KEY))
    label = fields.String(required=True, validate=validate.Length(min=1, max=24))
    type = fields.String(required=True, validate=_one_of(SETTING_TYPES))
    default = fields.Raw(load_default=None)
    note = fields.String(load_default="")

    @validates_schema
    def default_fits_type(self, data: dict[str, Any], **_: Any) -> None:
        """A year default is a year number, a date default a date."""
        default, kind = data.get("default"), data.get("type")
        if default is None:
            return
        if kind == "year" and not (isinstance(default, int) and 1900 <= default <= 2100):
            raise ValidationError({"default": ["a year setting's default is a year such as 2027"]})
        if kind == "date" and not isinstance(default, date):
            raise ValidationError({"default": ["a date setting's default is a date such as 2022-09-01"]})

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> model.CountySetting:
        return model.CountySetting(**data)


def _inherit(item: model.Item, documents: dict[str, model.Document]) -> model.Item:
    """Give an item its document's audience (by its first source's section) and dates."""
    document = documents.get(item.sources[0].file)
    if document is None:  # reported by the loader's cross-checks
        return item
    return dataclasses.replace(
        item,
        audience=document.audience_for(item.sources[0].section),
        effective_from=item.effective_from or document.effective_from,
        effective_until=item.effective_until or document.effective_until,
    )


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
    county_settings = fields.List(fields.Nested(CountySettingSchema), load_default=list)

    @validates_schema
    def rubric_ids_unique(self, data: dict[str, Any], **_: Any) -> None:
        """Scores are stored by dimension id: ids must not repeat."""
        ids = [dimension.id for dimension in data.get("lesson_rubric", ())]
        if len(ids) != len(set(ids)):
            raise ValidationError({"lesson_rubric": ["dimension ids must be unique"]})

    @validates_schema
    def setting_keys_unique(self, data: dict[str, Any], **_: Any) -> None:
        """Due rules name a setting by key: keys must not repeat."""
        keys = [setting.key for setting in data.get("county_settings", ())]
        if len(keys) != len(set(keys)):
            raise ValidationError({"county_settings": ["setting keys must be unique"]})

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> model.Pack:
        documents = {doc.file: doc for doc in data["documents"]}
        checklists = tuple(
            dataclasses.replace(cl, items=tuple(_inherit(item, documents) for item in cl.items))
            for cl in data["checklists"]
        )
        return model.Pack(
            id=data["id"],
            name=data["name"],
            region=data["region"],
            status=data["status"],
            documents=tuple(data["documents"]),
            checklists=checklists,
            lesson_rubric=tuple(data["lesson_rubric"]),
            county_settings=tuple(data["county_settings"]),
        )
