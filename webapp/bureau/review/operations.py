"""Review a submitted visit: return it with comments, or accept it and open rectification tasks.

Writes only ``flush()``; the route commits.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from ...auth.models import User
from ...errors import AppError
from ...extensions import db
from ...timeutil import today_in_china, utcnow
from ...visits.models import ItemResult, Visit
from ..audit import operations as audit
from ..formatting import threshold_text, value_text
from ..rectification.models import RectificationTask, TaskUpdate
from .models import Review, ReviewComment

#: Days a school gets to put a failed item right, by checklist group; safety hazards are urgent.
DEFAULT_DEADLINE_DAYS: dict[str, int] = {
    "campus_safety": 7,
    "student_care": 15,
    "reporting": 15,
    "teaching_routine": 30,
    "moral_mental": 30,
    "researcher_guidance": 30,
    "teacher_team": 60,
    "group_schooling": 60,
    "school_conditions": 90,
}
FALLBACK_DEADLINE_DAYS = 30
DEFAULT_RESPONSIBLE = "校长"


def checklist_items(visit: Visit) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """The visit's checklist as ``{item_id: (item, section)}``, in checklist order."""
    content = visit.checklist_version.content
    return {item["id"]: (item, section) for section in content["sections"] for item in section["items"]}


def default_deadline(section_id: str, today: date | None = None) -> date:
    """The deadline a task of this checklist group gets unless the reviewer sets another."""
    days = DEFAULT_DEADLINE_DAYS.get(section_id, FALLBACK_DEADLINE_DAYS)
    return (today or today_in_china()) + timedelta(days=days)


def default_responsible(school_id: int) -> str:
    """Whoever was made responsible at this school last time, else the principal."""
    last = db.session.scalar(
        select(RectificationTask.responsible_person)
        .where(RectificationTask.school_id == school_id, RectificationTask.responsible_person != "")
        .order_by(RectificationTask.id.desc())
        .limit(1)
    )
    return last or DEFAULT_RESPONSIBLE


def failed_results(visit: Visit) -> list[ItemResult]:
    """The visit's failed items, in checklist order."""
    order = {item_id: n for n, item_id in enumerate(checklist_items(visit))}
    rows = db.session.scalars(select(ItemResult).where(ItemResult.visit_id == visit.id, ItemResult.outcome == "fail"))
    return sorted(rows, key=lambda r: order.get(r.item_id, len(order)))


def default_problem(visit: Visit, result: ItemResult) -> str:
    """What is wrong, from the result: the value against the standard, and the inspector's observation."""
    item, _ = checklist_items(visit).get(result.item_id, ({"title": result.item_id, "check": {}}, {}))
    text = f"{item['title']}：检查结果“{value_text(item['check'], result.value)}”"
    standard = threshold_text(item["check"])
    if standard:
        text += f"，标准{standard}"
    if result.observation:
        text += f"。{result.observation}"
    return text


def _require_submitted(visit: Visit) -> None:
    if visit.state != "submitted":
        raise AppError(409, "not_submitted", f"只能审核已提交的督导，这条督导当前为“{visit.state_label}”。")


def _review(user: User, visit: Visit, decision: str, comment: str, item_comments: dict[str, str]) -> Review:
    items = checklist_items(visit)
    unknown = [item_id for item_id in item_comments if item_id not in items]
    if unknown:
        raise AppError(
            422,
            "unknown_item",
            "意见所属的检查项不在本次检查表中。",
            {f"note-{i}": ["检查项不存在。"] for i in unknown},
        )
    review = Review(
        visit_id=visit.id,
        reviewer_id=user.id,
        decision=decision,
        comment=comment.strip(),
        submitted_at=visit.submitted_at,
        created_at=utcnow(),
    )
    db.session.add(review)
    for item_id, text in item_comments.items():
        if text.strip():
            review.comments.append(ReviewComment(item_id=item_id, comment=text.strip()))
    return review


def _audit_review(review: Review, visit: Visit, action: str) -> None:
    db.session.flush()
    new = {
        "decision": review.decision,
        "comment": review.comment,
        "review_round": review.review_round,
        "item_comments": {c.item_id: c.comment for c in review.comments},
    }
    audit.record("review", review.id, ("visit", visit.id), action, None, new)


def return_visit(user: User, visit: Visit, comment: str, item_comments: dict[str, str]) -> Review:
    """Send a submitted visit back to its inspector with comments; the phone may amend and resubmit it."""
    _require_submitted(visit)
    if not comment.strip() and not any(text.strip() for text in item_comments.values()):
        raise AppError(
            422, "comment_required", "退回时请填写退回理由或至少一项检查项意见。", {"comment": ["请填写退回理由。"]}
        )
    review = _review(user, visit, "returned", comment, item_comments)
    visit.review_round += 1
    visit.state = "returned"
    review.review_round = visit.review_round
    _audit_review(review, visit, "return")
    return review


