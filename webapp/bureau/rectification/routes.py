"""Rectification pages: the ledger, a task with its history, and the forms that move it to closure."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ...auth.policy import roles_required
from ...core.models import School
from ...errors import AppError
from ...extensions import db
from ...notices.events import task_changed
from ...tables import one_page, page_from, search_from, sort_from
from ...templating import render_htmx
from ...timeutil import today_in_china
from .. import TEMPLATES
from ..access import TASK_REPORTERS, can_manage_task, counties_for, county_for, int_arg, task_for
from ..audit import operations as audit
from ..review.evidence import photo_urls
from ..schemas import load_form
from . import ledger
from .models import RectificationTask, TaskPhoto
from .operations import MAX_PHOTOS, Upload, add_progress, close_task, edit_task, reopen_task
from .schemas import CloseSchema, EditTaskSchema, ProgressSchema, ReopenSchema

bp = Blueprint("rectification", __name__, url_prefix="/rectification", template_folder=TEMPLATES)


def _ledger_filters() -> tuple[ledger.LedgerFilters, Any]:
    county = None
    if current_user.role in ("reviewer", "admin"):
        county = county_for(current_user, int_arg(request.args, "county"))
    state = request.args.get("state", "unclosed")
    filters = ledger.LedgerFilters(
        county_id=county.id if county else None,
        state=state if state in ledger.STATE_FILTERS else "unclosed",
        school_id=int_arg(request.args, "school"),
        item_id=request.args.get("item", "")[:96],
        q=search_from(request.args),
        sort=sort_from(request.args, ledger.SORTS, "due"),
    )
    return filters, county


@bp.route("/")
@roles_required(*TASK_REPORTERS)
def index() -> Response:
    """The ledger: tasks (overdue first) and counts by school, item and age."""
    filters, county = _ledger_filters()
    page = page_from(request.args)
    fetched = ledger.tasks(current_user, filters, limit=ledger.PER_PAGE + 1, offset=(page - 1) * ledger.PER_PAGE)
    rows, has_next = one_page(list(fetched), ledger.PER_PAGE)
    school_ids = {t.school_id for t in rows}
    names = dict(db.session.execute(select(School.id, School.name).where(School.id.in_(school_ids))).all())
    return render_htmx(
        "bureau/ledger.html",
        "bureau/_ledger_table.html",
        county=county,
        counties=counties_for(current_user) if current_user.role == "admin" else [],
        filters=filters,
        rows=rows,
        names=names,
        counts=ledger.counts(current_user, filters.county_id),
        states=ledger.STATE_FILTERS,
        today=today_in_china(),
        page_number=page,
        has_next=has_next,
        args=filters.as_args() | ({"county": county.id} if county and current_user.role == "admin" else {}),
    )


def _task_page(task: RectificationTask, status: int = 200, errors: dict[str, list[str]] | None = None) -> Any:
    photos = db.session.scalars(select(TaskPhoto).where(TaskPhoto.task_id == task.id)).all()
    urls = {p.id: photo_urls(p.thumb_key, p.public_key) for p in photos}
    body = render_template(
        "bureau/task.html",
        task=task,
        today=today_in_china(),
        urls=urls,
        can_manage=can_manage_task(current_user, task),
        audit_entries=audit.entries_for("task", task.id),
        errors=errors or {},
        error_message=(errors or {}).get("_", [""])[0],
        form=request.form if request.method == "POST" else {},
        max_photos=MAX_PHOTOS,
        done=request.args.get("done", ""),
    )
    return body, status


@bp.route("/<int:task_id>")
@roles_required(*TASK_REPORTERS)
def task(task_id: int) -> Any:
    """A task: what is wrong, the deadline, the school's progress with photos, the bureau's decisions, history."""
    return _task_page(task_for(current_user, task_id))


def _act(task_id: int, action: Callable[[RectificationTask], None], done: str) -> Any:
    task = task_for(current_user, task_id, lock=True)
    try:
        action(task)
    except AppError as exc:
        db.session.rollback()
        return _task_page(task_for(current_user, task_id), exc.status, {**exc.fields, "_": [exc.message]})
    task_changed(task)  # the school's and the bureau's inbox
    db.session.commit()
    return redirect(url_for("rectification.task", task_id=task_id, done=done))


def _uploads() -> list[Upload]:
    files = [f for f in request.files.getlist("photos") if f and f.filename]
    return [Upload(f.read(), request.form.get("caption", "")) for f in files]


@bp.route("/<int:task_id>/progress", methods=["POST"])
@roles_required(*TASK_REPORTERS)
def progress(task_id: int) -> Any:
    """The school (or its inspector) records what was done, with photos, and may ask for closure."""

    def action(task: RectificationTask) -> None:
        data = load_form(ProgressSchema(), request.form)
        add_progress(current_user, task, data["note"], _uploads(), request_closure=data["request_closure"])

    return _act(task_id, action, "progress")


@bp.route("/<int:task_id>/close", methods=["POST"])
@roles_required(*TASK_REPORTERS)
def close(task_id: int) -> Any:
    """The bureau closes the task (销号)."""

    def action(task: RectificationTask) -> None:
        close_task(current_user, task, load_form(CloseSchema(), request.form)["note"])

    return _act(task_id, action, "closed")


@bp.route("/<int:task_id>/reopen", methods=["POST"])
@roles_required(*TASK_REPORTERS)
def reopen(task_id: int) -> Any:
    """The bureau sends the task back to 整改中."""

    def action(task: RectificationTask) -> None:
        data = load_form(ReopenSchema(), request.form)
        reopen_task(current_user, task, data["note"], data["deadline"])

    return _act(task_id, action, "reopened")


@bp.route("/<int:task_id>/edit", methods=["POST"])
@roles_required(*TASK_REPORTERS)
def edit(task_id: int) -> Any:
    """The bureau changes the deadline, the responsible person or the description."""

    def action(task: RectificationTask) -> None:
        data = load_form(EditTaskSchema(), request.form)
        edit_task(current_user, task, data["deadline"], data["responsible_person"], data["problem"])

    return _act(task_id, action, "edited")
