"""Checklist versions held in process: their content is immutable (the id is its SHA-256).

A visit-sync needs a version's items to validate every write; reading 27 KB of
JSON from the database twice per request was a large share of its cost. The
cache is keyed by engine as well, so two apps (tests, or two databases) in one
process never see each other's versions.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from ..extensions import db
from .models import ChecklistVersion

_LOCK = threading.Lock()
_BY_ENGINE: weakref.WeakKeyDictionary[Engine, dict[str, tuple[dict[str, Any], dict[str, dict[str, Any]]]]] = (
    weakref.WeakKeyDictionary()
)


def _entry(version_id: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]] | None:
    engine = db.engine
    with _LOCK:
        cached = _BY_ENGINE.setdefault(engine, {}).get(version_id)
    if cached is not None:
        return cached
    content = db.session.scalar(select(ChecklistVersion.content).where(ChecklistVersion.id == version_id))
    if content is None:
        return None
    items = {item["id"]: item for section in content["sections"] for item in section["items"]}
    with _LOCK:
        _BY_ENGINE.setdefault(engine, {})[version_id] = (content, items)
    return content, items


def version_content(version_id: str) -> dict[str, Any] | None:
    """The stored content of a checklist version, or None if there is no such version (never modify it)."""
    entry = _entry(version_id)
    return entry[0] if entry else None


def version_items(version_id: str) -> dict[str, dict[str, Any]]:
    """A stored version's items by id (empty if there is no such version)."""
    entry = _entry(version_id)
    return entry[1] if entry else {}
