"""The school's phone API: its bundle of tasks, and progress entries sent from the outbox exactly once."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Response, jsonify, request
from flask_login import current_user
from sqlalchemy import select

from ..apidoc import operation
from ..auth.policy import roles_required
from ..bureau.access import task_for
from ..bureau.rectification.models import TaskUpdate
from ..bureau.rectification.operations import Upload, add_progress
from ..bureau.rectification.schemas import ProgressSchema
from ..bureau.schemas import load_form
from ..errors import AppError
from ..extensions import csrf, db
from ..notices.events import task_changed
from ..timeutil import utcnow
from ..visits.api import check_csrf_header, committed
from ..visits.operations import iso
from .schemas import ProgressAnswerSchema, SchoolPhoneBundleSchema
from .tasks_view import school_tasks, task_as_dict

bp = Blueprint("school_api", __name__, url_prefix="/api/v1", template_folder="templates")
csrf.exempt(bp)
bp.before_request(check_csrf_header)


@bp.route("/school/bundle")
@operation({200: SchoolPhoneBundleSchema}, (404,))
@roles_required("school")
def bundle() -> Response:
    """The school and its tasks (findings, deadlines, history), for the phone to keep offline."""
    school = current_user.school
    if school is None:
        raise AppError(404, "no_school", "该账号尚未关联学校，请联系管理员。")
    tasks = [task_as_dict(t) for t in school_tasks(school)]
    return jsonify(
        {"school": {"id": school.id, "name": school.name, "code": school.code}, "tasks": tasks, "at": iso(utcnow())}
    )


def _check_uuid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise AppError(404, "not_found", "记录不存在。") from None


def progress_entry(task_id: int, client_id: str) -> tuple[dict[str, Any], int]:
    """Record one progress entry from the phone; the same UUID again answers the first result (200)."""
    client_id = _check_uuid(client_id)
    task = task_for(current_user, task_id, lock=True)
    seen = db.session.scalar(select(TaskUpdate).where(TaskUpdate.client_id == client_id))
    if seen is not None:
        if seen.task_id != task.id:
            raise AppError(409, "id_reused", "该记录编号已用于其他整改任务。")
        return {"update_id": seen.id, "task": task_as_dict(task), "replayed": True}, 200
    data = load_form(ProgressSchema(), request.form)
    files = [f for f in request.files.getlist("photos") if f and f.filename]
    captions = request.form.getlist("caption")
    uploads = [Upload(f.read(), captions[n] if n < len(captions) else "") for n, f in enumerate(files)]
    update = add_progress(
        current_user, task, data["note"], uploads, request_closure=data["request_closure"], client_id=client_id
    )
    task_changed(task)
    return {"update_id": update.id, "task": task_as_dict(task), "replayed": False}, 201


@bp.route("/tasks/<int:task_id>/progress/<client_id>", methods=["PUT"])
@operation(
    {200: ProgressAnswerSchema, 201: ProgressAnswerSchema},
    (404, 409, 413, 422, 503),
    form=ProgressSchema,
    files=("photos",),
)
@roles_required("school", "inspector")
def put_progress(task_id: int, client_id: str) -> tuple[Response, int]:
    """整改进展 (optionally 申请销号) with photos, multipart: ``note``, ``request_closure``, ``photos``."""
    body, status = committed(lambda: progress_entry(task_id, client_id))
    return jsonify(body), status
