"""Hook the school's side into the app: its phone API and its self-report pages."""

from __future__ import annotations

from flask import Flask


def init(app: Flask) -> None:
    """Register the school API and the self-report pages."""
    from .api import bp as api_bp
    from .report_routes import bp as reports_bp

    app.register_blueprint(api_bp)
    app.register_blueprint(reports_bp)
