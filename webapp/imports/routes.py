"""Upload schools, users and assignments from CSV or XLSX."""

from __future__ import annotations

import base64
import binascii
from datetime import date

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from sync.storage import StorageError

from ..auth.policy import roles_required
from ..core.models import County
from ..errors import AppError
from ..extensions import db
from ..spreadsheets import Column, Sheet, workbook
from ..templating import render_htmx
from ..visits.photos import RETRY_AFTER
from .jobs import import_state, start_import
from .operations import ImportRejected, RowError, import_table
from .parsing import ImportFileError, read_table
from .schemas import EXAMPLES, KIND_LABELS, ROW_SCHEMAS

TEMPLATE_NOTE = (
    "在“填写”表中从第2行起填写，第1行表头不要改动；本表是一行示例。"
    "日期可写 2026-09-01、2026/9/1、2026年9月1日或日期格式的单元格。"
)

bp = Blueprint("imports", __name__, url_prefix="/admin/import", template_folder="templates")


def _counties() -> list[County]:
    query = select(County).order_by(County.id)
    if current_user.role != "admin":
        query = query.where(County.id == current_user.county_id)
    return list(db.session.scalars(query))


def _form(status: int = 200, **context: object) -> tuple[str, int]:
    context.setdefault("errors", [])
    return render_template("imports/form.html", kinds=KIND_LABELS, counties=_counties(), **context), status


@bp.route("/", methods=["GET"])
@roles_required("admin", "reviewer")
def form() -> tuple[str, int]:
    """The upload form."""
    return _form()


@bp.route("/", methods=["POST"])
@roles_required("admin", "reviewer")
def upload() -> Response | tuple[str, int]:
    """Check a file and show what it would create and change; write it only when confirmed.

    The first POST carries the file: every error is listed, or a preview is shown and nothing is written.
    The preview's 确认导入 posts the same bytes back (``confirm=1``, base64): a job checks them again and
    writes them, and the answer is its progress page (``imports.job``).
    """
    kind = request.form.get("kind", "")
    if kind not in ROW_SCHEMAS:
        return _form(422, errors=[RowError(0, "导入类型", "请选择要导入的数据类型。")])
    county_id = request.form.get("county_id", type=int)
    county = next((c for c in _counties() if c.id == county_id), None)
    if county is None:
        return _form(422, kind=kind, errors=[RowError(0, "县区", "请选择县区。")])
    filename, data = _uploaded()
    if data is None:
        return _form(422, kind=kind, errors=[RowError(0, "文件", "请选择要上传的 CSV 或 XLSX 文件。")])
    if request.form.get("confirm") == "1":
        # The job reads, checks again (the data may have changed since the preview) and writes, step by step.
        try:
            token = start_import(current_user.id, kind, county, filename, data)
        except StorageError as exc:
            raise AppError(503, "storage_unavailable", "暂时无法导入，请稍后重试。", retry_after=RETRY_AFTER) from exc
        return redirect(url_for("imports.job", token=token), code=303)
    try:
        table = read_table(filename, data, int(current_app.config["IMPORT_MAX_ROWS"]))
        result = import_table(kind, table, county)
    except ImportFileError as exc:
        db.session.rollback()
        return _form(422, kind=kind, errors=[RowError(0, "文件", str(exc))])
    except ImportRejected as exc:
        db.session.rollback()
        return _form(422, kind=kind, errors=exc.errors, rejected=True)
    db.session.rollback()  # a preview writes nothing
    encoded = base64.b64encode(data).decode("ascii")
    return _form(kind=kind, preview=result, county=county, filename=filename, encoded=encoded)


@bp.route("/jobs/<token>")
@roles_required("admin", "reviewer")
def job(token: str) -> Response:
    """Where a confirmed import stands: its step while it runs (htmx polls this), then what it wrote."""
    state = import_state(current_user.id, token)
    if state is None:
        abort(404)
    response = render_htmx("imports/job.html", "imports/_job.html", job=state, token=token)
    response.headers["Cache-Control"] = "no-store"
    return response


def _uploaded() -> tuple[str, bytes | None]:
    """The file of the first step, or the bytes the preview posts back."""
    if request.form.get("confirm") == "1":
        try:
            data = base64.b64decode(request.form.get("data", ""), validate=True)
        except (binascii.Error, ValueError):
            return "", None
        return request.form.get("filename", "")[:200], data or None
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return "", None
    return upload.filename, upload.read()


@bp.route("/template/<kind>.xlsx")
@roles_required("admin", "reviewer")
def template_xlsx(kind: str) -> Response:
    """An XLSX template: an empty first sheet to fill in, and a second with an example row and the rules."""
    if kind not in ROW_SCHEMAS:
        abort(404)
    columns = [Column(header, 16, "date" if isinstance(v, date) else "text") for header, v in EXAMPLES[kind].items()]
    sheets = [
        Sheet("填写", columns, []),
        Sheet("示例", columns, [list(EXAMPLES[kind].values())], note=TEMPLATE_NOTE),
    ]
    return Response(
        workbook(sheets),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="dudao_{kind}_template.xlsx"'},
    )


@bp.route("/template/<kind>.csv")
@roles_required("admin", "reviewer")
def template(kind: str) -> Response:
    """An empty CSV with the right headers (UTF-8 with BOM, so Excel shows Chinese)."""
    if kind not in ROW_SCHEMAS:
        abort(404)
    header = ",".join(ROW_SCHEMAS[kind].COLUMNS) + "\r\n"
    return Response(
        "\ufeff" + header,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="dudao_{kind}_template.csv"'},
    )