def accept_visit(
    user: User,
    visit: Visit,
    comment: str,
    item_comments: dict[str, str],
    task_specs: dict[str, dict[str, Any]],
) -> tuple[Review, list[RectificationTask]]:
    """Accept a fully received visit; each failed item opens a task (or re-checks the school's open one)."""
    _require_submitted(visit)
    if not visit.is_fully_received:
        raise AppError(409, "incomplete", "这条督导的结果或照片尚未全部上传，暂不能审核通过。")
    today = today_in_china()
    unclosed = unclosed_tasks(visit.school_id)
    late = {
        i: ["整改期限不能早于今天。"]
        for i, s in task_specs.items()
        if s.get("deadline") and s["deadline"] < today and not (i in unclosed and unclosed[i].deadline == s["deadline"])
    }
    if late:
        raise AppError(422, "bad_deadline", "整改期限不能早于今天。", {f"deadline-{i}": m for i, m in late.items()})
    review = _review(user, visit, "accepted", comment, item_comments)
    visit.state = "accepted"
    review.review_round = visit.review_round
    _audit_review(review, visit, "accept")
    _recheck_open_tasks(user, visit)  # first, so a task's history reads: still failing, then what changed
    opened = _open_tasks(user, visit, task_specs)
    return review, opened


def _open_tasks(user: User, visit: Visit, specs: dict[str, dict[str, Any]]) -> list[RectificationTask]:
    items = checklist_items(visit)
    unclosed = unclosed_tasks(visit.school_id)
    opened = []
    for result in failed_results(visit):
        spec = specs.get(result.item_id, {})
        if result.item_id in unclosed:
            # The re-check below notes the finding; what the reviewer wrote for it updates the open task.
            _update_open_task(user, unclosed[result.item_id], spec, visit)
            continue
        item, section = items[result.item_id]
        task = RectificationTask(
            county_id=visit.county_id,
            school_id=visit.school_id,
            visit_id=visit.id,
            item_id=result.item_id,
            concept=item.get("concept", ""),
            section_id=section["id"],
            item_title=item["title"][:200],
            problem=(spec.get("problem") or "").strip() or default_problem(visit, result),
            deadline=spec.get("deadline") or default_deadline(section["id"]),
            responsible_person=(spec.get("responsible_person") or "").strip() or default_responsible(visit.school_id),
            state="open",
            opened_by_id=user.id,
            opened_at=utcnow(),
        )
        db.session.add(task)
        task.updates.append(TaskUpdate(kind="opened", note=task.problem, author_id=user.id, visit_id=visit.id))
        db.session.flush()
        audit.record("task", task.id, ("task", task.id), "open", None, task_snapshot(task))
        opened.append(task)
    return opened


def _update_open_task(user: User, task: RectificationTask, spec: dict[str, Any], visit: Visit) -> None:
    """Apply the reviewer's problem, deadline and responsible person to the school's open task, in its history."""
    before = task_snapshot(task)
    if spec.get("deadline"):
        task.deadline = spec["deadline"]
    if (spec.get("responsible_person") or "").strip():
        task.responsible_person = spec["responsible_person"].strip()[:64]
    if (spec.get("problem") or "").strip():
        task.problem = spec["problem"].strip()
    after = task_snapshot(task)
    old = {k: v for k, v in before.items() if after[k] != v}
    if not old:
        return
    new = {k: after[k] for k in old}
    note = "复查后修改：" + changes_in_words(new)
    task.updates.append(TaskUpdate(kind="edit", note=note, author_id=user.id, visit_id=visit.id))
    db.session.flush()
    audit.record("task", task.id, ("task", task.id), "edit", old, new)


def unclosed_tasks(school_id: int) -> dict[str, RectificationTask]:
    """The school's tasks not yet closed, by item id (at most one open task per item)."""
    query = select(RectificationTask).where(
        RectificationTask.school_id == school_id, RectificationTask.state != "closed"
    )
    return {task.item_id: task for task in db.session.scalars(query)}


def _recheck_open_tasks(user: User, visit: Visit) -> None:
    """A visit that looked again at an item with an open task notes the finding on the task."""
    unclosed = unclosed_tasks(visit.school_id)
    results = db.session.scalars(
        select(ItemResult).where(ItemResult.visit_id == visit.id, ItemResult.item_id.in_(list(unclosed)))
    )
    for result in results:
        task = unclosed[result.item_id]
        if task.visit_id == visit.id or result.outcome not in ("pass", "fail"):
            continue
        kind = "recheck_pass" if result.outcome == "pass" else "recheck_fail"
        note = "复查达标，可审核销号。" if kind == "recheck_pass" else "复查仍未达标：" + default_problem(visit, result)
        task.updates.append(TaskUpdate(kind=kind, note=note, author_id=user.id, visit_id=visit.id))
        db.session.flush()
        audit.record("task", task.id, ("task", task.id), kind, None, {"visit_id": visit.id, "note": note})


#: The words for a task's fields in its history (整改过程), which people read.
TASK_FIELD_WORDS = {"deadline": "整改期限", "responsible_person": "责任人", "problem": "存在问题"}


def changes_in_words(new: dict[str, Any]) -> str:
    """整改期限：2026-12-20；责任人：张三 — a task's changed fields as its history says them."""
    return "；".join(f"{TASK_FIELD_WORDS.get(k, k)}：{audit.jsonable(v)}" for k, v in new.items())


def task_snapshot(task: RectificationTask) -> dict[str, Any]:
    """The fields of a task an audit entry keeps."""
    return {
        "state": task.state,
        "deadline": task.deadline,
        "responsible_person": task.responsible_person,
        "problem": task.problem,
        "item_id": task.item_id,
        "school_id": task.school_id,
    }


def latest_review(visit: Visit) -> Review | None:
    """The last decision on the visit, if any."""
    return db.session.scalar(select(Review).where(Review.visit_id == visit.id).order_by(Review.id.desc()).limit(1))
