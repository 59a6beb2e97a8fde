"""The bureau's visit pages: the workbench, the visits list, a visit's evidence, review, printed report."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from ...auth.policy import roles_required
from ...errors import AppError
from ...extensions import db
from ...notices.events import visit_reviewed
from ...templating import render_htmx
from ...timeutil import today_in_china
from ...visits.models import Visit
from .. import TEMPLATES
from ..access import BUREAU_ROLES, counties_for, county_for, int_arg, term_for, terms_of, visit_for_bureau
from ..audit import operations as audit
from ..dashboard import figures as dashboard
from ..rectification import ledger
from ..reports import pdf
from ..schemas import load_form
from . import listing
from .evidence import visit_evidence
from .operations import (
    accept_visit,
    default_deadline,
    default_problem,
    default_responsible,
    return_visit,
    unclosed_tasks,
)
from .schemas import ReviewSchema, per_item

bp = Blueprint("bureau", __name__, url_prefix="/bureau", template_folder=TEMPLATES)


@bp.route("/")
@roles_required(*BUREAU_ROLES)
def index() -> str:
    """The reviewer's workbench: what waits for review, open and overdue rectification, links."""
    county = county_for(current_user, int_arg(request.args, "county"))
    states = dict(
        db.session.execute(
            select(Visit.state, func.count()).where(Visit.county_id == county.id).group_by(Visit.state)
        ).all()
    )
    counts = ledger.counts(current_user, county.id)
    term = term_for(county, None)
    return render_template(
        "bureau/index.html",
        county=county,
        term=term,
        figures=dashboard.all_figures(county, term) if term else {},
        states=states,
        counts=counts,
        counties=_counties_for_admin(),
    )


def _counties_for_admin() -> list[Any]:
    return counties_for(current_user) if current_user.role == "admin" else []


@bp.route("/visits")
@roles_required(*BUREAU_ROLES)
def visits() -> Response:
    """The county's visits, filtered, newest first, a page at a time."""
    county = county_for(current_user, int_arg(request.args, "county"))
    filters = listing.filters_from_args(request.args, county)
    page = listing.visits_page(filters)
    return render_htmx(
        "bureau/visits.html",
        "bureau/_visits_table.html",
        county=county,
        counties=_counties_for_admin(),
        filters=filters,
        found=page,
        state_counts=listing.state_counts(filters),
        terms=terms_of(county),
        schools=listing.schools_of(county.id),
        inspectors=listing.inspectors_of(county.id),
        states=listing.LISTED_STATES,
        args=filters.as_args() | ({"county": county.id} if current_user.role == "admin" else {}),
    )


def _visit_page(visit: Visit, status: int = 200, errors: dict[str, list[str]] | None = None, **extra: Any) -> Any:
    evidence = visit_evidence(visit)
    failed = evidence["failed"]
    # A failed item whose school already has an open task updates that task: the form starts from its values.
    open_tasks = unclosed_tasks(visit.school_id) if visit.state == "submitted" else {}
    task_defaults = {}
    for view in failed:
        if view.result is None:
            continue
        task = open_tasks.get(view.item["id"])
        task_defaults[view.item["id"]] = (
            {"deadline": task.deadline, "responsible": task.responsible_person, "problem": task.problem}
            if task
            else {
                "deadline": default_deadline(_section_of(visit, view.item["id"])),
                "responsible": default_responsible(visit.school_id),
                "problem": default_problem(visit, view.result),
            }
        )
    # Submitted visits open on what needs a decision; ?only=all (or any other state) shows every item.
    only = request.args.get("only") or ("problems" if visit.state == "submitted" else "all")
    body = render_template(
        "bureau/visit.html",
        visit=visit,
        today=today_in_china(),
        task_defaults=task_defaults,
        audit_entries=audit.entries_for("visit", visit.id),
        errors=errors or {},
        form=request.form if request.method == "POST" else {},
        only_problems=only == "problems",
        open_tasks=open_tasks,
        open_tasks_failed=sum(1 for view in failed if view.item["id"] in open_tasks),
        **evidence,
        **extra,
    )
    return body, status


def _section_of(visit: Visit, item_id: str) -> str:
    for section in visit.checklist_version.content["sections"]:
        if any(item["id"] == item_id for item in section["items"]):
            return section["id"]
    return ""


@bp.route("/visits/<visit_id>")
@roles_required(*BUREAU_ROLES)
def visit(visit_id: str) -> Any:
    """One visit's evidence: times, place check, results against thresholds, photos, reviews, history."""
    return _visit_page(visit_for_bureau(current_user, visit_id), done=request.args.get("done", ""))


@bp.route("/visits/<visit_id>/review", methods=["POST"])
@roles_required(*BUREAU_ROLES)
def review(visit_id: str) -> Any:
    """Accept the visit (opening a task per failed item) or return it with comments."""
    visit = visit_for_bureau(current_user, visit_id, lock=True)
    item_ids = [item["id"] for section in visit.checklist_version.content["sections"] for item in section["items"]]
    try:
        data = load_form(ReviewSchema(), request.form)
        notes, specs = per_item(request.form, item_ids)
        if data["decision"] == "return":
            return_visit(current_user, visit, data["comment"], notes)
        else:
            accept_visit(current_user, visit, data["comment"], notes, specs)
            visit_reviewed(visit.id)  # the schools' inbox: their new tasks
    except AppError as exc:
        db.session.rollback()
        visit = visit_for_bureau(current_user, visit_id)
        return _visit_page(visit, exc.status, exc.fields or {"_": [exc.message]}, error_message=exc.message)
    db.session.commit()
    done = "returned" if data["decision"] == "return" else "accepted"
    return redirect(url_for("bureau.visit", visit_id=visit.id, done=done) + "#review")


@bp.route("/visits/<visit_id>/report")
@roles_required(*BUREAU_ROLES)
def report(visit_id: str) -> str:
    """The printable visit report (A4, print CSS, signatures block)."""
    visit = visit_for_bureau(current_user, visit_id)
    return render_template(
        "bureau/report.html", visit=visit, inline_images=False, inline_src=pdf.inline_src, **visit_evidence(visit)
    )


@bp.route("/visits/<visit_id>/report.pdf")
@roles_required(*BUREAU_ROLES)
def report_pdf(visit_id: str) -> Response:
    """The same report as a PDF, printed by headless Chromium with the photos inlined."""
    visit = visit_for_bureau(current_user, visit_id)
    html = render_template(
        "bureau/report.html", visit=visit, inline_images=True, inline_src=pdf.inline_src, **visit_evidence(visit)
    )
    name = f"督导报告_{visit.school.name}_{visit.visited_on.isoformat()}.pdf"
    return pdf.pdf_response(html, name)
