"""Time helpers: the database keeps naive UTC; the UI shows China time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8), "CST")


def utcnow() -> datetime:
    """Current UTC time, naive, as stored in the database."""
    return datetime.now(UTC).replace(tzinfo=None)


def today_in_china() -> date:
    """Today's date in China, which decides terms and deadlines."""
    return datetime.now(CHINA).date()


def to_china(value: datetime | None) -> datetime | None:
    """Convert a stored naive UTC time to China time for display."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC).astimezone(CHINA)
