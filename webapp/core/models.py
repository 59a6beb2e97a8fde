"""Counties, schools, terms and who is assigned to which school."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow

#: Assignment kinds: 挂牌督导 (an inspector's schools), 包片 (a 教研员's rural schools).
ASSIGNMENT_KINDS: dict[str, str] = {"inspector": "挂牌督导", "researcher": "包片包抓"}


class County(db.Model):
    """A county (or city) education bureau and the policy set it has chosen."""

    __tablename__ = "counties"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    region: Mapped[str] = mapped_column(String(128), default="")
    policy_set: Mapped[str] = mapped_column(String(32))
    #: The county's values for its pack's ``county_settings`` (e.g. acceptance_year: 2027),
    #: by key; a key left out takes the pack's default. Dates are stored as ISO text.
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    schools: Mapped[list[School]] = relationship(back_populates="county", order_by="School.code")


class School(db.Model):
    """A school and the profile its checklists depend on."""

    __tablename__ = "schools"
    __table_args__ = (UniqueConstraint("county_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    county_id: Mapped[int] = mapped_column(ForeignKey("counties.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(128))
    #: The school type (checklists' SCHOOL_TYPES: primary, nine_year, twelve_year …).
    stage: Mapped[str] = mapped_column(String(24))
    location: Mapped[str] = mapped_column(String(16))
    is_boarding: Mapped[bool] = mapped_column(default=False)
    #: Trait codes (checklists' SCHOOL_TRAITS), sorted; kept in step with ``is_boarding``.
    traits: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    enrolment: Mapped[int] = mapped_column(default=0)
    class_count: Mapped[int] = mapped_column(default=0)
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    group_name: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    county: Mapped[County] = relationship(back_populates="schools")

    @property
    def trait_set(self) -> frozenset[str]:
        """The school's traits, ``boarding`` included when it is a boarding school."""
        return frozenset(self.traits or ()) | (frozenset({"boarding"}) if self.is_boarding else frozenset())

    def set_traits(self, codes: set[str] | frozenset[str] | list[str]) -> None:
        """Replace the traits (sorted); ``is_boarding`` follows the ``boarding`` trait."""
        self.traits = sorted(set(codes))
        self.is_boarding = "boarding" in self.traits


class Term(db.Model):
    """A school term (学期) of a county's calendar; per-term quotas count within it."""

    __tablename__ = "terms"
    __table_args__ = (UniqueConstraint("county_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    county_id: Mapped[int] = mapped_column(ForeignKey("counties.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    school_year: Mapped[str] = mapped_column(String(16))
    starts_on: Mapped[date]
    ends_on: Mapped[date]

    def contains(self, day: date) -> bool:
        """Tell whether ``day`` falls within the term, both ends included."""
        return self.starts_on <= day <= self.ends_on


class Assignment(db.Model):
    """A user's responsibility for a school from ``starts_on`` (until ``ends_on``)."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("user_id", "school_id", "kind", "starts_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    school: Mapped[School] = relationship()
    user: Mapped["User"] = relationship(back_populates="assignments")  # noqa: F821, UP037

    def is_active_on(self, day: date) -> bool:
        """Tell whether the assignment holds on ``day``."""
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)
