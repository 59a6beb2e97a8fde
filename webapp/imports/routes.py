"""Upload schools, users and assignments from CSV or XLSX."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_login import current_user
from sqlalchemy import select

from ..auth.policy import roles_required
from ..core.models import County
from ..extensions import db
from .operations import ImportRejected, RowError, import_table
from .parsing import ImportFileError, read_table
from .schemas import KIND_LABELS, ROW_SCHEMAS

bp = Blueprint("imports", __name__, url_prefix="/admin/import", template_folder="templates")


def _counties() -> list[County]:
    query = select(County).order_by(County.id)
    if current_user.role != "admin":
        query = query.where(County.id == current_user.county_id)
    return list(db.session.scalars(query))


def _form(status: int = 200, **context: object) -> tuple[str, int]:
    context.setdefault("errors", [])
    context.setdefault("result", None)
    return render_template("imports/form.html", kinds=KIND_LABELS, counties=_counties(), **context), status


@bp.route("/", methods=["GET"])
@roles_required("admin", "reviewer")
def form() -> tuple[str, int]:
    """The upload form."""
    return _form()


@bp.route("/", methods=["POST"])
@roles_required("admin", "reviewer")
def upload() -> tuple[str, int]:
    """Import a file: every row valid, or nothing written and every error listed."""
    kind = request.form.get("kind", "")
    if kind not in ROW_SCHEMAS:
        return _form(422, errors=[RowError(0, "导入类型", "请选择要导入的数据类型。")])
    county_id = request.form.get("county_id", type=int)
    county = next((c for c in _counties() if c.id == county_id), None)
    if county is None:
        return _form(422, kind=kind, errors=[RowError(0, "县区", "请选择县区。")])
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _form(422, kind=kind, errors=[RowError(0, "文件", "请选择要上传的 CSV 或 XLSX 文件。")])
    try:
        table = read_table(upload.filename, upload.read(), int(current_app.config["IMPORT_MAX_ROWS"]))
        result = import_table(kind, table, county)
    except ImportFileError as exc:
        db.session.rollback()
        return _form(422, kind=kind, errors=[RowError(0, "文件", str(exc))])
    except ImportRejected as exc:
        db.session.rollback()
        return _form(422, kind=kind, errors=exc.errors, rejected=True)
    db.session.commit()
    return _form(kind=kind, result=result, county=county)


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
