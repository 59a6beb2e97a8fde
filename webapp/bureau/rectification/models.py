"""Rectification tasks (整改): a failed item to put right by a deadline, with its history and photos."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ...auth.models import User
from ...core.models import School
from ...extensions import db
from ...timeutil import today_in_china, utcnow
from ...visits.models import StoredImage, Visit

#: Rectification task states: 整改中 → 待销号 (the school asks) → 已销号 (the reviewer closes); reopen goes back.
TASK_STATES: dict[str, str] = {"open": "整改中", "requested": "待销号", "closed": "已销号"}

#: What happened on a task, as listed on its page.
UPDATE_KINDS: dict[str, str] = {
    "opened": "下发整改",
    "progress": "整改进展",
    "request": "申请销号",
    "close": "审核销号",
    "reopen": "重新整改",
    "edit": "修改期限或责任人",
    "recheck_pass": "复查达标",
    "recheck_fail": "复查仍未达标",
}


class RectificationTask(db.Model):
    """A failed item on an accepted visit, to be put right by the school by a deadline."""

    __tablename__ = "rectification_tasks"
    __table_args__ = (
        UniqueConstraint("visit_id", "item_id"),
        Index("ix_rectification_tasks_county_state", "county_id", "state", "deadline"),
        Index("ix_rectification_tasks_school_item", "school_id", "item_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    county_id: Mapped[int] = mapped_column(ForeignKey("counties.id"))
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id"))
    item_id: Mapped[str] = mapped_column(String(96))
    concept: Mapped[str] = mapped_column(String(96), default="")
    section_id: Mapped[str] = mapped_column(String(32), default="")
    item_title: Mapped[str] = mapped_column(String(200))
    problem: Mapped[str] = mapped_column(Text, default="")
    deadline: Mapped[date]
    responsible_person: Mapped[str] = mapped_column(String(64), default="")
    state: Mapped[str] = mapped_column(String(16), default="open")
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closure_requested_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    school: Mapped[School] = relationship()
    visit: Mapped[Visit] = relationship()
    opened_by: Mapped[User] = relationship(foreign_keys=[opened_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])
    updates: Mapped[list[TaskUpdate]] = relationship(back_populates="task", order_by="TaskUpdate.id")

    @property
    def state_label(self) -> str:
        """The state's Chinese name."""
        return TASK_STATES.get(self.state, self.state)

    def is_overdue(self, today: date | None = None) -> bool:
        """Not closed and past its deadline (China date)."""
        return self.state != "closed" and self.deadline < (today or today_in_china())

    def days_open(self, today: date | None = None) -> int:
        """Days since the task was opened (until closed)."""
        end = self.closed_at.date() if self.closed_at else (today or today_in_china())
        return max(0, (end - self.opened_at.date()).days)


class TaskUpdate(db.Model):
    """One entry of a task's history: progress with photos, a closure request, a close, a reopen."""

    __tablename__ = "rectification_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("rectification_tasks.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: For re-checks: the visit that looked at the item again.
    visit_id: Mapped[str | None] = mapped_column(ForeignKey("visits.id"))
    device: Mapped[str] = mapped_column(String(128), default="")
    #: The phone's UUID of a progress entry sent from the outbox: sent twice, recorded once.
    client_id: Mapped[str | None] = mapped_column(String(36), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    task: Mapped[RectificationTask] = relationship(back_populates="updates")
    author: Mapped[User | None] = relationship()
    photos: Mapped[list[TaskPhoto]] = relationship(back_populates="update", order_by="TaskPhoto.created_at")

    @property
    def kind_label(self) -> str:
        """The kind's Chinese name."""
        return UPDATE_KINDS.get(self.kind, self.kind)


class TaskPhoto(StoredImage, db.Model):
    """A photo of what the school did, stored like visit photos (original, thumbnail, copy without GPS)."""

    __tablename__ = "rectification_photos"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("rectification_tasks.id"), index=True)
    update_id: Mapped[int] = mapped_column(ForeignKey("rectification_updates.id"))
    exif_captured_at: Mapped[datetime | None]
    exif_latitude: Mapped[float | None]
    exif_longitude: Mapped[float | None]

    update: Mapped[TaskUpdate] = relationship(back_populates="photos")
