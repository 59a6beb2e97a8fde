"""Time rules of items: resolve a ``due`` rule to a date, label it, and tell due from overdue.

No Flask here; the phone mirrors :func:`due_state` and :func:`due_text` in JS.

Decisions (shown to users through the labels):

- ``yearly`` resolves to this year's day (the year of ``on``): after it the item shows overdue for
  the rest of the year, since a report sent late is late; on 1 January the next year's day applies.
- ``cycle`` resolves to the last day of the cycle containing ``on`` (before the anchor: the first cycle's).
- ``relative`` needs the county's setting (or the pack's default); without it there is no date, and the
  label says the setting is missing.
- ``termly`` depends on the county's term calendar, which packs don't hold: no date, a label only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from .model import CountySetting, Due


def chinese_date(day: date) -> str:
    """``2026年12月5日``."""
    return f"{day.year}年{day.month}月{day.day}日"


def _month_day(text: str) -> tuple[int, int]:
    month, day = text.split("-")
    return int(month), int(day)


def _on_day(year: int, month_day: str) -> date:
    month, day = _month_day(month_day)
    try:
        return date(year, month, day)
    except ValueError:  # 02-29 in a common year
        return date(year, month, day - 1)


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def setting_value(key: str, declared: Sequence[CountySetting], values: Mapping[str, Any]) -> tuple[Any, str]:
    """The county's value for ``key`` (else the pack's default), parsed, and the setting's label."""
    setting = next((s for s in declared if s.key == key), None)
    label = setting.label if setting else key
    raw = values.get(key)
    if raw in (None, "") and setting is not None:
        raw = setting.default
    kind = setting.type if setting else ("year" if isinstance(raw, int) else "date")
    try:
        if kind == "year":
            return (int(raw) if raw not in (None, "") else None), label
        if isinstance(raw, date):
            return raw, label
        return (date.fromisoformat(str(raw)) if raw not in (None, "") else None), label
    except (TypeError, ValueError):
        return None, label


def _offset_text(years: int) -> str:
    if years < 0:
        return f"前{-years}年"
    if years > 0:
        return f"后{years}年"
    return "当年"


def resolve_due(
    rule: Due,
    on: date,
    declared: Sequence[CountySetting] = (),
    values: Mapping[str, Any] | None = None,
) -> tuple[date | None, str]:
    """The date ``rule`` falls due as of ``on`` (None when it has none), and its Chinese label."""
    values = values or {}
    if rule.kind == "once" and rule.date is not None:
        return rule.date, f"{chinese_date(rule.date)}前"
    if rule.kind == "yearly" and rule.month_day:
        month, day = _month_day(rule.month_day)
        return _on_day(on.year, rule.month_day), f"每年{month}月{day}日前"
    if rule.kind == "termly":
        return None, f"每学期开学后{rule.offset_days}天内" if rule.offset_days is not None else "每学期"
    if rule.kind == "cycle" and rule.years:
        anchor, label = (rule.anchor, "") if rule.anchor else setting_value(rule.anchor_setting or "", declared, values)
        if not isinstance(anchor, date):
            return None, f"每{rule.years}年一周期（县未设置{label}）"
        start = anchor
        while _add_years(start, rule.years) <= on:
            start = _add_years(start, rule.years)
        end = _add_years(start, rule.years) - timedelta(days=1)
        return end, f"每{rule.years}年一周期（自{chinese_date(anchor)}起），本周期{chinese_date(end)}前"
    if rule.kind == "relative" and rule.setting and rule.month_day and rule.offset_years is not None:
        year, label = setting_value(rule.setting, declared, values)
        month, day = _month_day(rule.month_day)
        when = f"{label}{_offset_text(rule.offset_years)}"
        if not isinstance(year, int):
            return None, f"{when}{month}月{day}日前（县未设置{label}）"
        due_on = _on_day(year + rule.offset_years, rule.month_day)
        return due_on, f"{chinese_date(due_on)}前（{when}）"
    raise ValueError(f"incomplete due rule: {rule}")


def due_as_dict(
    rule: Due,
    on: date,
    declared: Sequence[CountySetting] = (),
    values: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``{rule, on, label}`` for a composed or exported item (``on`` is null when unresolved)."""
    due_on, label = resolve_due(rule, on, declared, values)
    return {"rule": rule.as_dict(), "on": due_on.isoformat() if due_on else None, "label": label}


def due_state(due_on: date, today: date) -> tuple[str, int]:
    """``("due", days left)`` up to and on the day, ``("overdue", days past)`` after it."""
    if today <= due_on:
        return "due", (due_on - today).days
    return "overdue", (today - due_on).days


def due_text(due_on: date, today: date) -> str:
    """``应于2026年12月5日前`` or ``已逾期 12 天``."""
    state, days = due_state(due_on, today)
    return f"应于{chinese_date(due_on)}前" if state == "due" else f"已逾期 {days} 天"
