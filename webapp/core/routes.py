"""Home page and schools."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request, send_from_directory
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select

from checklists.generator import item_count
from checklists.vocabulary import LOCATIONS, STAGES

from ..auth.models import User
from ..auth.policy import school_or_403, visible_schools
from ..bureau.dashboard.figures import school_terms
from ..extensions import db
from ..packs.operations import checklist_for_school, pack_or_none
from ..tables import like, one_page, page_from, search_from, sort_from, url_state
from ..templating import render_htmx
from ..timeutil import today_in_china
from .models import Assignment, County, School

bp = Blueprint("core", __name__, template_folder="templates")


@bp.route("/favicon.ico")
def favicon() -> Response:
    """The site icon browsers ask for on every page (public, cached for a week)."""
    folder = current_app.static_folder or ""
    return send_from_directory(folder, "icons/favicon.ico", mimetype="image/x-icon", max_age=7 * 24 * 3600)


@bp.route("/")
@login_required
def home() -> str:
    """Each role's start page: its schools, or its county's figures."""
    schools = db.session.scalars(visible_schools(current_user).limit(200)).all()
    counties = []
    if current_user.role in ("admin", "reviewer"):
        query = select(County).order_by(County.id)
        if current_user.role == "reviewer":
            query = query.where(County.id == current_user.county_id)
        counties = db.session.scalars(query).all()
    school_counts = dict(db.session.execute(select(School.county_id, func.count()).group_by(School.county_id)).all())
    user_counts = dict(db.session.execute(select(User.county_id, func.count()).group_by(User.county_id)).all())
    return render_template(
        "core/home.html",
        schools=schools,
        counties=counties,
        school_counts=school_counts,
        user_counts=user_counts,
        pack_or_none=pack_or_none,
    )


#: Sortable columns of the schools table.
SCHOOL_SORTS = {
    "code": School.code,
    "name": School.name,
    "stage": School.stage,
    "location": School.location,
    "enrolment": School.enrolment,
    "classes": School.class_count,
    "group": School.group_name,
}
SCHOOLS_PER_PAGE = 50


@bp.route("/schools")
@login_required
def schools() -> Response:
    """The schools the current user may open: a sortable, searchable table (cards on a phone)."""
    sort = sort_from(request.args, tuple(SCHOOL_SORTS), "code")
    q = search_from(request.args)
    stage = request.args.get("stage", "")
    location = request.args.get("location", "")
    query = visible_schools(current_user)
    if q:
        pattern = like(q)
        query = query.where(
            or_(
                School.name.like(pattern, escape="\\"),
                School.code.like(pattern, escape="\\"),
                School.group_name.like(pattern, escape="\\"),
            )
        )
    if stage in STAGES:
        query = query.where(School.stage == stage)
    if location in LOCATIONS:
        query = query.where(School.location == location)
    total = db.session.scalar(query.with_only_columns(func.count()).order_by(None)) or 0
    column = SCHOOL_SORTS[sort.key]
    page = page_from(request.args)
    ordered = query.order_by(None).order_by(column.desc() if sort.descending else column.asc(), School.id)
    fetched = db.session.scalars(ordered.offset((page - 1) * SCHOOLS_PER_PAGE).limit(SCHOOLS_PER_PAGE + 1)).all()
    rows, has_next = one_page(list(fetched), SCHOOLS_PER_PAGE)
    return render_htmx(
        "core/schools.html",
        "core/_schools_table.html",
        schools=rows,
        has_next=has_next,
        page_number=page,
        total=total,
        sort=sort,
        q=q,
        stage=stage,
        location=location,
        args=url_state(sort, "code", q=q, stage=stage, location=location),
    )


@bp.route("/schools/<int:school_id>")
@login_required
def school(school_id: int) -> str:
    """A school's profile, who is assigned to it, and its current visit checklist."""
    school = school_or_403(school_id)
    snapshot = checklist_for_school(school)
    assignments = db.session.scalars(
        select(Assignment).where(Assignment.school_id == school.id).order_by(Assignment.kind, Assignment.starts_on)
    ).all()
    return render_template(
        "core/school.html",
        school=school,
        snapshot=snapshot,
        item_total=item_count(snapshot),
        assignments=assignments,
        pack=pack_or_none(school.county.policy_set),
        today=today_in_china(),
        results=school_terms(school),
    )
