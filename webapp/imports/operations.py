"""Validate a whole import, then write it; any error means nothing is written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select

from ..auth.models import User
from ..core.models import Assignment, County, School
from ..extensions import db
from ..field_messages import chinese
from .parsing import Table
from .schemas import ROW_SCHEMAS


@dataclass(frozen=True)
class RowError:
    """A problem in one cell: spreadsheet row number (header is row 1), column, message."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"第{self.row}行「{self.column}」：{self.message}"


@dataclass(frozen=True)
class Change:
    """What an import does to one row: 新增, 更新 (with the fields that change) or 未变."""

    row: int
    action: str  # created | updated | unchanged
    label: str
    fields: tuple[str, ...] = ()


@dataclass
class ImportResult:
    """What an import wrote (or, in a preview, would write)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    changes: list[Change] = field(default_factory=list)

    def note(self, row: int, action: str, label: str, fields: tuple[str, ...] = ()) -> None:
        """Count a row and keep what happens to it, for the preview."""
        setattr(self, action, getattr(self, action) + 1)
        self.changes.append(Change(row, action, label, fields))


class ImportRejected(Exception):
    """The import had errors and wrote nothing."""

    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} errors")
        self.errors = errors


@dataclass
class _Parsed:
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def _parse(kind: str, table: Table) -> _Parsed:
    schema_cls = ROW_SCHEMAS[kind]
    columns = schema_cls.COLUMNS
    to_column = {name: header for header, name in columns.items()}
    accepted = {**columns, **{name: name for name in columns.values()}}
    parsed = _Parsed()
    for header in table.headers:
        if header and header not in accepted:
            parsed.errors.append(RowError(1, header, "无法识别的列名（可用列：" + "、".join(columns) + "）。"))
    schema = schema_cls()
    present = {accepted[h] for h in table.headers if h in accepted}
    for name, spec in schema.fields.items():
        if spec.required and name not in present:
            parsed.errors.append(RowError(1, to_column[name], "缺少必填列。"))
    if any(e.message == "缺少必填列。" for e in parsed.errors):
        return parsed  # rows cannot be read without their required columns; unknown columns are only reported
    for index, raw in enumerate(table.rows):
        row_no = index + 2
        if not any(raw.values()):
            continue
        data = {accepted[h]: v for h, v in raw.items() if h in accepted}
        try:
            loader = getattr(schema, "load_row", schema.load)
            parsed.rows.append((row_no, loader(data)))
        except ValidationError as exc:
            for name, messages in sorted(exc.normalized_messages().items()):
                given = _echo(data.get(name, ""))
                for message in messages if isinstance(messages, list) else [str(messages)]:
                    echo = f"（填写的是“{given}”）" if given and name != "password" else ""
                    parsed.errors.append(RowError(row_no, to_column.get(name, name), chinese(message) + echo))
    return parsed


#: How much of a refused value the error list repeats (a 10,000-character cell would fill the page).
ECHO_CHARS = 40


def _echo(given: Any) -> str:
    """The value found, as the error list quotes it: at most ``ECHO_CHARS`` characters."""
    text = "" if given is None else str(given)
    return text if len(text) <= ECHO_CHARS else text[:ECHO_CHARS] + "…"


def _duplicates(parsed: _Parsed, key: Callable[[dict[str, Any]], Any], column: str) -> None:
    first_seen: dict[Any, int] = {}
    for row_no, data in parsed.rows:
        value = key(data)
        if value in first_seen:
            parsed.errors.append(RowError(row_no, column, f"与第{first_seen[value]}行重复。"))
        else:
            first_seen[value] = row_no


def _apply(obj: Any, data: dict[str, Any], labels: dict[str, str] | None = None) -> tuple[str, ...]:
    """Set the values that differ; return their column names (empty when nothing changed)."""
    changed = []
    for name, value in data.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.append((labels or {}).get(name, name))
    return tuple(changed)


def _labels(kind: str) -> dict[str, str]:
    return {name: header for header, name in ROW_SCHEMAS[kind].COLUMNS.items()}


def _import_schools(parsed: _Parsed, county: County, result: ImportResult) -> None:
    _duplicates(parsed, lambda d: d["code"], "学校代码")
    if parsed.errors:
        return
    existing = {s.code: s for s in db.session.scalars(select(School).where(School.county_id == county.id))}
    for row_no, data in parsed.rows:
        school = existing.get(data["code"])
        if "traits" not in data:
            # No 学校特征 column: the school keeps its traits, boarding follows 寄宿制.
            kept = set(school.traits if school else ()) - {"boarding"}
            data["traits"] = sorted(kept | ({"boarding"} if data["is_boarding"] else set()))
        label = f"{data['code']} {data['name']}"
        if school is None:
            db.session.add(School(county_id=county.id, **data))
            result.note(row_no, "created", label)
        elif changed := _apply(school, data, _labels("schools")):
            result.note(row_no, "updated", label, changed)
        else:
            result.note(row_no, "unchanged", label)


def _import_users(parsed: _Parsed, county: County, result: ImportResult) -> None:
    _duplicates(parsed, lambda d: d["username"], "用户名")
    names = [d["username"] for _, d in parsed.rows]
    existing = {u.username: u for u in db.session.scalars(select(User).where(User.username.in_(names)))}
    schools = {s.code: s.id for s in db.session.scalars(select(School).where(School.county_id == county.id))}
    for row_no, data in parsed.rows:
        _school_of_user(row_no, data, schools, parsed.errors)
        user = existing.get(data["username"])
        if user is not None and user.county_id != county.id:
            parsed.errors.append(RowError(row_no, "用户名", "该用户名已被其他县区或管理员使用。"))
        if user is None and not data.get("password"):
            parsed.errors.append(RowError(row_no, "初始密码", "新用户必须填写初始密码（至少10位）。"))
    if parsed.errors:
        return
    for row_no, data in parsed.rows:
        password = data.pop("password", None)
        user = existing.get(data["username"])
        label = f"{data['username']} {data['display_name']}"
        if user is None:
            user = User(county_id=county.id, **data)
            user.set_password(password)
            user.must_change_password = True  # an initial password: the person chooses their own at sign-in
            db.session.add(user)
            result.note(row_no, "created", label)
        elif changed := _apply(user, data, _labels("users")):
            # An existing user's password is theirs: re-imports never reset it.
            result.note(row_no, "updated", label, changed)
        else:
            result.note(row_no, "unchanged", label)


def _school_of_user(row_no: int, data: dict, schools: dict[str, int], errors: list[RowError]) -> None:
    """A 学校 account names its school by 学校代码 (of this county); other roles leave it empty."""
    code = (data.pop("school_code", None) or "").strip()
    if data.get("role") == "school":
        if code not in schools:
            errors.append(RowError(row_no, "学校代码", f"学校账号须填写本县区的学校代码（“{code}”不存在）。"))
        else:
            data["school_id"] = schools[code]
    elif code:
        errors.append(RowError(row_no, "学校代码", "只有学校账号填写学校代码。"))


def _import_assignments(parsed: _Parsed, county: County, result: ImportResult) -> None:
    _duplicates(parsed, lambda d: (d["username"], d["school_code"], d["kind"], d["starts_on"]), "用户名")
    names = {d["username"] for _, d in parsed.rows}
    codes = {d["school_code"] for _, d in parsed.rows}
    users = {
        u.username: u
        for u in db.session.scalars(select(User).where(User.username.in_(names), User.county_id == county.id))
    }
    schools = {
        s.code: s
        for s in db.session.scalars(select(School).where(School.code.in_(codes), School.county_id == county.id))
    }
    for row_no, data in parsed.rows:
        user = users.get(data["username"])
        if user is None:
            parsed.errors.append(RowError(row_no, "用户名", f"本县区没有用户“{data['username']}”，请先导入用户。"))
        elif user.role != data["kind"]:
            parsed.errors.append(
                RowError(row_no, "类型", f"用户“{data['username']}”的角色是{user.role_label}，不能做此类分配。")
            )
        if data["school_code"] not in schools:
            parsed.errors.append(
                RowError(row_no, "学校代码", f"本县区没有学校代码“{data['school_code']}”，请先导入学校。")
            )
    if parsed.errors:
        return
    for row_no, data in parsed.rows:
        user, school = users[data["username"]], schools[data["school_code"]]
        label = f"{user.display_name} → {school.name}（{data['starts_on']:%Y-%m-%d} 起）"
        found = db.session.scalar(
            select(Assignment).where(
                Assignment.user_id == user.id,
                Assignment.school_id == school.id,
                Assignment.kind == data["kind"],
                Assignment.starts_on == data["starts_on"],
            )
        )
        if found is None:
            db.session.add(
                Assignment(
                    user_id=user.id,
                    school_id=school.id,
                    kind=data["kind"],
                    starts_on=data["starts_on"],
                    ends_on=data["ends_on"],
                )
            )
            result.note(row_no, "created", label)
        elif changed := _apply(found, {"ends_on": data["ends_on"]}, _labels("assignments")):
            result.note(row_no, "updated", label, changed)
        else:
            result.note(row_no, "unchanged", label)


def _import_teachers(parsed: _Parsed, county: County, result: ImportResult) -> None:
    from ..lessons.models import Teacher  # the lesson log's table; imported here to keep imports light

    _duplicates(parsed, lambda d: (d["school_code"], d["name"]), "姓名")
    codes = {d["school_code"] for _, d in parsed.rows}
    schools = {
        s.code: s
        for s in db.session.scalars(select(School).where(School.code.in_(codes), School.county_id == county.id))
    }
    for row_no, data in parsed.rows:
        if data["school_code"] not in schools:
            parsed.errors.append(
                RowError(row_no, "学校代码", f"本县区没有学校代码“{data['school_code']}”，请先导入学校。")
            )
    if parsed.errors:
        return
    ids = [s.id for s in schools.values()]
    existing = {(t.school_id, t.name): t for t in db.session.scalars(select(Teacher).where(Teacher.school_id.in_(ids)))}
    for row_no, data in parsed.rows:
        school = schools[data.pop("school_code")]
        teacher = existing.get((school.id, data["name"]))
        label = f"{school.name} {data['name']}"
        if teacher is None:
            db.session.add(Teacher(school_id=school.id, **data))
            result.note(row_no, "created", label)
        elif changed := _apply(teacher, data, _labels("teachers")):
            result.note(row_no, "updated", label, changed)
        else:
            result.note(row_no, "unchanged", label)


_IMPORTERS = {
    "schools": _import_schools,
    "users": _import_users,
    "assignments": _import_assignments,
    "teachers": _import_teachers,
}


def import_table(kind: str, table: Table, county: County) -> ImportResult:
    """Validate every row of ``table`` and, only if all are valid, write them (flush only).

    Raises ImportRejected with every row error otherwise; the caller rolls back.
    """
    parsed = _parse(kind, table)
    result = ImportResult()
    # Cross-row and database checks run on the rows that passed the schema,
    # so one upload reports every problem; writing happens only without errors.
    _IMPORTERS[kind](parsed, county, result)
    if parsed.errors:
        raise ImportRejected(sorted(parsed.errors, key=lambda e: (e.row, e.column)))
    db.session.flush()
    return result
