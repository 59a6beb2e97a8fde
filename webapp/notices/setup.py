"""Hook the inbox into the app: its pages, the unread count in the navigation, ``flask notices``."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_login import current_user


def init(app: Flask) -> None:
    """Register the inbox, its command and the navigation's unread count."""
    from .cli import notices_cli
    from .routes import bp, unread_count

    app.register_blueprint(bp)
    app.cli.add_command(notices_cli)

    @app.context_processor
    def unread() -> dict[str, Any]:
        # Only pages that show the navigation ask (a lazy callable, not a query per render).
        return {"unread_notices": lambda: unread_count(current_user) if current_user.is_authenticated else 0}
