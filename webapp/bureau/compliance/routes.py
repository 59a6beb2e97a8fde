"""Compliance across schools: the matrix, a cell's evidence, and concepts compared across counties."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user
from sqlalchemy import select

from checklists.vocabulary import CHECKLISTS

from ...auth.policy import roles_required
from ...core.models import School
from ...extensions import db
from ...packs.operations import packs
from ...templating import render_htmx
from ...visits.models import ItemResult, Photo, Visit
from .. import TEMPLATES
from ..access import BUREAU_ROLES, counties_for, county_for, int_arg, term_for, terms_of
from ..formatting import outcome_label, outcome_symbol, threshold_text, value_text
from ..rectification.models import RectificationTask
from ..review.evidence import photo_views
from .compare import compare_concepts
from .matrix import COUNTED_STATES, build_matrix, section_ids, visit_items

bp = Blueprint("compliance", __name__, url_prefix="/bureau", template_folder=TEMPLATES)
DEFAULT_CHECKLIST = "campus_safety"


def _checklist_arg(pack_id: str) -> str:
    pack = packs()[pack_id]
    wanted = request.args.get("checklist") or DEFAULT_CHECKLIST
    ids = [c.id for c in pack.checklists if visit_items(pack, c.id)]
    if wanted not in ids:
        if request.args.get("checklist"):
            abort(404)
        wanted = ids[0] if ids else DEFAULT_CHECKLIST
    return wanted


def _checklists(pack_id: str) -> list[tuple[str, str]]:
    pack = packs()[pack_id]
    return [(c.id, c.title or CHECKLISTS.get(c.id, c.id)) for c in pack.checklists if visit_items(pack, c.id)]


@bp.route("/matrix")
@roles_required(*BUREAU_ROLES)
def matrix() -> Response:
    """Schools × items for a term and a checklist, with totals both ways."""
    county = county_for(current_user, int_arg(request.args, "county"))
    term = term_for(county, int_arg(request.args, "term"))
    checklist = _checklist_arg(county.policy_set)
    built = build_matrix(county, term, checklist) if term else None
    focus = request.args.get("item", "")
    return render_htmx(
        "bureau/matrix.html",
        "bureau/_matrix.html",
        county=county,
        counties=counties_for(current_user) if current_user.role == "admin" else [],
        term=term,
        terms=terms_of(county),
        checklist=checklist,
        checklists=_checklists(county.policy_set),
        matrix=built,
        focus=focus,
        pack=packs()[county.policy_set],
        binding_only=request.args.get("binding") == "1",
        only_failing=request.args.get("failing") == "1",
        page_number=int_arg(request.args, "page") or 1,
    )


@bp.route("/matrix/cell")
@roles_required(*BUREAU_ROLES)
def cell() -> Response:
    """The evidence behind one cell: every counted result of the term for the school and item, with photos."""
    county = county_for(current_user, int_arg(request.args, "county"))
    term = term_for(county, int_arg(request.args, "term"))
    school_id = int_arg(request.args, "school")
    school = db.session.get(School, school_id) if school_id else None
    item_id = request.args.get("item", "")[:96]
    pack = packs()[county.policy_set]
    item = next((i for i in pack.items if i.id == item_id), None)
    if school is None or school.county_id != county.id or item is None or term is None:
        abort(404)
    rows = db.session.execute(
        select(ItemResult, Visit)
        .join(Visit, Visit.id == ItemResult.visit_id)
        .where(
            Visit.school_id == school.id,
            ItemResult.item_id.in_(section_ids(item_id)),
            Visit.state.in_(COUNTED_STATES),
            Visit.visited_on.between(term.starts_on, term.ends_on),
        )
        .order_by(Visit.visited_on.desc(), ItemResult.edited_at.desc())
    ).all()
    evidence = [_result_evidence(result, visit, result.item_id) for result, visit in rows]
    tasks = db.session.scalars(
        select(RectificationTask)
        .where(RectificationTask.school_id == school.id, RectificationTask.item_id.in_(section_ids(item_id)))
        .order_by(RectificationTask.id.desc())
    ).all()
    return render_htmx(
        "bureau/cell.html",
        "bureau/_cell.html",
        county=county,
        term=term,
        school=school,
        item=item,
        evidence=evidence,
        tasks=tasks,
    )


def _result_evidence(result: ItemResult, visit: Visit, item_id: str) -> dict[str, Any]:
    content_items = {i["id"]: i for s in visit.checklist_version.content["sections"] for i in s["items"]}
    content_item = content_items.get(item_id, {})
    check = content_item.get("check", {})
    photos = db.session.scalars(
        select(Photo).where(Photo.visit_id == visit.id, Photo.item_id == item_id, Photo.deleted_at.is_(None))
    ).all()
    code = result.outcome or "recorded"
    return {
        "result": result,
        "visit": visit,
        "value": value_text(check, result.value),
        "threshold": threshold_text(check),
        "label": outcome_label(code),
        "symbol": outcome_symbol(code),
        "outcome": code,
        "section_label": content_item.get("section_label", ""),
        "photos": photo_views(visit, list(photos)),
    }


@bp.route("/compare")
@roles_required("admin")
def compare() -> str:
    """Items sharing a concept key, compared across counties (each county's current term)."""
    checklist = request.args.get("checklist") or DEFAULT_CHECKLIST
    if checklist not in CHECKLISTS:
        abort(404)
    counties = counties_for(current_user)
    table = compare_concepts(counties, checklist)
    drafts = {c.id: getattr(packs().get(c.policy_set), "status", "") == "draft" for c in counties}
    return render_template(
        "bureau/compare.html", checklist=checklist, checklists=CHECKLISTS, counties=counties, table=table, drafts=drafts
    )
