"""Demo bureau work: submitted, returned and accepted visits with failures and photos, and open,
overdue and closed rectification tasks, so the 督导室 pages show something on ``./dev.sh serve``.

Everything goes through the real operations (sync, review, rectification), so the audit log and
history are what they would be. Idempotent: a county that already has submitted visits is skipped.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from PIL import Image, ImageDraw
from sqlalchemy import select

from ..auth.models import User
from ..bureau.audit import operations as audit
from ..bureau.rectification.models import RectificationTask
from ..bureau.rectification.operations import Upload, add_progress, close_task
from ..bureau.review.operations import accept_visit, latest_review, return_visit
from ..core.models import Assignment, County, School
from ..errors import AppError
from ..extensions import db
from ..packs.models import ChecklistVersion
from ..visits.models import Visit
from ..visits.operations import checklist_version_for, upsert_visit
from ..visits.photos import store_photo
from ..visits.results import apply_result_writes


@dataclass(frozen=True)
class DemoVisit:
    """One scripted visit: who, which assigned school, how long ago, how many failures, what happens next."""

    inspector: str
    school_index: int
    days_ago: int
    failures: int
    outcome: str  # submitted | returned | accepted | accepted_closed | accepted_requested
    photos: int = 2
    far_photo: bool = False


SCRIPT = (
    DemoVisit("duxue1", 0, 40, 2, "accepted", photos=3),
    DemoVisit("duxue2", 0, 55, 1, "accepted_requested"),
    DemoVisit("duxue1", 1, 30, 1, "accepted_closed"),
    DemoVisit("duxue1", 2, 12, 1, "accepted"),
    DemoVisit("duxue2", 1, 9, 3, "submitted", photos=3, far_photo=True),
    DemoVisit("duxue2", 2, 6, 1, "returned"),
    DemoVisit("duxue1", 4, 2, 0, "submitted", photos=1),
)
DEMO_COUNTIES = ("贺兰县", "西吉县")
#: Items the demo fails first, so the matrix shows the alarm and fire safety questions.
PREFERRED = ("safety.one_click_alarm", "safety.fire_safety", "safety.video_surveillance", "safety.closed_management")
COLORS = ((52, 101, 164), (196, 160, 0), (78, 154, 6), (204, 0, 0), (117, 80, 123))


def load_demo_bureau(today: date) -> int:
    """Record the scripted visits in the demo counties that have none submitted; return how many were made."""
    made = 0
    for county in db.session.scalars(select(County).where(County.name.in_(DEMO_COUNTIES)).order_by(County.id)):
        submitted = select(Visit.id).where(Visit.county_id == county.id, Visit.state != "planned").limit(1)
        if db.session.scalar(submitted) is not None:
            continue
        reviewer = db.session.scalar(select(User).where(User.county_id == county.id, User.role == "reviewer"))
        for step in SCRIPT:
            inspector = db.session.scalar(select(User).where(User.username == f"{_key(county)}_{step.inspector}"))
            if inspector is None or reviewer is None:
                continue
            _play(step, inspector, reviewer, today)
            made += 1
    db.session.flush()
    return made


def _key(county: County) -> str:
    return {"贺兰县": "helan", "西吉县": "xiji"}[county.name]


def _schools(inspector: User) -> list[School]:
    query = (
        select(School)
        .join(Assignment, Assignment.school_id == School.id)
        .where(Assignment.user_id == inspector.id, Assignment.kind == "inspector")
        .order_by(School.id)
    )
    return list(db.session.scalars(query))


def _fitting_school(schools: list[School], day: date) -> tuple[School, ChecklistVersion]:
    """The first school the pack has a checklist for (a 西吉 kindergarten has none), and that checklist."""
    for school in schools:
        try:
            return school, checklist_version_for(school, "routine", day)
        except AppError as exc:
            if exc.code != "checklist_not_applicable":
                raise
    raise LookupError("no school of the inspector has a checklist")


def _at(day: date, hour: float) -> datetime:
    """``hour`` o'clock China time on ``day``, as an aware UTC time (what a phone sends)."""
    local = datetime.combine(day, time(0)) + timedelta(hours=hour)
    return (local - timedelta(hours=8)).replace(tzinfo=UTC)


def _play(step: DemoVisit, inspector: User, reviewer: User, today: date) -> None:
    day = today - timedelta(days=step.days_ago)
    school, version = _fitting_school(_schools(inspector)[step.school_index :], day)
    items = [(item, section["id"]) for section in version.content["sections"] for item in section["items"]]
    failing = _failing_items(items, step.failures, step.days_ago)
    visit_id = str(uuid.uuid4())
    header = {
        "school_id": school.id,
        "checklist_version": version.id,
        "visit_type": "routine",
        "state": "in_progress",
        "started_at": _at(day, 9),
        "submitted_at": None,
        "summary": "",
        "device_id": f"demo-{inspector.username}",
    }
    with audit.acting_as(inspector.id):
        visit, _ = upsert_visit(inspector, visit_id, header)
        writes = [_write(item, n, item["id"] in failing, day, header["device_id"]) for n, (item, _) in enumerate(items)]
        apply_result_writes(inspector, visit, writes)
        hashes = _photos(inspector, visit, school, [i for i, _ in items], failing, step, day)
        summary = f"共查{len(items)}项，{len(failing)}项未达标。" if failing else f"共查{len(items)}项，均达标。"
        declared = {"result_count": len(items), "photo_hashes": hashes}
        submit = {**header, "state": "submitted", "submitted_at": _at(day, 11.5), "summary": summary}
        upsert_visit(inspector, visit_id, {**submit, "declared": declared})
    _review(step, visit, reviewer, inspector, failing)


