"""Self-reports (自查/报送): the school answers the items its documents leave to it, each term;
the school's inspector or the bureau verifies (accept, or return with a comment).

Writes only ``flush()``; the route commits. Every change is in the audit log.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from checklists.generator import item_as_dict
from sync.evaluate import InvalidValue, evaluate, validate_value

from ..auth.models import User
from ..auth.policy import can_view_school
from ..bureau.audit import operations as audit
from ..bureau.rectification.operations import Upload
from ..core.models import School, Term
from ..errors import AppError
from ..extensions import db
from ..packs.operations import pack_or_none
from ..timeutil import utcnow
from ..visits.photos import put_verified_image
from .models import SelfReport, SelfReportPhoto

CHECKER = "school_self_report"
#: Who verifies: the school's inspector, its county's reviewer, an admin.
VERIFIERS = ("inspector", "reviewer", "admin")
MAX_PHOTOS = 3


@dataclass(frozen=True)
class ReportItem:
    """One item a school reports itself, with its check resolved for the school's stage."""

    id: str
    title: str
    guidance: str
    check: dict[str, Any]
    doc_nos: tuple[str, ...]


def report_items(school: School, term: Term) -> list[ReportItem]:
    """The pack's self-report items that apply to this school and are in force during ``term``."""
    pack = pack_or_none(school.county.policy_set)
    if pack is None:
        return []
    items = []
    for item in pack.items:
        if item.checked_by != CHECKER:
            continue
        if not item.applies_to.matches(school.stage, school.location, school.is_boarding):
            continue
        if item.effective_until and item.effective_until < term.starts_on:
            continue
        if item.effective_from and item.effective_from > term.ends_on:
            continue
        data = item_as_dict(item, school.stage)
        doc_nos = tuple(dict.fromkeys(s["doc_no"] for s in data["sources"] if s.get("doc_no")))
        items.append(ReportItem(item.id, item.title, item.guidance, data["check"], doc_nos))
    return items


def reports_of(school_ids: list[int], term: Term) -> dict[tuple[int, str], SelfReport]:
    """The term's reports of these schools, by (school id, item id)."""
    rows = db.session.scalars(
        select(SelfReport).where(SelfReport.term_id == term.id, SelfReport.school_id.in_(school_ids))
    )
    return {(r.school_id, r.item_id): r for r in rows}


def parse_value(check: dict[str, Any], answer: str, number: str) -> dict[str, Any]:
    """The form's answer (是/否/不适用) or number as a canonical value; 422 when it does not fit."""
    raw: dict[str, Any]
    if answer == "na" or check["type"] in ("yes_no", "deadline"):
        raw = {"answer": answer}
    elif check["type"] == "text":
        raw = {"text": number}
    else:
        try:
            parsed = float(number)
        except ValueError:
            raise AppError(422, "bad_value", "请输入数字。", {"value": ["请输入数字。"]}) from None
        raw = {"number": int(parsed) if parsed.is_integer() else parsed}
    try:
        return validate_value(check, raw)
    except InvalidValue as exc:
        raise AppError(422, "bad_value", exc.message, {"value": [exc.message]}) from exc


