"""Row schemas for imports: Chinese column names, Chinese messages."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from checklists.vocabulary import LOCATIONS, STAGES, SUBJECTS

from ..auth.models import ROLES
from ..auth.passwords import problems as password_problems
from ..core.models import ASSIGNMENT_KINDS

REQUIRED = {"required": "必填。", "null": "必填。"}
_YES = {"是", "Y", "y", "yes", "1", "true", "寄宿", "寄宿制"}
_NO = {"否", "N", "n", "no", "0", "false", "非寄宿", ""}


def _choice(label_map: dict[str, str], what: str) -> fields.String:
    """A field that takes the Chinese label (or the code) and loads the code."""
    return fields.String(
        required=True,
        validate=validate.OneOf(
            list(label_map), error=f"不是有效的{what}（可选：" + "、".join(label_map.values()) + "）。"
        ),
        error_messages=REQUIRED,
    )


def _to_code(value: str, label_map: dict[str, str]) -> str:
    reverse = {label: code for code, label in label_map.items()}
    return reverse.get(value, value)


class _Row(Schema):
    #: Chinese column header → field name.
    COLUMNS: dict[str, str] = {}

    @pre_load
    def blank_to_missing(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        """Empty cells count as absent, so required fields say 必填."""
        return {k: v for k, v in data.items() if v not in ("", None)}


class SchoolRow(_Row):
    """One school."""

    COLUMNS = {
        "学校代码": "code",
        "学校名称": "name",
        "学段": "stage",
        "城乡类型": "location",
        "寄宿制": "is_boarding",
        "在校生数": "enrolment",
        "班级数": "class_count",
        "纬度": "latitude",
        "经度": "longitude",
        "教育集团": "group_name",
    }
    code = fields.String(
        required=True,
        validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,32}$", error="只能包含字母、数字、- 和 _，最长32位。"),
        error_messages=REQUIRED,
    )
    name = fields.String(
        required=True, validate=validate.Length(max=128, error="最长128个字。"), error_messages=REQUIRED
    )
    stage = _choice(STAGES, "学段")
    location = _choice(LOCATIONS, "城乡类型")
    is_boarding = fields.String(
        load_default="否", validate=validate.OneOf(sorted(_YES | _NO), error="应填写“是”或“否”。")
    )
    enrolment = fields.Integer(
        load_default=0,
        validate=validate.Range(min=0, max=20000, error="应为0到20000之间的整数。"),
        error_messages={"invalid": "应为整数。"},
    )
    class_count = fields.Integer(
        load_default=0,
        validate=validate.Range(min=0, max=400, error="应为0到400之间的整数。"),
        error_messages={"invalid": "应为整数。"},
    )
    latitude = fields.Float(
        load_default=None,
        validate=validate.Range(min=18, max=54, error="纬度应在18到54之间（中国境内）。"),
        error_messages={"invalid": "应为数字。"},
    )
    longitude = fields.Float(
        load_default=None,
        validate=validate.Range(min=73, max=135, error="经度应在73到135之间（中国境内）。"),
        error_messages={"invalid": "应为数字。"},
    )
    group_name = fields.String(load_default="", validate=validate.Length(max=64, error="最长64个字。"))

    @pre_load
    def labels_to_codes(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        """Accept 小学 as well as primary."""
        data = dict(data)
        if "stage" in data:
            data["stage"] = _to_code(data["stage"], STAGES)
        if "location" in data:
            data["location"] = _to_code(data["location"], LOCATIONS)
        return data

    @validates_schema(skip_on_field_errors=False)
    def coordinates_together(self, data: dict[str, Any], **_: Any) -> None:
        """Latitude and longitude come together."""
        if (data.get("latitude") is None) != (data.get("longitude") is None):
            raise ValidationError("纬度和经度须同时填写。", "latitude")

    def load_row(self, raw: dict[str, Any]) -> dict[str, Any]:
        """Load and turn 寄宿制 into a bool."""
        data = self.load(raw)
        data["is_boarding"] = data["is_boarding"] in _YES
        return data


class UserRow(_Row):
    """One user of the county (not admins: they are made on the command line)."""

    COLUMNS = {"用户名": "username", "姓名": "display_name", "角色": "role", "初始密码": "password"}
    COUNTY_ROLES = {k: v for k, v in ROLES.items() if k != "admin"}
    username = fields.String(
        required=True,
        validate=validate.Regexp(r"^[A-Za-z0-9_.-]{3,64}$", error="3到64位字母、数字、_ . -。"),
        error_messages=REQUIRED,
    )
    display_name = fields.String(
        required=True, validate=validate.Length(max=64, error="最长64个字。"), error_messages=REQUIRED
    )
    role = _choice(COUNTY_ROLES, "角色")
    password = fields.String(load_default=None)

    @validates_schema(skip_on_field_errors=False)
    def strong_password(self, data: dict[str, Any], **_: Any) -> None:
        """The one password rule (webapp/auth/passwords.py), with the user name (if it was valid)."""
        if data.get("password"):
            found = password_problems(data["password"], data.get("username") or "")
            if found:
                raise ValidationError("".join(found), "password")

    @pre_load
    def labels_to_codes(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        """Accept 责任督学 as well as inspector."""
        data = dict(data)
        if "role" in data:
            data["role"] = _to_code(data["role"], self.COUNTY_ROLES)
        return data


class AssignmentRow(_Row):
    """One assignment of a user to a school."""

    COLUMNS = {
        "用户名": "username",
        "学校代码": "school_code",
        "类型": "kind",
        "开始日期": "starts_on",
        "结束日期": "ends_on",
    }
    username = fields.String(required=True, error_messages=REQUIRED)
    school_code = fields.String(required=True, error_messages=REQUIRED)
    kind = _choice(ASSIGNMENT_KINDS, "类型")
    starts_on = fields.Date(required=True, error_messages={**REQUIRED, "invalid": "日期格式应为 2026-09-01。"})
    ends_on = fields.Date(load_default=None, error_messages={"invalid": "日期格式应为 2026-09-01。"})

    @pre_load
    def labels_to_codes(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        """Accept 挂牌督导 as well as inspector."""
        data = dict(data)
        if "kind" in data:
            data["kind"] = _to_code(data["kind"], ASSIGNMENT_KINDS)
        return data

    @validates_schema(skip_on_field_errors=False)
    def dates_in_order(self, data: dict[str, Any], **_: Any) -> None:
        """An assignment cannot end before it starts."""
        if data.get("ends_on") and data.get("starts_on") and data["ends_on"] < data["starts_on"]:
            raise ValidationError("结束日期早于开始日期。", "ends_on")


SUBJECT_ERROR = "不是有效的学科（可选：" + "、".join(SUBJECTS.values()) + "）。"


class TeacherRow(_Row):
    """One teacher of a school (for the 教研员's teacher picker and 西吉's coverage)."""

    COLUMNS = {"学校代码": "school_code", "姓名": "name", "学科": "subject", "在职": "is_active"}
    school_code = fields.String(required=True, error_messages=REQUIRED)
    name = fields.String(required=True, validate=validate.Length(max=64, error="最长64个字。"), error_messages=REQUIRED)
    subject = fields.String(
        load_default="",
        validate=validate.OneOf(["", *SUBJECTS], error=SUBJECT_ERROR),
    )
    is_active = fields.String(load_default="是")

    @pre_load
    def labels_to_codes(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        """Accept 数学 as well as math."""
        data = dict(data)
        if "subject" in data:
            data["subject"] = _to_code(data["subject"], SUBJECTS)
        return data

    @validates_schema(skip_on_field_errors=False)
    def yes_or_no(self, data: dict[str, Any], **_: Any) -> None:
        """在职 is 是 or 否."""
        if data.get("is_active", "是") not in _YES | _NO:
            raise ValidationError("请填写“是”或“否”。", "is_active")

    def load_row(self, raw: dict[str, Any]) -> dict[str, Any]:
        """Load and turn 在职 into a bool."""
        data = self.load(raw)
        data["is_active"] = data["is_active"] in _YES
        return data


ROW_SCHEMAS: dict[str, type[_Row]] = {
    "schools": SchoolRow,
    "users": UserRow,
    "assignments": AssignmentRow,
    "teachers": TeacherRow,
}
KIND_LABELS = {"schools": "学校", "users": "用户", "assignments": "挂牌督导/包片分配", "teachers": "教师名单"}
