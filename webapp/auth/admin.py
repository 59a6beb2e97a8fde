"""The one list of accounts: a sortable, searchable table for the bureau, with the administrator's actions.

Reviewers see their county's accounts; the administrator sees every account and can disable or enable one,
or reset its password (both take effect at once, on every device).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select
from werkzeug.wrappers import Response

from ..core.models import Assignment
from ..extensions import db
from ..tables import like, one_page, page_from, search_from, sort_from, url_state
from ..templating import render_htmx
from ..timeutil import today_in_china
from .models import ROLES, User
from .passwords import problems
from .policy import roles_required

bp = Blueprint("users", __name__, template_folder="templates")

#: Sortable columns (``schools`` is the number of current assignments).
USER_SORTS = ("username", "name", "role", "schools", "login")
USERS_PER_PAGE = 50


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id) if 0 < user_id < 2**31 else None
    if user is None:
        abort(404)
    return user


def accounts_table(args: Any) -> dict[str, Any]:
    """One page of the accounts the signed-in person may see, sorted, searched and filtered by role."""
    sort = sort_from(args, USER_SORTS, "role")
    q = search_from(args)
    role = args.get("role", "")
    today = today_in_china()
    current = (Assignment.starts_on <= today) & (Assignment.ends_on.is_(None) | (Assignment.ends_on >= today))
    schools = (
        select(func.count()).where(Assignment.user_id == User.id, current).correlate(User).scalar_subquery()
    ).label("schools")
    query = select(User, schools)
    if current_user.role != "admin":
        query = query.where(User.county_id == current_user.county_id, User.role != "admin")
    if q:
        pattern = like(q)
        query = query.where(or_(User.username.like(pattern, escape="\\"), User.display_name.like(pattern, escape="\\")))
    if role in ROLES:
        query = query.where(User.role == role)
    column = {
        "username": User.username,
        "name": User.display_name,
        "role": User.role,
        "schools": schools,
        "login": User.last_login_at,
    }[sort.key]
    page = page_from(args)
    ordered = query.order_by(column.desc() if sort.descending else column.asc(), User.username)
    fetched = db.session.execute(ordered.offset((page - 1) * USERS_PER_PAGE).limit(USERS_PER_PAGE + 1)).all()
    rows, has_next = one_page(list(fetched), USERS_PER_PAGE)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return {
        "rows": rows,
        "has_next": has_next,
        "page_number": page,
        "total": total,
        "sort": sort,
        "q": q,
        "role": role,
        "args": url_state(sort, "role", q=q, role=role),
    }


def _page(status: int = 200, errors: dict[int, list[str]] | None = None, done: str = "") -> Response:
    response = render_htmx(
        "auth/users.html", "auth/_users_table.html", errors=errors or {}, done=done, **accounts_table(request.args)
    )
    response.status_code = status
    return response


@bp.route("/users")
@roles_required("admin", "reviewer")
def index() -> Response:
    """The accounts as a table (sort, search, role filter, pages); the administrator's actions on each row."""
    return _page(done=request.args.get("done", "")[:200])


@bp.route("/admin/users/")
@roles_required("admin", "reviewer")
def moved() -> Response:
    """The former administrator's list: now the one list of accounts (its arguments kept)."""
    return redirect(url_for("users.index", **request.args.to_dict()), code=301)


@bp.route("/admin/users/<int:user_id>/active", methods=["POST"])
@roles_required("admin")
def set_active(user_id: int) -> Response:
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


@bp.route("/admin/users/<int:user_id>/password", methods=["POST"])
@roles_required("admin")
def reset_password(user_id: int) -> Response:
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
