"""Reviews of submitted visits: the reviewer's decision and per-item comments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ...auth.models import User
from ...extensions import db
from ...timeutil import utcnow
from ...visits.models import Visit

#: A reviewer's decisions on a submitted visit.
DECISIONS: dict[str, str] = {"accepted": "审核通过", "returned": "退回修改"}


class Review(db.Model):
    """One reviewer decision on one submission of a visit (append-only: a resubmission gets a new one)."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")
    #: The submission judged (the visit's submit time then) and the round it closed.
    submitted_at: Mapped[datetime | None]
    review_round: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    visit: Mapped[Visit] = relationship()
    reviewer: Mapped[User] = relationship()
    comments: Mapped[list[ReviewComment]] = relationship(back_populates="review", order_by="ReviewComment.id")

    @property
    def decision_label(self) -> str:
        """The decision's Chinese name."""
        return DECISIONS.get(self.decision, self.decision)


class ReviewComment(db.Model):
    """A reviewer's comment on one item of the visit."""

    __tablename__ = "review_comments"
    __table_args__ = (UniqueConstraint("review_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id"))
    item_id: Mapped[str] = mapped_column(String(96))
    comment: Mapped[str] = mapped_column(Text)

    review: Mapped[Review] = relationship(back_populates="comments")
