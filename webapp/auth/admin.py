"""Accounts for the administrator: disable or enable an account, reset a password; both take effect at once."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from ..extensions import db
from .models import User
from .passwords import problems
from .policy import roles_required

bp = Blueprint("users", __name__, url_prefix="/admin/users", template_folder="templates")


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id) if 0 < user_id < 2**31 else None
    if user is None:
        abort(404)
    return user


def _page(status: int = 200, **context: object) -> tuple[str, int]:
    users = db.session.scalars(select(User).order_by(User.county_id, User.role, User.username)).all()
    context.setdefault("errors", {})
    context.setdefault("done", "")
    return render_template("auth/users.html", users=users, **context), status


@bp.route("/")
@roles_required("admin")
def index() -> tuple[str, int]:
    """Every account, with its state and the actions on it."""
    return _page(done=request.args.get("done", ""))


@bp.route("/<int:user_id>/active", methods=["POST"])
@roles_required("admin")
def set_active(user_id: int) -> Response | tuple[str, int]:
    """Disable (``active=0``) or enable an account; disabling ends its sessions on every device at once."""
    user = _user_or_404(user_id)
    active = request.form.get("active") == "1"
    if user.id == current_user.id and not active:
        return _page(422, errors={user.id: ["不能停用自己的账号。"]})
    user.is_active_account = active
    if not active:
        user.end_sessions()
    db.session.commit()
    return redirect(url_for("users.index", done=f"{user.username} 已{'启用' if active else '停用'}"))


@bp.route("/<int:user_id>/password", methods=["POST"])
@roles_required("admin")
def reset_password(user_id: int) -> Response | tuple[str, int]:
    """Set an initial password: the person's sessions end and they must choose their own at next sign-in."""
    user = _user_or_404(user_id)
    password = request.form.get("password", "")
    found = problems(password, user.username)
    if found:
        return _page(422, errors={user.id: found})
    user.set_password(password)
    user.must_change_password = True
    db.session.commit()
    return redirect(url_for("users.index", done=f"{user.username} 的密码已重置，首次登录须修改"))
