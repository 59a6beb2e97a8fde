"""教研员 lesson observations, guidance and other counted activities (issue 4)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_login import current_user

from checklists.vocabulary import ACTIVITY_FORMS, ACTIVITY_KINDS, GRADES, SUBJECTS


def home_progress() -> dict[str, Any] | None:
    """The signed-in 教研员's standing this term, for the home page (None for other roles)."""
    from .progress import quota_context, school_progress, standings_for

    if not current_user.is_authenticated or current_user.role != "researcher" or current_user.county is None:
        return None
    context = quota_context(current_user.county)
    return {
        "context": context,
        "standings": standings_for(context, [current_user.id])[current_user.id],
        "schools": school_progress(context, current_user),
    }


def register(app: Flask) -> None:
    """Register the pages, the API and the template helpers."""
    from .api import bp as api_bp
    from .routes import bp as pages_bp

    app.register_blueprint(api_bp)
    app.register_blueprint(pages_bp)
    app.jinja_env.globals["lessons_home"] = home_progress
    app.jinja_env.globals["LESSON_LABELS"] = {
        "kinds": ACTIVITY_KINDS,
        "forms": ACTIVITY_FORMS,
        "subjects": SUBJECTS,
        "grades": GRADES,
    }
