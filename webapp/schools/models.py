"""Self-reports: what a school reports itself on the items its documents leave to it (自查/报送)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..core.models import School, Term
from ..extensions import db
from ..timeutil import utcnow
from ..visits.models import StoredImage

#: draft (the school is filling it) → submitted → accepted | returned (→ submitted again).
REPORT_STATES: dict[str, str] = {
    "draft": "填报中",
    "submitted": "待核验",
    "accepted": "已核验",
    "returned": "已退回",
}


class SelfReport(db.Model):
    """One school's answer to one self-reported item for one term, and its verification."""

    __tablename__ = "self_reports"
    __table_args__ = (UniqueConstraint("school_id", "term_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    county_id: Mapped[int] = mapped_column(ForeignKey("counties.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("terms.id"))
    item_id: Mapped[str] = mapped_column(String(96))
    item_title: Mapped[str] = mapped_column(String(200), default="")
    #: The same value shape as a visit's item result ({"answer": "yes"}, {"number": 3} …).
    value: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    compliant: Mapped[bool | None]
    note: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default="draft")
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None]
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    verified_at: Mapped[datetime | None]
    comment: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    school: Mapped[School] = relationship()
    term: Mapped[Term] = relationship()
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])
    photos: Mapped[list[SelfReportPhoto]] = relationship(order_by="SelfReportPhoto.created_at")

    @property
    def state_label(self) -> str:
        """The state's Chinese name."""
        return REPORT_STATES.get(self.state, self.state)

    @property
    def value_label(self) -> str:
        """The reported value in words: 是 / 否 / 不适用 / the number."""
        value = self.value or {}
        if "answer" in value:
            return {"yes": "是", "no": "否", "na": "不适用"}.get(value["answer"], str(value["answer"]))
        return str(value.get("number", value.get("text", "—")))


class SelfReportPhoto(StoredImage, db.Model):
    """Evidence of a self-report, stored like every other photo."""

    __tablename__ = "self_report_photos"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("self_reports.id"), index=True)
