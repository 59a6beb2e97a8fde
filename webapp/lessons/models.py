"""教研员 activity records (听评课, 教研指导 and the other counted kinds), their write
history and photos; teachers of a school; a 教研员's subject.

One table holds every kind of activity: a lesson uses the class, subject,
teacher and rubric columns, a session the topic, form and participants; the
quota arithmetic only needs kind, form, date and school, the same for all.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..core.models import School
from ..extensions import db
from ..timeutil import utcnow
from ..visits.models import StoredImage


class Teacher(db.Model):
    """A teacher of a school, so lessons can name who was observed (coverage counts them)."""

    __tablename__ = "teachers"
    __table_args__ = (Index("ix_teachers_school_name", "school_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    name: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(24), default="")
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    school: Mapped[School] = relationship()


class ResearcherProfile(db.Model):
    """What the bureau filters 教研员 by: their subject (学科) and stage."""

    __tablename__ = "researcher_profiles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    subject: Mapped[str] = mapped_column(String(24), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Activity(db.Model):
    """One activity a 教研员 recorded: the value in force (last write wins).

    The id is a UUID made by the phone, so a record made offline is created
    exactly once however often it syncs.
    """

    __tablename__ = "research_activities"
    __table_args__ = (
        Index("ix_research_activities_county_day", "county_id", "occurred_on"),
        Index("ix_research_activities_researcher_day", "researcher_id", "occurred_on"),
        Index("ix_research_activities_school_day", "school_id", "occurred_on"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    researcher_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    county_id: Mapped[int] = mapped_column(ForeignKey("counties.id"))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"))
    kind: Mapped[str] = mapped_column(String(24))
    form: Mapped[str] = mapped_column(String(24), default="")
    occurred_on: Mapped[date]
    #: Lessons: class, subject, teacher observed (from the list, or only typed), rubric scores.
    grade: Mapped[str] = mapped_column(String(8), default="")
    class_name: Mapped[str] = mapped_column(String(32), default="")
    subject: Mapped[str] = mapped_column(String(24), default="")
    teacher_id: Mapped[int | None] = mapped_column(ForeignKey("teachers.id"), index=True)
    teacher_name: Mapped[str] = mapped_column(String(64), default="")
    scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    strengths: Mapped[str] = mapped_column(Text, default="")
    suggestions: Mapped[str] = mapped_column(Text, default="")
    #: Lessons' topic (课题) and sessions' theme (主题).
    topic: Mapped[str] = mapped_column(String(200), default="")
    participants: Mapped[int | None]
    notes: Mapped[str] = mapped_column(Text, default="")
    #: The write in force and its phone time: the last-write-wins stamp.
    write_id: Mapped[str] = mapped_column(String(36))
    edited_at: Mapped[datetime]
    device_id: Mapped[str] = mapped_column(String(64), default="")
    deleted_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    researcher: Mapped[User] = relationship()
    school: Mapped[School | None] = relationship()
    teacher: Mapped[Teacher | None] = relationship()
    photos: Mapped[list[ActivityPhoto]] = relationship(back_populates="activity", order_by="ActivityPhoto.created_at")


class ActivityWrite(db.Model):
    """Every write the server received, once each (its id is the phone's UUID).

    The full record as sent is kept, applied or superseded: this is the history.
    """

    __tablename__ = "activity_writes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    activity_id: Mapped[str] = mapped_column(ForeignKey("research_activities.id"), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    edited_at: Mapped[datetime]
    device_id: Mapped[str] = mapped_column(String(64), default="")
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()


class ActivityPhoto(StoredImage, db.Model):
    """A photo of an activity, stored like visit photos (original, thumbnail, copy without GPS)."""

    __tablename__ = "activity_photos"
    __table_args__ = (UniqueConstraint("activity_id", "sha256"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    activity_id: Mapped[str] = mapped_column(ForeignKey("research_activities.id"), index=True)
    captured_at: Mapped[datetime | None]
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    exif_captured_at: Mapped[datetime | None]
    device_id: Mapped[str] = mapped_column(String(64), default="")
    deleted_at: Mapped[datetime | None]

    activity: Mapped[Activity] = relationship(back_populates="photos")
