"""Notifier channels: the in-app inbox now; SMS or WeChat Work (企业微信) can be added as further channels.

A channel gets the same message for each person; ``key`` makes a message idempotent per person,
so a job that runs twice a day, or an event noticed twice, sends once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from flask import current_app
from sqlalchemy import select

from ..auth.models import User
from ..extensions import db
from ..timeutil import utcnow
from .models import Notice


@dataclass(frozen=True)
class Message:
    """What to tell someone: kind (see NOTICE_KINDS), idempotency key, title, body and a link."""

    kind: str
    key: str
    title: str
    body: str = ""
    link: str = ""


class Notifier(Protocol):
    """A channel. ``send`` returns True when the person got something new (False: already sent)."""

    def send(self, user: User, message: Message) -> bool:
        """Deliver ``message`` to ``user`` once."""
        ...


class InAppNotifier:
    """The inbox in the app: one row per person and key (the database refuses a second)."""

    def send(self, user: User, message: Message) -> bool:
        """Add the notice unless this person already has one with this key."""
        seen = db.session.scalar(select(Notice.id).where(Notice.user_id == user.id, Notice.key == message.key))
        if seen is not None:
            return False
        db.session.add(
            Notice(
                user_id=user.id,
                kind=message.kind,
                key=message.key[:120],
                title=message.title[:200],
                body=message.body[:500],
                link=message.link[:200],
                created_at=utcnow(),
            )
        )
        db.session.flush()
        return True


#: Channels by name; ``NOTIFIERS`` in the settings picks them (default: the inbox only).
CHANNELS: dict[str, type] = {"in_app": InAppNotifier}


def channels() -> list[Notifier]:
    """The configured channels."""
    names = current_app.config.get("NOTIFIERS") or ["in_app"]
    return [CHANNELS[name]() for name in names if name in CHANNELS]


def notify(users: Iterable[User], message: Message) -> int:
    """Send ``message`` to every active person of ``users`` on every channel; how many got it new."""
    sent = 0
    targets = channels()
    for user in users:
        if not user.is_active_account:
            continue
        delivered = [channel.send(user, message) for channel in targets]
        sent += int(any(delivered))
    return sent
