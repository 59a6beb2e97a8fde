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


@dataclass
class ImportResult:
    """What an import wrote."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0


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
    if parsed.errors:
        return parsed
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
                for message in messages if isinstance(messages, list) else [str(messages)]:
                    parsed.errors.append(RowError(row_no, to_column.get(name, name), message))
    return parsed


def _duplicates(parsed: _Parsed, key: Callable[[dict[str, Any]], Any], column: str) -> None:
    first_seen: dict[Any, int] = {}
    for row_no, data in parsed.rows:
        value = key(data)
        if value in first_seen:
            parsed.errors.append(RowError(row_no, column, f"与第{first_seen[value]}行重复。"))
        else:
            first_seen[value] = row_no


def _apply(obj: Any, data: dict[str, Any]) -> bool:
    changed = False
    for name, value in data.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


def _import_schools(parsed: _Parsed, county: County, result: ImportResult) -> None:
    _duplicates(parsed, lambda d: d["code"], "学校代码")
    if parsed.errors:
        return
    existing = {s.code: s for s in db.session.scalars(select(School).where(School.county_id == county.id))}
    for _, data in parsed.rows:
        school = existing.get(data["code"])
        if school is None:
            db.session.add(School(county_id=county.id, **data))
            result.created += 1
        elif _apply(school, data):
            result.updated += 1
        else:
            result.unchanged += 1


def _import_users(parsed: _Parsed, county: County, result: ImportResult) -> None:
    _duplicates(parsed, lambda d: d["username"], "用户名")
    names = [d["username"] for _, d in parsed.rows]
    existing = {u.username: u for u in db.session.scalars(select(User).where(User.username.in_(names)))}
    for row_no, data in parsed.rows:
        user = existing.get(data["username"])
        if user is not None and user.county_id != county.id:
            parsed.errors.append(RowError(row_no, "用户名", "该用户名已被其他县区或管理员使用。"))
        if user is None and not data.get("password"):
            parsed.errors.append(RowError(row_no, "初始密码", "新用户必须填写初始密码（至少10位）。"))
    if parsed.errors:
        return
    for _, data in parsed.rows:
        password = data.pop("password", None)
        user = existing.get(data["username"])
        if user is None:
            user = User(county_id=county.id, **data)
            user.set_password(password)
            user.must_change_password = True  # an initial password: the person chooses their own at sign-in
            db.session.add(user)
            result.created += 1
        elif _apply(user, data):
            # An existing user's password is theirs: re-imports never reset it.
            result.updated += 1
        else:
            result.unchanged += 1


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
    for _, data in parsed.rows:
        user, school = users[data["username"]], schools[data["school_code"]]
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
            result.created += 1
        elif _apply(found, {"ends_on": data["ends_on"]}):
            result.updated += 1
        else:
            result.unchanged += 1


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
    for _, data in parsed.rows:
        school = schools[data.pop("school_code")]
        teacher = existing.get((school.id, data["name"]))
        if teacher is None:
            db.session.add(Teacher(school_id=school.id, **data))
            result.created += 1
        elif _apply(teacher, data):
            result.updated += 1
        else:
            result.unchanged += 1


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
