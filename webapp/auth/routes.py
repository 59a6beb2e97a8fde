"""Sign in and sign out."""

from __future__ import annotations

import secrets
from functools import cache
from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from marshmallow import ValidationError
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response

from ..extensions import db
from ..timeutil import utcnow
from .models import User, password_hash_method
from .passwords import problems
from .schemas import LoginSchema

bp = Blueprint("auth", __name__, template_folder="templates")


@cache
def _dummy_hash(method: str) -> str:
    # The same method as real accounts, so an unknown username costs the same time as a known one.
    return generate_password_hash(secrets.token_hex(16), method=method)


def _safe_next(target: str) -> str:
    """Only local paths may follow a sign-in (no open redirect)."""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc and not parts.scheme:
        return target
    return url_for("core.home")


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    """Show the sign-in form; sign in on POST (failures throttled: webapp/auth/throttle.py)."""
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("core.home"))
    if request.method == "GET":
        return render_template("auth/login.html", errors={}, form={"next": request.args.get("next", "")})
    try:
        data = LoginSchema().load(request.form.to_dict())
    except ValidationError as exc:
        return render_template("auth/login.html", errors=exc.messages, form=request.form), 422
    user = db.session.scalar(select(User).where(User.username == data["username"].strip()))
    if user is None:
        # The same work as for a real account, so the answer time does not tell which names exist.
        check_password_hash(_dummy_hash(password_hash_method()), data["password"])
    if user is None or not user.check_password(data["password"]):
        errors = {"_form": ["用户名或密码错误。"]}
        return render_template("auth/login.html", errors=errors, form=request.form), 401
    if not user.is_active:
        errors = {"_form": ["该账号已停用，请联系管理员。"]}
        return render_template("auth/login.html", errors=errors, form=request.form), 403
    user.last_login_at = utcnow()
    db.session.commit()
    login_user(user, remember=True)
    return redirect(_safe_next(data["next"]))


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    """Sign out (POST only, so a link elsewhere cannot sign a user out).

    Ends the session on the server: the generation is bumped, so a copy of the session or remember-me cookie
    no longer works anywhere (phones keep their outbox and ask to sign in again).
    """
    current_user.end_sessions()
    db.session.commit()
    logout_user()
    return redirect(url_for("auth.login"))


@bp.route("/account")
@login_required
def account() -> str:
    """The signed-in person's account: change password, sign out on every device."""
    return render_template("auth/account.html", errors={})


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> str | Response | tuple[str, int]:
    """Choose a new password (required before anything else after an import or a reset)."""
    if request.method == "GET":
        return render_template("auth/password.html", errors={})
    errors: dict[str, list[str]] = {}
    new = request.form.get("new_password", "")
    if not current_user.check_password(request.form.get("current_password", "")):
        errors["current_password"] = ["当前密码不正确。"]
    found = problems(new, current_user.username)
    if found:
        errors["new_password"] = found
    elif new != request.form.get("confirm_password", ""):
        errors["confirm_password"] = ["两次输入的新密码不一致。"]
    elif current_user.check_password(new):
        errors["new_password"] = ["新密码不能与当前密码相同。"]
    if errors:
        return render_template("auth/password.html", errors=errors), 422
    user = current_user._get_current_object()
    user.set_password(new)  # ends the other sessions
    user.must_change_password = False
    db.session.commit()
    login_user(user, remember=True)  # this one goes on, with the new generation
    # Back where the person was sent from (the phone app sends ?next=/inspect/), local paths only.
    return redirect(_safe_next(request.args.get("next", "")))


@bp.route("/account/sessions/end", methods=["POST"])
@login_required
def end_sessions() -> Response:
    """退出所有设备: end every session of this person (phones, other browsers, remember-me cookies)."""
    current_user.end_sessions()
    db.session.commit()
    logout_user()
    return redirect(url_for("auth.login"))
