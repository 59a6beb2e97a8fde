"""Stored checklist versions: immutable snapshots keyed by content hash."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..timeutil import utcnow


class ChecklistVersion(db.Model):
    """A composed checklist as it was when first used; never updated.

    The primary key is the SHA-256 of the content, so storing the same
    composition twice is a no-op and a changed pack makes a new row.
    """

    __tablename__ = "checklist_versions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    pack_id: Mapped[str] = mapped_column(String(32), index=True)
    visit_type: Mapped[str] = mapped_column(String(16))
    item_count: Mapped[int]
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