def _failing_items(items: list[tuple[dict[str, Any], str]], count: int, rotation: int) -> set[str]:
    """Safety yes/no items first (an alarm, fire safety …), then a numeric one such as class size."""
    numeric = [i for i, _ in items if i["check"]["type"] == "numeric" and i["check"].get("value") is not None]
    yes_no = sorted(
        (i for i, _ in items if i["check"]["type"] == "yes_no"),
        key=lambda i: PREFERRED.index(i["concept"]) if i["concept"] in PREFERRED else len(PREFERRED),
    )
    yes_no = yes_no[rotation % 3 :] + yes_no[: rotation % 3]
    chosen = yes_no[:count]
    if count > 1 and numeric:
        chosen = [*yes_no[: count - 1], numeric[0]]
    return {i["id"] for i in chosen}


def _value(item: dict[str, Any], fail: bool) -> dict[str, Any]:
    check = item["check"]
    kind = check["type"]
    if kind in ("yes_no", "deadline"):
        return {"answer": "no" if fail else "yes"}
    if kind == "text":
        return {"text": "已查阅相关台账，记录齐全。"}
    if kind == "count_per_period":
        return {"number": (check.get("count") or 1) + (0 if not fail else -1)}
    if check.get("value") is None:
        return {"answer": "na"}
    limit, op = float(check["value"]), check.get("operator", "<=")
    good = {"<=": limit - 2, "<": limit - 2, ">=": limit + 1, ">": limit + 1, "==": limit}[op]
    bad = {"<=": limit + 7, "<": limit + 7, ">=": max(0.0, limit - 1), ">": limit, "==": limit + 1}[op]
    number = bad if fail else max(0.0, good)
    return {"number": min(number, 100.0) if kind == "percentage" else number}


def _write(item: dict[str, Any], n: int, fail: bool, day: date, device: str) -> dict[str, Any]:
    observation = "现场查看未达到要求，已向学校反馈。" if fail else ""
    if fail and item["check"]["type"] == "numeric":
        observation = "抽查班级花名册，超过标准班额。"
    return {
        "id": str(uuid.uuid4()),
        "item_id": item["id"],
        "value": _value(item, fail),
        "observation": observation,
        "edited_at": _at(day, 9.1 + n * 0.04),
        "device_id": device,
    }


def _jpeg(color: tuple[int, int, int], label: int) -> bytes:
    image = Image.new("RGB", (960, 720), color)
    draw = ImageDraw.Draw(image)
    draw.rectangle((120 + label * 20, 160, 560, 520), outline=(255, 255, 255), width=12)
    draw.ellipse((600, 220, 820, 440), fill=(240, 240, 240))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def _photos(
    inspector: User,
    visit: Visit,
    school: School,
    items: list[dict[str, Any]],
    failing: set[str],
    step: DemoVisit,
    day: date,
) -> list[str]:
    targets = [i["id"] for i in items if i["id"] in failing] + [i["id"] for i in items if i.get("photo_required")]
    hashes = []
    for n in range(step.photos):
        data = _jpeg(COLORS[(n + step.days_ago) % len(COLORS)], n + step.school_index)
        sha = hashlib.sha256(data).hexdigest()
        far = step.far_photo and n == 0
        meta = {
            "sha256": sha,
            "item_id": targets[n % len(targets)] if targets else None,
            "caption": "门卫室" if n == 0 else f"现场照片{n + 1}",
            "captured_at": _at(day, 9.5 + n * 0.3),
            "latitude": (school.latitude or 0) + (0.03 if far else 0.0008),
            "longitude": school.longitude,
            "accuracy_m": 12.0,
            "device_id": f"demo-{inspector.username}",
        }
        store_photo(inspector, visit, str(uuid.uuid4()), data, meta)
        hashes.append(sha)
    return sorted(set(hashes))


def _review(step: DemoVisit, visit: Visit, reviewer: User, inspector: User, failing: set[str]) -> None:
    if step.outcome == "submitted":
        return
    with audit.acting_as(reviewer.id):
        if step.outcome == "returned":
            notes = {item_id: "照片看不清，请补拍并说明整改安排。" for item_id in failing}
            return_visit(reviewer, visit, "请补充现场照片后重新提交。", notes)
            _age([], visit, step.days_ago)
            return
        _, tasks = accept_visit(reviewer, visit, "同意，请学校按期整改。", {}, {})
    _age(tasks, visit, step.days_ago)
    if step.outcome == "accepted_closed" and tasks:
        with audit.acting_as(inspector.id):
            add_progress(
                inspector,
                tasks[0],
                "已完成整改，见照片。",
                [Upload(_jpeg((20, 120, 60), 9), "整改后")],
                request_closure=True,
            )
        with audit.acting_as(reviewer.id):
            close_task(reviewer, tasks[0], "经查看整改照片，已整改到位，予以销号。")
    if step.outcome == "accepted_requested" and tasks:
        with audit.acting_as(inspector.id):
            add_progress(inspector, tasks[0], "已制定整改方案，设备已采购待安装。", [], request_closure=True)


def _age(tasks: list[RectificationTask], visit: Visit, days_ago: int) -> None:
    """Date the review and tasks as if made the day after the visit, so some tasks are overdue today."""
    opened = datetime.combine(visit.visited_on + timedelta(days=1), time(2))
    review = latest_review(visit)
    if review is not None:
        review.created_at = opened
    for task in tasks:
        task.deadline = task.deadline - timedelta(days=max(0, days_ago - 1))
        task.opened_at = opened
        for update in task.updates:
            update.created_at = opened
    db.session.flush()
