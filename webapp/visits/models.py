"""Inspection visits, the results recorded on them, their write history and photos."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..core.models import School
from ..extensions import db
from ..packs.models import ChecklistVersion
from ..timeutil import utcnow

#: Visit states and their Chinese names; the bureau returns (已退回) or accepts (已通过) a submitted visit.
VISIT_STATES: dict[str, str] = {
    "planned": "计划中",
    "in_progress": "进行中",
    "submitted": "已提交",
    "returned": "已退回",
    "accepted": "已通过",
}
#: States a visit can move to from each state on the phone's word (never backwards).
#: Only a reviewer moves a visit from 已提交 to 已退回 or 已通过.
NEXT_STATES: dict[str, frozenset[str]] = {
    "planned": frozenset({"planned", "in_progress", "submitted"}),
    "in_progress": frozenset({"in_progress", "submitted"}),
    "submitted": frozenset({"submitted"}),
    "returned": frozenset({"returned", "submitted"}),
    "accepted": frozenset({"accepted"}),
}
#: States in which the phone may no longer change results or photos.
LOCKED_STATES: dict[str, str] = {"submitted": "该督导已提交", "accepted": "该督导已审核通过"}


class Visit(db.Model):
    """One inspector's visit to one school, against one checklist version.

    The id is a UUID made by the phone (or by the server for planned visits),
    so a visit started offline is created exactly once however often it syncs.
    """

    __tablename__ = "visits"
    __table_args__ = (
        Index("ix_visits_school_state", "school_id", "state"),
        # The bureau's lists and matrix: a county's visits by day (term), newest first.
        Index("ix_visits_county_day", "county_id", "visited_on", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    #: The school's county, kept here so the bureau's county-wide queries need no join.
    county_id: Mapped[int] = mapped_column(ForeignKey("counties.id"))
    inspector_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    checklist_version_id: Mapped[str] = mapped_column(ForeignKey("checklist_versions.id"))
    visit_type: Mapped[str] = mapped_column(String(16), default="routine")
    state: Mapped[str] = mapped_column(String(16), default="planned")
    planned_on: Mapped[date | None]
    #: Phone times: when recording started, first and last edit, submit.
    started_at: Mapped[datetime | None]
    first_recorded_at: Mapped[datetime | None]
    last_recorded_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    #: The day of the visit in China (first recording, else start, else plan): decides its term.
    visited_on: Mapped[date]
    #: How many times the bureau has returned it; a resubmission names the round it answers.
    review_round: Mapped[int] = mapped_column(default=0)
    #: Items judged 未达标 now (kept with the results), so the bureau's lists filter without a join.
    failed_count: Mapped[int] = mapped_column(default=0)
    summary: Mapped[str] = mapped_column(Text, default="")
    #: What the phone says it holds; the visit is complete only when all has arrived.
    declared_result_count: Mapped[int | None]
    declared_photo_hashes: Mapped[list[str] | None] = mapped_column(JSON)
    is_fully_received: Mapped[bool] = mapped_column(default=False)
    device_id: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    school: Mapped[School] = relationship()
    inspector: Mapped[User] = relationship()
    checklist_version: Mapped[ChecklistVersion] = relationship()
    results: Mapped[list[ItemResult]] = relationship(back_populates="visit", order_by="ItemResult.id")
    photos: Mapped[list[Photo]] = relationship(back_populates="visit", order_by="Photo.created_at")

    @property
    def state_label(self) -> str:
        """The state's Chinese name."""
        return VISIT_STATES.get(self.state, self.state)


class ItemResult(db.Model):
    """The value in force for one item of one visit (last write wins)."""

    __tablename__ = "item_results"
    #: Also the index of a visit's results (``visit_id`` first): no index of its own on ``visit_id``.
    __table_args__ = (UniqueConstraint("visit_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id"))
    item_id: Mapped[str] = mapped_column(String(96))
    write_id: Mapped[str] = mapped_column(String(36))
    value: Mapped[dict[str, Any]] = mapped_column(JSON)
    number_value: Mapped[float | None]
    outcome: Mapped[str | None] = mapped_column(String(8))
    observation: Mapped[str] = mapped_column(Text, default="")
    edited_at: Mapped[datetime]
    device_id: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    visit: Mapped[Visit] = relationship(back_populates="results")


class ResultWrite(db.Model):
    """Every write the server received, once each (its id is the phone's UUID).

    Superseded and overwritten values stay here: this is the item history.
    """

    __tablename__ = "result_writes"
    __table_args__ = (Index("ix_result_writes_visit_item", "visit_id", "item_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id"))
    item_id: Mapped[str] = mapped_column(String(96))
    value: Mapped[dict[str, Any]] = mapped_column(JSON)
    observation: Mapped[str] = mapped_column(Text, default="")
    edited_at: Mapped[datetime]
    device_id: Mapped[str] = mapped_column(String(64), default="")
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class StoredImage:
    """Columns every stored photo has: its hash, size, caption, the three storage keys and who uploaded it.

    Visit, activity and rectification photos share them; each table adds its own owner and metadata.
    """

    sha256: Mapped[str] = mapped_column(String(64))
    caption: Mapped[str] = mapped_column(String(200), default="")
    byte_size: Mapped[int]
    width: Mapped[int]
    height: Mapped[int]
    original_key: Mapped[str] = mapped_column(String(200))
    public_key: Mapped[str] = mapped_column(String(200))
    thumb_key: Mapped[str] = mapped_column(String(200))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Photo(StoredImage, db.Model):
    """A photo of a visit: the original, a thumbnail and a copy without GPS in storage."""

    __tablename__ = "photos"
    #: Also the index of a visit's photos (``visit_id`` first).
    __table_args__ = (UniqueConstraint("visit_id", "sha256"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id"))
    item_id: Mapped[str | None] = mapped_column(String(96))
    content_type: Mapped[str] = mapped_column(String(32), default="image/jpeg")
    #: Phone metadata: capture time and, where allowed, position.
    captured_at: Mapped[datetime | None]
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    accuracy_m: Mapped[float | None]
    #: Evidence metadata read from the file's EXIF on the server.
    exif_captured_at: Mapped[datetime | None]
    exif_latitude: Mapped[float | None]
    exif_longitude: Mapped[float | None]
    device_id: Mapped[str] = mapped_column(String(64), default="")
    deleted_at: Mapped[datetime | None]

    visit: Mapped[Visit] = relationship(back_populates="photos")
