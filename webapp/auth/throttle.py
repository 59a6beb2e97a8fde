"""Login throttling (Flask-Limiter): failed sign-ins counted per account and per address.

Only failures count (a successful sign-in costs nothing), unknown user names count like known ones, and the
limits and storage come from config: ``LOGIN_LIMIT_ACCOUNT``, ``LOGIN_LIMIT_ADDRESS`` and
``RATELIMIT_STORAGE_URI`` (``memory://`` by default; ``redis://host:6379/N`` when several app servers run, so
they count together). A refused attempt answers 429 with the wait in Chinese and ``Retry-After``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, render_template, request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address

from ..errors import error_response, wants_json

DEFAULTS = {
    "LOGIN_LIMIT_ACCOUNT": "5 per 15 minutes",
    "LOGIN_LIMIT_ADDRESS": "30 per 15 minutes",
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_KEY_PREFIX": "dudao",
    "RATELIMIT_HEADERS_ENABLED": False,
}


def _account_key() -> str:
    # The name as typed (case and spaces folded), bounded: unknown names are counted like real ones.
    return "account:" + request.form.get("username", "").strip().lower()[:64]


def _failed(response: Response) -> bool:
    return response.status_code != 302


def _limit_login(limiter: Limiter, view: Callable[..., Any]) -> Callable[..., Any]:
    per_account = limiter.limit(
        lambda: current_app.config["LOGIN_LIMIT_ACCOUNT"],
        key_func=_account_key,
        methods=["POST"],
        deduct_when=_failed,
        scope="login-account",
    )
    per_address = limiter.limit(
        lambda: current_app.config["LOGIN_LIMIT_ADDRESS"], methods=["POST"], deduct_when=_failed, scope="login-address"
    )
    return per_address(per_account(view))


def wait_text(seconds: int) -> str:
    """How long to wait, in Chinese."""
    if seconds < 60:
        return f"{seconds} 秒"
    return f"{math.ceil(seconds / 60)} 分钟"


def too_many(exc: RateLimitExceeded) -> Response:
    """429 with the wait in words and in ``Retry-After``: a page on /login, the error shape for the API."""
    current = current_app.extensions["dudao.limiter"].current_limit
    seconds = 60
    if current:
        # reset_at is a whole second after the window's end: never state more than the window itself.
        seconds = min(max(1, math.ceil(current.reset_at - time.time())), current.limit.get_expiry())
    message = f"登录失败次数过多，请 {wait_text(seconds)}后再试。"
    if wants_json() or request.endpoint != "auth.login":
        response = error_response(429, "too_many_attempts", message)
    else:
        form = {"username": request.form.get("username", ""), "next": request.form.get("next", "")}
        response = Response(render_template("auth/login.html", errors={"_form": [message]}, form=form), 429)
    response.headers["Retry-After"] = str(seconds)
    return response


def init(app: Flask) -> None:
    """Settings, this app's limiter on the sign-in view, and the 429 handler (after the blueprints)."""
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    # One limiter per app (not a module global): its storage and key prefix are this app's settings. The client
    # address is as Werkzeug sees it (set PROXY_FIX_X_FOR behind a load balancer).
    limiter = Limiter(
        key_func=get_remote_address,
        storage_uri=app.config["RATELIMIT_STORAGE_URI"],
        key_prefix=app.config["RATELIMIT_KEY_PREFIX"],
        headers_enabled=app.config["RATELIMIT_HEADERS_ENABLED"],
    )
    app.view_functions["auth.login"] = _limit_login(limiter, app.view_functions["auth.login"])
    limiter.init_app(app)
    app.extensions["dudao.limiter"] = limiter
    app.register_error_handler(RateLimitExceeded, too_many)
