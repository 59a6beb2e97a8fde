"""Visit report PDFs through the job queue: the page asks for one, shows progress, then downloads it.

Printing with headless Chromium takes seconds; instead of holding a request (and a worker thread) that
long, the report's HTML is rendered in the request, kept in storage, and printed by a job (RQ worker, or
in process after the response). The files live under ``reports/u<user>/<token>/``, so only the person
who asked can follow and download them.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, jsonify, render_template, url_for
from flask_login import current_user

from sync.storage import ObjectNotFound, StorageError

from ... import jobs
from ...auth.policy import roles_required
from ...errors import AppError
from ...visits.photos import RETRY_AFTER, storage
from ..access import BUREAU_ROLES, visit_for_bureau
from ..review.evidence import visit_evidence

bp = Blueprint("report_jobs", __name__, url_prefix="/bureau")


def _prefix(user_id: int, token: str) -> str:
    return jobs.job_prefix("reports", user_id, token)


def print_report(prefix: str) -> None:
    """The job: print ``<prefix>report.html`` to ``<prefix>report.pdf`` (or record why not)."""
    from .pdf import html_to_pdf

    app = jobs.job_app()
    with app.app_context():
        target = app.extensions["dudao.storage"]
        html = target.get(prefix + "report.html").decode("utf-8")
        try:
            data = html_to_pdf(html)
        except AppError as exc:
            target.put(prefix + "failed.txt", exc.message.encode("utf-8"), "text/plain")
            return
        target.put(prefix + "report.pdf", data, "application/pdf")


@bp.route("/visits/<visit_id>/report-jobs", methods=["POST"])
@roles_required(*BUREAU_ROLES)
def start(visit_id: str) -> tuple[Response, int]:
    """Ask for the visit's report as a PDF; answer where to follow it."""
    from . import pdf

    visit = visit_for_bureau(current_user, visit_id)
    html = render_template(
        "bureau/report.html", visit=visit, inline_images=True, inline_src=pdf.inline_src, **visit_evidence(visit)
    )
    token = jobs.new_token()
    prefix = _prefix(current_user.id, token)
    name = f"督导报告_{visit.school.name}_{visit.visited_on.isoformat()}.pdf"
    try:
        storage().put(prefix + "report.html", html.encode("utf-8"), "text/html")
        storage().put(prefix + "name.txt", name.encode("utf-8"), "text/plain")
    except StorageError as exc:
        raise AppError(503, "storage_unavailable", "暂时无法生成报告，请稍后重试。", retry_after=RETRY_AFTER) from exc
    jobs.enqueue(print_report, prefix)
    return jsonify(_state(token)), 202


def _check(token: str) -> str:
    if not jobs.valid_token(token):
        abort(404)
    return _prefix(current_user.id, token)


def _state(token: str) -> dict[str, Any]:
    prefix = _prefix(current_user.id, token)
    target = storage()
    if target.exists(prefix + "report.pdf"):
        state, message = "done", "PDF 已生成。"
    elif target.exists(prefix + "failed.txt"):
        state, message = "failed", target.get(prefix + "failed.txt").decode("utf-8")
    elif target.exists(prefix + "report.html"):
        state, message = "pending", "正在生成 PDF……"
    else:
        abort(404)
    return {
        "token": token,
        "state": state,
        "message": message,
        "status_url": url_for("report_jobs.status", token=token),
        "download_url": url_for("report_jobs.download", token=token) if state == "done" else None,
    }


@bp.route("/reports/<token>")
@roles_required(*BUREAU_ROLES)
def status(token: str) -> Response:
    """Where the PDF stands: pending, done (with its download link) or failed (with the reason)."""
    _check(token)
    return jsonify(_state(token))


@bp.route("/reports/<token>/report.pdf")
@roles_required(*BUREAU_ROLES)
def download(token: str) -> Response:
    """The finished PDF."""
    from urllib.parse import quote

    prefix = _check(token)
    try:
        data = storage().get(prefix + "report.pdf")
        name = storage().get(prefix + "name.txt").decode("utf-8")
    except ObjectNotFound:
        abort(404)
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f"attachment; filename=\"report.pdf\"; filename*=UTF-8''{quote(name)}"
    return response
