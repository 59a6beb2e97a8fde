"""Self-report pages: the school fills its items for the term; the inspector or the bureau verifies."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import fields, validate

from ..auth.policy import roles_required, visible_schools
from ..bureau.access import county_for, int_arg, term_for
from ..bureau.rectification.operations import Upload
from ..bureau.review.evidence import photo_urls
from ..bureau.schemas import TEXT, _Form, load_form
from ..core.models import County, School, Term
from ..errors import AppError
from ..extensions import db
from ..notices.events import report_events
from ..timeutil import today_in_china
from . import selfreport
from .models import SelfReport

bp = Blueprint("self_reports", __name__, url_prefix="/self-reports", template_folder="templates")


class ReportForm(_Form):
    """One item of the school's self-report."""

    answer = fields.String(load_default="", validate=validate.OneOf(["", "yes", "no", "na"]))
    number = fields.String(load_default="", validate=validate.Length(max=32))
    note = fields.String(load_default="", validate=TEXT)
    action = fields.String(load_default="save", validate=validate.OneOf(["save", "submit"]))


class VerifyForm(_Form):
    """Accept or return a report."""

    decision = fields.String(
        required=True,
        validate=validate.OneOf(["accept", "return"], error="请选择“核验通过”或“退回补充”。"),
        error_messages={"required": "请选择“核验通过”或“退回补充”。"},
    )
    comment = fields.String(load_default="", validate=TEXT)


def _school_term() -> tuple[School, Term]:
    school = current_user.school
    if school is None:
        abort(404)
    term = term_for(school.county, int_arg(request.args, "term"))
    if term is None:
        abort(404)
    return school, term


def _mine_page(
    status: int = 200, errors: dict[str, list[str]] | None = None, failed: str = "", typed: dict[str, str] | None = None
) -> Any:
    """The page; after a refused save, ``failed`` names the item whose form shows ``typed`` (what was sent)."""
    school, term = _school_term()
    items = selfreport.report_items(school, term)
    reports = selfreport.reports_of([school.id], term)
    urls = {p.id: photo_urls(p.thumb_key, p.public_key) for r in reports.values() for p in r.photos}
    body = render_template(
        "schools/self_report_mine.html",
        school=school,
        term=term,
        items=items,
        reports={item_id: r for (_, item_id), r in reports.items()},
        urls=urls,
        errors=errors or {},
        failed=failed,
        typed=typed or {},
        done=request.args.get("done", ""),
    )
    return body, status


@bp.route("/mine")
@roles_required("school")
def mine() -> Any:
    """The school's self-report for the term: every item with its answer, evidence and verification."""
    return _mine_page()


@bp.route("/mine/<item_id>", methods=["POST"])
@roles_required("school")
def fill(item_id: str) -> Any:
    """Save or 报送 one item (value, note, photos)."""
    school, term = _school_term()
    item = next((i for i in selfreport.report_items(school, term) if i.id == item_id[:96]), None)
    if item is None:
        abort(404)
    try:
        data = load_form(ReportForm(), request.form)
        value = selfreport.parse_value(item.check, data["answer"], data["number"].strip())
        files = [f for f in request.files.getlist("photos") if f and f.filename]
        uploads = [Upload(f.read()) for f in files]
        report = selfreport.save_report(
            current_user, school, term, item, value, data["note"], uploads, submit=data["action"] == "submit"
        )
        report_events(report, today_in_china())
    except AppError as exc:
        db.session.rollback()
        typed = {name: request.form.get(name, "") for name in ("answer", "number", "note")}
        return _mine_page(exc.status, {**exc.fields, "_": [exc.message]}, failed=item.id, typed=typed)
    db.session.commit()
    done = "submitted" if data["action"] == "submit" else "saved"
    return redirect(url_for("self_reports.mine", term=term.id, done=done, _anchor=f"item-{item.id}"))


def _visible_report(report_id: int) -> SelfReport:
    report = db.session.get(SelfReport, report_id) if 0 < report_id < 2**31 else None
    if report is None:
        abort(404)
    if current_user.role == "school":
        if report.school_id != current_user.school_id:
            abort(404)
    elif not selfreport.can_verify(current_user, report):
        abort(404)
    return report


def _county() -> County | None:
    if current_user.role in ("reviewer", "admin"):
        return county_for(current_user, int_arg(request.args, "county"))
    return current_user.county


@bp.route("/")
@roles_required(*selfreport.VERIFIERS)
def index() -> Any:
    """Reports waiting for verification, and each school's completion (reported apart from verified)."""
    county = _county()
    if county is None:
        abort(404)
    term = term_for(county, int_arg(request.args, "term"))
    schools = list(db.session.scalars(visible_schools(current_user).where(School.county_id == county.id)))
    board = selfreport.completion(schools, term) if term else []
    waiting = [r for row in board for r in row.reports if r.state == "submitted"]
    return render_template("schools/self_report_index.html", county=county, term=term, board=board, waiting=waiting)


def _report_page(report: SelfReport, status: int = 200, errors: dict[str, list[str]] | None = None) -> Any:
    body = render_template(
        "schools/self_report.html",
        report=report,
        urls={p.id: photo_urls(p.thumb_key, p.public_key) for p in report.photos},
        can_verify=current_user.role != "school" and selfreport.can_verify(current_user, report),
        errors=errors or {},
        done=request.args.get("done", ""),
    )
    return body, status


@bp.route("/<int:report_id>")
@roles_required("school", *selfreport.VERIFIERS)
def show(report_id: int) -> Any:
    """One report: the school's answer and evidence, and its verification."""
    return _report_page(_visible_report(report_id))


@bp.route("/<int:report_id>/verify", methods=["POST"])
@roles_required(*selfreport.VERIFIERS)
def verify(report_id: int) -> Any:
    """Accept the report, or return it to the school with a comment."""
    report = _visible_report(report_id)
    try:
        data = load_form(VerifyForm(), request.form)
        selfreport.verify(current_user, report, data["decision"], data["comment"])
        report_events(report, today_in_china())
    except AppError as exc:
        db.session.rollback()
        return _report_page(_visible_report(report_id), exc.status, {**exc.fields, "_": [exc.message]})
    db.session.commit()
    return redirect(url_for("self_reports.show", report_id=report_id, done=report.state))
