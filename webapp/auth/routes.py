"""Sign in and sign out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from marshmallow import ValidationError
from sqlalchemy import select
from werkzeug.wrappers import Response

from ..extensions import db
from ..timeutil import utcnow
from .models import User
from .schemas import LoginSchema

bp = Blueprint("auth", __name__, template_folder="templates")


def _safe_next(target: str) -> str:
    """Only local paths may follow a sign-in (no open redirect)."""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc and not parts.scheme:
        return target
    return url_for("core.home")


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    """Show the sign-in form; sign in on POST."""
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("core.home"))
    if request.method == "GET":
        return render_template("auth/login.html", errors={}, form={"next": request.args.get("next", "")})
    try:
        data = LoginSchema().load(request.form.to_dict())
    except ValidationError as exc:
        return render_template("auth/login.html", errors=exc.messages, form=request.form), 422
    user = db.session.scalar(select(User).where(User.username == data["username"].strip()))
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
    """Sign out (POST only, so a link elsewhere cannot sign a user out)."""
    logout_user()
    return redirect(url_for("auth.login"))
