"""Flask-Login wiring: load users from the session, answer anonymous requests."""

from __future__ import annotations

from flask import Flask, Response, redirect, request, url_for

from ..errors import error_response, wants_json
from ..extensions import db, login_manager
from .models import User


def load_user(session_id: str) -> User | None:
    """Load the user of a session id ``"<id>:<epoch>"``; a stale epoch signs out."""
    user_id, _, epoch = session_id.partition(":")
    if not user_id.isdigit() or not epoch.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_epoch != int(epoch):
        return None
    return user


def unauthorized() -> Response:
    """Anonymous: JSON 401 for the API, the login page for people."""
    if wants_json():
        return error_response(401, "unauthorized", "请先登录。")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def init(app: Flask) -> None:
    """Install the loader and the unauthorized handler."""
    login_manager.user_loader(load_user)
    login_manager.unauthorized_handler(unauthorized)
