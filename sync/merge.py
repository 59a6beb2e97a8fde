"""Per-item last-write-wins by the phone's edit time, with a stable tie-break.

Two devices (or a re-sent batch) may write the same item of a visit. Each
write carries a client-made UUID and the phone's edit time. The write with
the later edit time wins; equal times are broken by the UUID so every server
decides the same way whatever order the writes arrive in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Decision = Literal["applied", "superseded"]


@dataclass(frozen=True)
class WriteStamp:
    """What orders two writes of one item."""

    edited_at: datetime
    write_id: str

    def key(self) -> tuple[datetime, str]:
        """Sort key: edit time, then write id."""
        return (self.edited_at, self.write_id)


def decide(current: WriteStamp | None, incoming: WriteStamp) -> Decision:
    """Whether ``incoming`` replaces the value in force (``current``)."""
    if current is None or incoming.key() > current.key():
        return "applied"
    return "superseded"
