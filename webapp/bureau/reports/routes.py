"""Exports (XLSX 台账) and the county's printable term summary."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user

from ...auth.policy import roles_required
from ...packs.operations import pack_or_none
from ...spreadsheets import download
from ...templating import show_date
from ...timeutil import today_in_china
from .. import TEMPLATES
from ..access import BUREAU_ROLES, counties_for, county_for, int_arg, term_for, terms_of
from ..compliance import quotas
from ..compliance.summary import group_lines
from ..compliance.summary import term_summary as summary_of
from ..rectification import ledger
from ..review import listing
from . import sheets

bp = Blueprint("exports", __name__, url_prefix="/bureau", template_folder=TEMPLATES)
KINDS = {"visits": "督导记录", "results": "检查结果", "tasks": "整改台账", "schools": "学校汇总"}


@bp.route("/exports/<kind>.xlsx")
@roles_required(*BUREAU_ROLES)
def export(kind: str) -> Response:
    """One of the 台账 workbooks: 督导记录, 检查结果, 整改台账, 学校汇总 (filters as on the pages)."""
    if kind not in KINDS:
        abort(404)
    county = county_for(current_user, int_arg(request.args, "county"))
    term = term_for(county, int_arg(request.args, "term"))
    if kind == "visits":
        sheet = sheets.visits_sheet(listing.filters_from_args(request.args, county))
    elif kind == "results":
        sheet = sheets.results_sheet(county, term)
    elif kind == "tasks":
        state = request.args.get("state", "all")
        filters = ledger.LedgerFilters(
            county_id=county.id,
            state=state if state in ledger.STATE_FILTERS else "all",
            school_id=int_arg(request.args, "school"),
        )
        sheet = sheets.tasks_sheet(ledger.tasks(current_user, filters))
    else:
        if term is None:
            abort(404)
        sheet = sheets.schools_sheet(county, term)
    label = f"{county.name}_{KINDS[kind]}" + (f"_{term.name}" if term and kind != "tasks" else "")
    return download(sheet, label)


@bp.route("/summary")
@roles_required(*BUREAU_ROLES)
def summary() -> str:
    """The county's term summary: visits, compliance per item, rectification, 教研员 quotas; prints on A4."""
    county = county_for(current_user, int_arg(request.args, "county"))
    term = term_for(county, int_arg(request.args, "term"))
    if term is None:
        abort(404)
    return render_template(
        "bureau/summary.html",
        county=county,
        counties=counties_for(current_user) if current_user.role == "admin" else [],
        terms=terms_of(county),
        summary=summary_of(county, term),
        group_lines=group_lines,
        quota=quotas.standing_for(county, term),
        today=today_in_china(),
        today_cn=show_date(today_in_china(), "formal"),
        pack=pack_or_none(county.policy_set),
    )
