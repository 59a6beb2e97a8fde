"""The in-app inbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..timeutil import utcnow

#: Kinds of notice and their Chinese names.
NOTICE_KINDS: dict[str, str] = {
    "task_assigned": "新的整改任务",
    "task_returned": "整改被退回",
    "task_due": "整改即将到期",
    "task_overdue": "整改已逾期",
    "task_requested": "申请销号",
    "task_closed": "整改已销号",
    "report_due": "自查报送即将截止",
    "report_submitted": "自查待核验",
    "report_returned": "自查被退回",
    "report_accepted": "自查已核验",
}


class Notice(db.Model):
    """One message to one person; ``key`` makes sending the same notice twice a no-op."""

    __tablename__ = "notices"
    __table_args__ = (
        UniqueConstraint("user_id", "key"),
        Index("ix_notices_user_unread", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(24))
    #: e.g. "task_overdue:12:2026-11-30" (daily ones carry the day, event ones their update id).
    key: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(500), default="")
    link: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]

    @property
    def kind_label(self) -> str:
        """The kind's Chinese name."""
        return NOTICE_KINDS.get(self.kind, self.kind)
