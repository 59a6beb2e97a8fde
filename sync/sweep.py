"""Removing what was left behind in photo storage: upload parts nobody finished, printed reports.

A resumable upload (``uploads/…``, see :mod:`sync.uploads`) is attached to its record within minutes
of its last chunk; one untouched for days belongs to a phone that started again (the phone keeps
every photo until the server acknowledges it, so removing a stale upload costs a resend, never a
photo). A printed report (``reports/…``) is downloaded once; it is kept for a day. Photos themselves
(``photos/…`` and the like) are never swept.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .storage import Storage, StoredObject

#: What is swept, and after how long without a change.
DEFAULT_AGES: dict[str, timedelta] = {
    "uploads/": timedelta(days=7),
    "reports/": timedelta(days=1),
}


@dataclass
class SweepResult:
    """How many objects (and bytes) were removed and kept, per prefix."""

    deleted: dict[str, int] = field(default_factory=dict)
    kept: dict[str, int] = field(default_factory=dict)
    bytes_freed: int = 0


def sweep(storage: Storage, now: datetime, ages: dict[str, timedelta] | None = None) -> SweepResult:
    """Delete each folder under a prefix of ``ages`` whose newest object is older than the prefix's age.

    A folder (one upload's parts, one report's files) goes as a whole or not at all, judged by its newest
    object, so an upload that is still receiving chunks keeps its early ones. ``now`` is an aware datetime.
    Raises :class:`~sync.storage.StorageError` when the back end fails; what was deleted before stays deleted
    (each deletion stands alone, and a half-deleted folder is swept again next time).
    """
    result = SweepResult()
    for prefix, age in (ages or DEFAULT_AGES).items():
        if not prefix.endswith("/") or prefix == "/":
            raise ValueError(f"sweep prefixes are folders such as 'uploads/', not {prefix!r}")
        folders: dict[str, list[StoredObject]] = defaultdict(list)
        for item in storage.list_objects(prefix):
            folders[item.key.rsplit("/", 1)[0]].append(item)
        cutoff = now - age
        deleted = kept = 0
        for items in folders.values():
            if max(item.modified for item in items) >= cutoff:
                kept += len(items)
                continue
            for item in items:
                storage.delete(item.key)
                deleted += 1
                result.bytes_freed += item.size
        result.deleted[prefix] = deleted
        result.kept[prefix] = kept
    return result
