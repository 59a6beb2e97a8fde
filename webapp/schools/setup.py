"""Hook the school's side into the app: its phone API and its self-report pages."""

from __future__ import annotations

from flask import Flask


def init(app: Flask) -> None:
    """Register the school API, the self-report pages and the bureau's view of the schools' side."""
    from .api import bp as api_bp
    from .bureau_routes import bp as side_bp
    from .report_routes import bp as reports_bp

    for blueprint in (api_bp, reports_bp, side_bp):
        app.register_blueprint(blueprint)
