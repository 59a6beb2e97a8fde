"""The inbox: every role's notices, newest first; opening one marks it read."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select, update

from ..extensions import db
from ..timeutil import utcnow
from .models import Notice

bp = Blueprint("notices", __name__, url_prefix="/inbox", template_folder="templates")
SHOWN = 100


def unread_count(user: Any) -> int:
    """The person's unread notices (for the navigation)."""
    return db.session.scalar(
        select(func.count()).select_from(Notice).where(Notice.user_id == user.id, Notice.read_at.is_(None))
    )


@bp.route("/")
@login_required
def inbox() -> str:
    """The latest notices."""
    rows = db.session.scalars(
        select(Notice).where(Notice.user_id == current_user.id).order_by(Notice.id.desc()).limit(SHOWN)
    ).all()
    return render_template("notices/inbox.html", notices=rows)


@bp.route("/<int:notice_id>")
@login_required
def open_notice(notice_id: int) -> Any:
    """Mark the notice read and go where it points."""
    notice = db.session.get(Notice, notice_id) if 0 < notice_id < 2**31 else None
    if notice is None or notice.user_id != current_user.id:
        abort(404)
    if notice.read_at is None:
        notice.read_at = utcnow()
        db.session.commit()
    # Links are made by the app (paths on this site); anything else goes back to the inbox.
    target = notice.link if notice.link.startswith("/") and not notice.link.startswith("//") else ""
    return redirect(target or url_for("notices.inbox"))


@bp.route("/read", methods=["POST"])
@login_required
def read_all() -> Any:
    """Mark every notice read."""
    db.session.execute(
        update(Notice).where(Notice.user_id == current_user.id, Notice.read_at.is_(None)).values(read_at=utcnow())
    )
    db.session.commit()
    return redirect(url_for("notices.inbox"))
