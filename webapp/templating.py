"""Template helpers: Chinese labels, China time, htmx fragment rendering."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Flask, Response, make_response, render_template, request

from checklists.vocabulary import (
    BINDINGS,
    CHECK_TYPES,
    CHECKED_BY,
    CONCEPTS,
    ITEM_STATUSES,
    LOCATIONS,
    OPERATORS,
    PACK_STATUSES,
    PERIODS,
    SCHOOL_TRAITS,
    SECTION_LABELS,
    SECTIONS,
    SETTING_TYPES,
    STAGES,
    VISIT_TYPES,
)

from .auth.models import ROLES
from .core.models import ASSIGNMENT_KINDS
from .timeutil import CHINA, to_china

LABELS: dict[str, dict[str, str]] = {
    "stage": STAGES,
    "location": LOCATIONS,
    "role": ROLES,
    "check_type": CHECK_TYPES,
    "checked_by": CHECKED_BY,
    "operator": OPERATORS,
    "period": PERIODS,
    "pack_status": PACK_STATUSES,
    "assignment": ASSIGNMENT_KINDS,
    "visit_type": {k: v[0] for k, v in VISIT_TYPES.items()},
    "section": SECTIONS,
    "section_part": SECTION_LABELS,
    "trait": SCHOOL_TRAITS,
    "binding": BINDINGS,
    "item_status": ITEM_STATUSES,
    "setting_type": SETTING_TYPES,
    "concept": CONCEPTS,
}


def label(value: Any, kind: str) -> str:
    """Chinese label of a code, e.g. ``'primary' | label('stage')`` → 小学."""
    return LABELS[kind].get(value, str(value))


#: The site's date styles: tables and lists, with the time where it matters, and formal documents.
DATE_STYLES = ("table", "time", "formal", "formal_time", "clock")


def show_date(value: Any, style: str = "table") -> str:
    """The one date filter: ``2026-11-24`` · ``time`` 2026-11-24 09:06 · ``formal`` 2026年11月24日 (+ time).

    ``clock`` is the time of day alone (09:06), for a span within one dated day.

    Datetimes are stored in UTC and shown in China time; plain dates are shown as they are;
    ISO strings (from JSON columns) are parsed first. Nothing gives an empty string.
    """
    if value is None or value == "":
        return ""
    if style not in DATE_STYLES:
        raise ValueError(f"unknown date style {style!r}")
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
        except ValueError:
            return value
    has_time = isinstance(value, datetime)
    if has_time:
        value = to_china(value) if value.tzinfo is None else value.astimezone(CHINA)
    if style == "clock":
        return f"{value:%H:%M}" if has_time else ""
    if style.startswith("formal"):
        text = f"{value.year}年{value.month}月{value.day}日"
    else:
        text = f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
    if style.endswith("time") and has_time:
        text += f" {value:%H:%M}"
    return text


def number(value: Any) -> str:
    """Show 45.0 as 45 and 0.5 as 0.5."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def dict_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``extra`` laid over it; a None in ``extra`` removes the key (for links that reset paging)."""
    merged = {**base, **extra}
    return {k: v for k, v in merged.items() if v is not None}


def render_htmx(page: str, fragment: str, **context: Any) -> Response:
    """Render the whole page, or only its fragment for an htmx request.

    The page template includes the fragment, so both show the same thing;
    ``Vary: HX-Request`` keeps caches from mixing the two.
    """
    template = fragment if request.headers.get("HX-Request") == "true" else page
    response = make_response(render_template(template, **context))
    response.headers.add("Vary", "HX-Request")
    return response


def init(app: Flask) -> None:
    """Register filters and globals."""
    app.add_template_filter(label)
    app.add_template_filter(show_date, "date")
    app.add_template_filter(number)
    app.add_template_filter(dict_merge)
    app.jinja_env.globals["LABELS"] = LABELS
