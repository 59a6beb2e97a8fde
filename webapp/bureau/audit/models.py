"""The audit log's record: one change, never edited."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ...auth.models import User
from ...extensions import db
from ...timeutil import utcnow


class AuditEntry(db.Model):
    """One recorded change: who, when, from which device, to what, old and new value.

    Append-only: the ORM refuses updates and deletes, and a database trigger
    (see the migration) refuses UPDATE statements too.
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_scope", "scope_type", "scope_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    device: Mapped[str] = mapped_column(String(128), default="")
    #: What changed (visit, item_result, photo, review, task, task_update, task_photo) …
    object_type: Mapped[str] = mapped_column(String(16))
    object_id: Mapped[str] = mapped_column(String(160))
    #: … and the page it shows on (a visit or a task).
    scope_type: Mapped[str] = mapped_column(String(16))
    scope_id: Mapped[str] = mapped_column(String(36))
    action: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    new_value: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    user: Mapped[User | None] = relationship()