def save_report(
    user: User,
    school: School,
    term: Term,
    item: ReportItem,
    value: dict[str, Any],
    note: str,
    uploads: list[Upload],
    *,
    submit: bool,
) -> SelfReport:
    """The school fills (and optionally submits) its report on one item; an accepted one is final."""
    report = db.session.scalar(
        select(SelfReport)
        .where(SelfReport.school_id == school.id, SelfReport.term_id == term.id, SelfReport.item_id == item.id)
        .with_for_update()
    )
    if report is None:
        report = SelfReport(
            county_id=school.county_id, school_id=school.id, term_id=term.id, item_id=item.id, comment=""
        )
        db.session.add(report)
    elif report.state == "accepted":
        raise AppError(409, "report_accepted", "该项自查已核验通过，不能再修改。")
    if submit and not uploads and not report.photos and not note.strip():
        raise AppError(422, "evidence_required", "请上传佐证照片或填写说明。", {"note": ["请填写说明或上传照片。"]})
    if len(uploads) + len(report.photos) > MAX_PHOTOS:
        raise AppError(422, "too_many_photos", f"每项最多{MAX_PHOTOS}张照片。", {"photos": ["照片太多。"]})
    old = {"state": report.state, "value": report.value, "note": report.note} if report.id else None
    outcome = evaluate(item.check, value)
    report.item_title = item.title[:200]
    report.value = value
    report.compliant = None if outcome in (None, "na") else outcome == "pass"
    report.note = note.strip()
    if submit:
        report.state = "submitted"
        report.submitted_by_id = user.id
        report.submitted_at = utcnow()
    elif report.state != "submitted":
        report.state = "draft"
    db.session.flush()
    for upload in uploads:
        _store_photo(user, report, upload)
    new = {"state": report.state, "value": report.value, "note": report.note}
    audit.record("self_report", report.id, ("self_report", report.id), "submit" if submit else "update", old, new)
    db.session.flush()
    return report


def _store_photo(user: User, report: SelfReport, upload: Upload) -> None:
    sha256 = hashlib.sha256(upload.data).hexdigest()
    info, keys = put_verified_image(upload.data, sha256, "照片存储暂不可用，请稍后重试。")
    photo = SelfReportPhoto(
        id=str(uuid.uuid4()),
        report_id=report.id,
        sha256=sha256,
        caption=upload.caption[:200],
        byte_size=len(upload.data),
        width=info.width,
        height=info.height,
        uploaded_by_id=user.id,
        created_at=utcnow(),
        **keys,
    )
    db.session.add(photo)
    report.photos.append(photo)


def can_verify(user: User, report: SelfReport) -> bool:
    """The school's inspector, the county's reviewer, or an admin."""
    if user.role == "admin":
        return True
    if user.role == "reviewer":
        return report.county_id == user.county_id
    return user.role == "inspector" and can_view_school(user, report.school)


def verify(user: User, report: SelfReport, decision: str, comment: str) -> None:
    """Accept a submitted report, or return it with a comment saying what is missing."""
    if not can_verify(user, report):
        raise AppError(403, "not_verifier", "只有该校的责任督学或督导室可以核验。")
    if report.state != "submitted":
        raise AppError(409, "not_submitted", "该项自查尚未报送或已核验。")
    if decision == "return" and not comment.strip():
        raise AppError(422, "comment_required", "退回时请说明原因。", {"comment": ["请填写退回原因。"]})
    old = {"state": report.state}
    report.state = "accepted" if decision == "accept" else "returned"
    report.verified_by_id = user.id
    report.verified_at = utcnow()
    report.comment = comment.strip()
    audit.record("self_report", report.id, ("self_report", report.id), report.state, old, {"state": report.state})
    db.session.flush()


@dataclass
class Completion:
    """One school's self-report for a term: items due, reported (submitted or verified), verified."""

    school: School
    items: list[ReportItem]
    reports: list[SelfReport]

    @property
    def due(self) -> int:
        """Items the school has to report."""
        return len(self.items)

    @property
    def reported(self) -> int:
        """Items submitted (waiting or verified)."""
        return sum(1 for r in self.reports if r.state in ("submitted", "accepted"))

    @property
    def verified(self) -> int:
        """Items verified."""
        return sum(1 for r in self.reports if r.state == "accepted")

    def report(self, item_id: str) -> SelfReport | None:
        """The school's report on one item, if any."""
        return next((r for r in self.reports if r.item_id == item_id), None)


def completion(schools: list[School], term: Term) -> list[Completion]:
    """Each school's self-report progress for ``term``."""
    reports = reports_of([s.id for s in schools], term)
    board = []
    for school in schools:
        items = report_items(school, term)
        ids = {i.id for i in items}
        mine = [r for (sid, iid), r in reports.items() if sid == school.id and iid in ids]
        board.append(Completion(school, items, mine))
    return board
