"""Template helpers: Chinese labels, China time, htmx fragment rendering."""

from __future__ import annotations

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
from .timeutil import to_china

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


def china_time(value: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Format a stored UTC datetime in China time."""
    converted = to_china(value)
    return converted.strftime(fmt) if converted else ""


def number(value: Any) -> str:
    """Show 45.0 as 45 and 0.5 as 0.5."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


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
    app.add_template_filter(china_time)
    app.add_template_filter(number)
    app.jinja_env.globals["LABELS"] = LABELS
