"""What a transaction keeps of the visits it touches, so a sync batch reads each thing once.

- the schools it found an inspector may visit, the visits it locked or created, each visit's stored result
  count and photo hashes (the tally, kept up to date by the writes);
- the visits it inserted with ``INSERT … ON CONFLICT DO NOTHING`` (see ``operations._insert_new``), which the
  session must forget if what inserted them rolls back.

Everything is kept in ``session.info`` and forgotten with any rollback (a savepoint's releases its locks and
undoes its counts) and at the transaction's end (other requests may write then).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, String, event, func, literal, select
from sqlalchemy.orm import Session

from ..core.models import School
from ..extensions import db
from .models import ItemResult, Photo, Visit

_TALLY = "dudao.visit_tally"
_LOCKED = "dudao.locked_visits"
_VISIBLE = "dudao.visible_schools"
#: Visits :func:`~.operations._insert_new` inserted, each with the (sub)transaction it did so in.
_INSERTED = "dudao.inserted_visits"
#: What a transaction keeps of what it read (forgotten with any rollback and at its end).
_TRANSACTION_CACHES = (_TALLY, _LOCKED, _VISIBLE)


def visible_cache() -> dict[tuple[int, int], School]:
    """Schools this transaction found the inspector may visit, by (user id, school id)."""
    return db.session.info.setdefault(_VISIBLE, {})


def tally_cache() -> dict[str, dict[str, Any]]:
    """Each visit's tally this transaction counted or made, by visit id (see :func:`tally_of`)."""
    return db.session.info.setdefault(_TALLY, {})


def locked_visits() -> dict[str, Visit]:
    """Visits this transaction holds (locked ``FOR UPDATE`` or created): a batch's later entries for the same
    visit need no second query. Forgotten with any rollback (a savepoint's releases its locks) and at the end."""
    return db.session.info.setdefault(_LOCKED, {})


def tally_of(visit: Visit) -> dict[str, Any]:
    """The visit's stored result count and photo hashes, counted once per transaction and kept up to date
    by the writes (a batch touching one visit many times does not count again)."""
    cache = tally_cache()
    tally = cache.get(visit.id)
    if tally is None:
        # One round trip for both: the count's row has no hash, each photo's row no count.
        rows = db.session.execute(
            select(func.count(), literal(None, String))
            .where(ItemResult.visit_id == visit.id)
            .union_all(
                select(literal(None, Integer), Photo.sha256).where(
                    Photo.visit_id == visit.id, Photo.deleted_at.is_(None)
                )
            )
        ).all()
        results = sum(count for count, sha256 in rows if sha256 is None and count is not None)
        hashes = sorted(sha256 for _, sha256 in rows if sha256 is not None)
        tally = cache[visit.id] = {"results": results, "hashes": hashes}
    return tally


def forget_tally(visit_id: str) -> None:
    """Count a visit again next time (its photos changed)."""
    tally_cache().pop(visit_id, None)


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, _previous: Any) -> None:
    # A rolled-back entry (or savepoint) may have changed the counts it undid, and released its locks.
    for key in _TRANSACTION_CACHES:
        session.info.pop(key, None)
    # Visits inserted by _insert_new in what was rolled back are gone from the database: the session, which
    # takes them for rows read, must forget them too (it forgets the ones it inserted itself).
    kept = []
    for visit, transaction in session.info.pop(_INSERTED, []):
        if transaction.is_active:
            kept.append((visit, transaction))
        elif visit in session:
            session.expunge(visit)
    if kept:
        session.info[_INSERTED] = kept


@event.listens_for(Session, "after_transaction_end")
def _forget_on_end(session: Session, transaction: Any) -> None:
    # Other requests may write once the database transaction has ended (savepoints keep the counts).
    if transaction.parent is None:
        for key in _TRANSACTION_CACHES:
            session.info.pop(key, None)


@event.listens_for(Session, "after_commit")
def _forget_inserted(session: Session) -> None:
    # Committed: the visits _insert_new made are rows for good (a rollback is handled when it comes, after
    # the transaction's end).
    session.info.pop(_INSERTED, None)


def remember_inserted(visit: Visit) -> None:
    """Keep a visit inserted without the ORM, with the (sub)transaction that inserted it (see the hooks)."""
    session = db.session()
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_INSERTED, []).append((visit, transaction))


def inserted_here(visit: Visit) -> bool:
    """Whether this transaction inserted the visit (:func:`remember_inserted`)."""
    return any(kept is visit for kept, _ in db.session.info.get(_INSERTED, ()))


def dialect() -> str:
    """The session's database dialect name (``postgresql``, ``sqlite``)."""
    return db.session.get_bind().dialect.name
