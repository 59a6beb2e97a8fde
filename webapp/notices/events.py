"""Which notices a task or a self-report calls for, and the daily deadline sweep.

Every message has a key, so each function may run any number of times: an event is
announced once, a daily reminder once a day. The routes call the event functions right
after a change; ``run_daily`` (``flask notices run``) catches up on everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from ..auth.models import User
from ..bureau.rectification.models import RectificationTask
from ..core.models import Assignment, School, Term
from ..extensions import db
from ..schools.models import SelfReport
from ..timeutil import today_in_china
from .notifier import Message, notify

DUE_SOON_DAYS = 3
REPORT_DUE_DAYS = 14
#: Closed tasks are looked at this long after closing (their closing notice).
CLOSED_WINDOW = timedelta(days=30)


def school_accounts(school_id: int) -> list[User]:
    """The 学校 accounts of a school."""
    return list(db.session.scalars(select(User).where(User.role == "school", User.school_id == school_id)))


def reviewers(county_id: int) -> list[User]:
    """The county's reviewers (督导室)."""
    return list(db.session.scalars(select(User).where(User.role == "reviewer", User.county_id == county_id)))


def inspectors(school_id: int, today: date) -> list[User]:
    """The school's inspectors now."""
    query = (
        select(User)
        .join(Assignment, Assignment.user_id == User.id)
        .where(Assignment.school_id == school_id, Assignment.kind == "inspector", Assignment.starts_on <= today)
        .where((Assignment.ends_on.is_(None)) | (Assignment.ends_on >= today))
    )
    return list(db.session.scalars(query))


def _task_link(task: RectificationTask, for_school: bool) -> str:
    return f"/inspect/#/task/{task.id}" if for_school else f"/rectification/{task.id}"


def task_events(task: RectificationTask) -> int:
    """Assigned (to the school), closure asked (to the bureau), returned and closed (to the school)."""
    school = school_accounts(task.school_id)
    title = f"{task.school.name} · {task.item_title}"
    sent = 0
    if task.state != "closed":
        sent += notify(
            school,
            Message(
                "task_assigned",
                f"task_assigned:{task.id}",
                f"新的整改任务：{task.item_title}",
                f"整改期限 {task.deadline.isoformat()}。{task.problem}",
                _task_link(task, True),
            ),
        )
    for update in task.updates:
        if update.kind == "request":
            message = Message(
                "task_requested",
                f"task_requested:{update.id}",
                f"申请销号：{title}",
                update.note,
                _task_link(task, False),
            )
            sent += notify(reviewers(task.county_id), message)
        elif update.kind == "reopen":
            message = Message(
                "task_returned",
                f"task_returned:{update.id}",
                f"整改被退回：{task.item_title}",
                update.note,
                _task_link(task, True),
            )
            sent += notify(school, message)
        elif update.kind == "close":
            message = Message(
                "task_closed",
                f"task_closed:{update.id}",
                f"整改已销号：{task.item_title}",
                update.note,
                _task_link(task, True),
            )
            sent += notify(school, message)
    return sent


def deadline_notices(task: RectificationTask, today: date) -> int:
    """Due within 3 days: remind the school (once per deadline). Overdue: remind it daily, tell the bureau once."""
    if task.state == "closed":
        return 0
    days_left = (task.deadline - today).days
    school = school_accounts(task.school_id)
    if 0 <= days_left <= DUE_SOON_DAYS:
        message = Message(
            "task_due",
            f"task_due:{task.id}:{task.deadline.isoformat()}",
            f"整改即将到期：{task.item_title}",
            f"整改期限 {task.deadline.isoformat()}，还剩 {days_left} 天。",
            _task_link(task, True),
        )
        return notify(school, message)
    if days_left < 0:
        late = f"整改期限 {task.deadline.isoformat()}，已逾期 {-days_left} 天。"
        daily = Message(
            "task_overdue",
            f"task_overdue:{task.id}:{today.isoformat()}",
            f"整改已逾期：{task.item_title}",
            late,
            _task_link(task, True),
        )
        once = Message(
            "task_overdue",
            f"task_overdue:{task.id}",
            f"整改逾期：{task.school.name} · {task.item_title}",
            late,
            _task_link(task, False),
        )
        return notify(school, daily) + notify(reviewers(task.county_id) + inspectors(task.school_id, today), once)
    return 0


def report_events(report: SelfReport, today: date) -> int:
    """Submitted (to its inspector and the bureau), returned or accepted (to the school)."""
    title = f"{report.school.name} · {report.item_title}"
    link = f"/self-reports/{report.id}"
    stamp = (report.verified_at or report.submitted_at or report.updated_at).isoformat()
    if report.state == "submitted":
        message = Message("report_submitted", f"report_submitted:{report.id}:{stamp}", f"自查待核验：{title}", "", link)
        return notify(reviewers(report.county_id) + inspectors(report.school_id, today), message)
    if report.state in ("returned", "accepted"):
        kind = f"report_{report.state}"
        verb = "被退回" if report.state == "returned" else "已核验"
        message = Message(kind, f"{kind}:{report.id}:{stamp}", f"自查{verb}：{report.item_title}", report.comment, link)
        return notify(school_accounts(report.school_id), message)
    return 0


def report_due(school: School, term: Term, missing: int, today: date) -> int:
    """The term ends within two weeks and items are not reported yet: tell the school (once per term)."""
    if missing <= 0 or not (0 <= (term.ends_on - today).days <= REPORT_DUE_DAYS):
        return 0
    message = Message(
        "report_due",
        f"report_due:{term.id}",
        f"自查报送即将截止：还有 {missing} 项未报送",
        f"{term.name}于 {term.ends_on.isoformat()} 结束，请在此之前完成自查报送。",
        "/self-reports/mine",
    )
    return notify(school_accounts(school.id), message)


@dataclass
class DailyRun:
    """What one run did."""

    tasks: int = 0
    overdue: int = 0
    sent: int = 0


def run_daily(today: date) -> DailyRun:
    """The daily job: every open (or lately closed) task's events and deadlines, self-reports due and decided."""
    from ..schools.selfreport import completion

    run = DailyRun()
    since = today - CLOSED_WINDOW
    tasks = db.session.scalars(
        select(RectificationTask).where((RectificationTask.state != "closed") | (RectificationTask.closed_at >= since))
    ).all()
    for task in tasks:
        run.tasks += 1
        run.overdue += int(task.is_overdue(today))
        run.sent += task_events(task) + deadline_notices(task, today)
    for report in db.session.scalars(select(SelfReport).where(SelfReport.updated_at >= since)):
        run.sent += report_events(report, today)
    terms = db.session.scalars(select(Term).where(Term.starts_on <= today, Term.ends_on >= today)).all()
    for term in terms:
        with_accounts = select(User.school_id).where(User.role == "school")
        schools = list(
            db.session.scalars(select(School).where(School.county_id == term.county_id, School.id.in_(with_accounts)))
        )
        for row in completion(schools, term):
            run.sent += report_due(row.school, term, row.due - row.reported, today)
    db.session.flush()
    return run


def task_changed(task: RectificationTask) -> int:
    """Right after a change to a task (the route calls it before its commit)."""
    return task_events(task) + deadline_notices(task, today_in_china())


def visit_reviewed(visit_id: str) -> int:
    """Right after a visit was accepted: the tasks it opened."""
    tasks = db.session.scalars(select(RectificationTask).where(RectificationTask.visit_id == visit_id)).all()
    return sum(task_changed(task) for task in tasks)
