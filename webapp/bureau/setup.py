"""Hook the bureau into the app: its blueprints, template filters and the audit log's recording."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from flask import Flask

from .formatting import item_marks, value_text


def metres(value: float | None) -> str:
    """850 米 / 1.2 公里."""
    if value is None:
        return ""
    return f"{value / 1000:.1f} 公里" if value >= 1000 else f"{value:.0f} 米"


def percent(value: float | None) -> str:
    """0.875 → 87.5%; no value → —."""
    if value is None:
        return "—"
    shown = f"{value * 100:.1f}".removesuffix(".0")
    return f"{shown}%"


def audit_value(value: Any) -> str:
    """An old or new value of the audit log, short and readable."""
    if value is None:
        return "（空）"
    if isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    else:
        text = str(value)
    return text if len(text) <= 300 else text[:300] + "…"


@cache
def _coded_fields() -> dict[tuple[str, str], dict[str, str]]:
    """(object type, field) → the words of its codes (states, decisions); built once, on first use."""
    from ..schools.models import REPORT_STATES
    from ..visits.models import VISIT_STATES
    from .rectification.models import TASK_STATES
    from .review.models import DECISIONS

    return {
        ("visit", "state"): VISIT_STATES,
        ("task", "state"): TASK_STATES,
        ("self_report", "state"): REPORT_STATES,
        ("review", "decision"): DECISIONS,
    }


def audit_shown(object_type: str, key: str, value: Any) -> str:
    """An audit value as people read it: a state or a decision in words, anything else by ``audit_value``."""
    words = _coded_fields().get((object_type, key), {})
    return words.get(value, audit_value(value)) if isinstance(value, str) else audit_value(value)


def init(app: Flask) -> None:
    """Register the bureau's pages and filters, and start recording changes."""
    from .audit import operations as audit
    from .compliance.routes import bp as compliance_bp
    from .dashboard.routes import bp as dashboard_bp
    from .rectification.routes import bp as rectification_bp
    from .reports.jobs import bp as report_jobs_bp
    from .reports.routes import bp as exports_bp
    from .review.routes import bp as bureau_bp

    audit.init(app)
    for blueprint in (bureau_bp, compliance_bp, rectification_bp, exports_bp, report_jobs_bp, dashboard_bp):
        app.register_blueprint(blueprint)
    app.add_template_filter(metres, "metres")
    app.add_template_filter(percent, "pct")
    app.add_template_filter(audit_value, "audit_value")
    app.add_template_filter(lambda value, check: value_text(check, value), "value_words")
    app.jinja_env.globals["item_marks"] = item_marks
    app.jinja_env.globals["AUDIT_OBJECTS"] = audit.OBJECT_TYPES
    app.jinja_env.globals["AUDIT_ACTIONS"] = audit.ACTIONS
    app.jinja_env.globals["AUDIT_FIELDS"] = audit.FIELDS
    app.jinja_env.globals["audit_shown"] = audit_shown
