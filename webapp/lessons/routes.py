"""Pages: the 教研员's own progress and records; the bureau's table of every 教研员,
drill-down, exports and teacher coverage."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from checklists.vocabulary import ACTIVITY_KINDS, SUBJECTS

from ..auth.models import User
from ..auth.policy import roles_required
from ..bureau.access import county_for, int_arg
from ..core.models import County, School, Term
from ..extensions import db
from ..templating import render_htmx
from .exports import ledger_sheet, summary_sheet, table_response
from .models import Activity, ActivityWrite, ResearcherProfile
from .operations import is_locked, rubric_for
from .progress import QuotaContext, quota_context, researchers_of, school_progress, standings_for, teacher_coverage
from .views import bureau_rows, photo_urls, records_of, sort_rows

bp = Blueprint("lessons", __name__, url_prefix="/lessons", template_folder="templates")
BUREAU = ("reviewer", "admin")


def _term(county: County) -> Term | None:
    """The term asked for (?term_id=, of this county), else the current one."""
    term_id = int_arg(request.args, "term_id")
    if term_id is None:
        return None
    term = db.session.get(Term, term_id)
    if term is None or term.county_id != county.id:
        abort(404)
    return term


def _researcher_page(user: User, context: QuotaContext, *, is_own: bool) -> Response:
    kind = request.args.get("kind", "")
    standings = standings_for(context, [user.id])[user.id]
    schools = school_progress(context, user)
    assigned = [row.school.id for row in schools if row.is_assigned]
    coverage = [
        (rule, window, teacher_coverage(context, rule, window, assigned)) for rule, window in context.teacher_rules
    ]
    profile = db.session.get(ResearcherProfile, user.id)
    return render_htmx(
        "lessons/researcher.html",
        "lessons/_records.html",
        researcher=user,
        subject=profile.subject if profile else "",
        context=context,
        standings=standings,
        schools=schools,
        coverage=coverage,
        records=records_of(context, user, kind if kind in ACTIVITY_KINDS else ""),
        kind=kind,
        kinds=ACTIVITY_KINDS,
        subjects=SUBJECTS,
        is_own=is_own,
    )


@bp.route("/")
@roles_required("researcher")
def mine() -> Response:
    """The 教研员's own progress against the term's quotas and their records."""
    county = current_user.county
    if county is None:
        abort(403)
    return _researcher_page(current_user, quota_context(county, _term(county)), is_own=True)


@bp.route("/records/<activity_id>")
@login_required
def record(activity_id: str) -> str:
    """One record with its photos and every write received (the history)."""
    activity = db.session.get(Activity, activity_id[:36])
    if activity is None or not _may_see(activity):
        abort(404)
    history = db.session.scalars(
        select(ActivityWrite).where(ActivityWrite.activity_id == activity.id).order_by(ActivityWrite.received_at)
    ).all()
    return render_template(
        "lessons/record.html",
        activity=activity,
        history=history,
        photos=photo_urls(activity),
        rubric=rubric_for(activity.researcher.county) if activity.researcher.county else (),
        is_locked=is_locked(activity),
    )


def _may_see(activity: Activity) -> bool:
    if current_user.role == "admin":
        return True
    if current_user.role == "reviewer":
        return activity.county_id == current_user.county_id
    return current_user.role == "researcher" and activity.researcher_id == current_user.id


def _filters(county: County) -> dict[str, Any]:
    group = request.args.get("group", "")
    subject = request.args.get("subject", "")
    groups = sorted(
        g for g in db.session.scalars(select(School.group_name).where(School.county_id == county.id).distinct()) if g
    )
    return {
        "group": group if group in groups else "",
        "subject": subject if subject in SUBJECTS else "",
        "sort": request.args.get("sort", "shortfall"),
        "groups": groups,
    }


def _link_args(filters: dict[str, Any]) -> dict[str, Any]:
    """The table's state for its links and exports: only this page's own arguments, so a stray one in the URL
    (``?kind=``, ``?_method=``) is neither passed on nor able to clash with ``url_for``'s own arguments."""
    args = {name: filters[name] for name in ("group", "subject", "sort") if filters[name]}
    county_id = int_arg(request.args, "county_id")
    return args | ({"county_id": county_id} if county_id is not None else {})


@bp.route("/bureau")
@roles_required(*BUREAU)
def bureau() -> Response:
    """Every 教研员 of the county for a term: standing per quota, sortable by shortfall."""
    county = county_for(current_user, int_arg(request.args, "county_id"))
    context = quota_context(county, _term(county))
    filters = _filters(county)
    researchers = researchers_of(county.id, filters["group"], filters["subject"])
    rows = sort_rows(bureau_rows(context, researchers), filters["sort"])
    return render_htmx(
        "lessons/bureau.html",
        "lessons/_bureau_table.html",
        county=county,
        context=context,
        rows=rows,
        filters=filters,
        args=_link_args(filters),
        subjects=SUBJECTS,
        counties=[county] if current_user.role != "admin" else db.session.scalars(select(County)).all(),
    )


def _bureau_researcher(user_id: int) -> User:
    user = db.session.get(User, user_id) if 0 < user_id < 2**31 else None
    if user is None or user.role != "researcher":
        abort(404)
    if current_user.role != "admin" and user.county_id != current_user.county_id:
        abort(404)
    return user


@bp.route("/bureau/researchers/<int:user_id>")
@roles_required(*BUREAU)
def researcher(user_id: int) -> Response:
    """One 教研员's standing, schools and records for the term (the drill-down)."""
    user = _bureau_researcher(user_id)
    county = db.session.get(County, user.county_id)
    assert county is not None
    return _researcher_page(user, quota_context(county, _term(county)), is_own=False)


@bp.route("/bureau/researchers/<int:user_id>/profile", methods=["POST"])
@roles_required(*BUREAU)
def profile(user_id: int) -> Response:
    """Set a 教研员's subject (what the bureau table filters by)."""
    user = _bureau_researcher(user_id)
    subject = request.form.get("subject", "")
    if subject not in SUBJECTS and subject != "":
        return Response(render_template("error.html", status=422, message="学科无效。", fields={}), status=422)
    row = db.session.get(ResearcherProfile, user.id) or ResearcherProfile(user_id=user.id)
    row.subject = subject
    db.session.add(row)
    db.session.commit()
    return redirect(url_for("lessons.researcher", user_id=user.id, term_id=request.form.get("term_id") or None))


@bp.route("/bureau/coverage")
@roles_required(*BUREAU)
def coverage() -> str:
    """Teacher coverage where the pack sets it (西吉: every teacher observed within three years)."""
    county = county_for(current_user, int_arg(request.args, "county_id"))
    context = quota_context(county, _term(county))
    sections = [(rule, window, teacher_coverage(context, rule, window)) for rule, window in context.teacher_rules]
    return render_template("lessons/coverage.html", county=county, context=context, sections=sections)


@bp.route("/bureau/export/<kind>.<fmt>")
@roles_required(*BUREAU)
def export(kind: str, fmt: str) -> Response:
    """The ledger (one row per record) or the summary (one row per 教研员 per quota), CSV or XLSX."""
    if kind not in ("ledger", "summary") or fmt not in ("csv", "xlsx"):
        abort(404)
    county = county_for(current_user, int_arg(request.args, "county_id"))
    context = quota_context(county, _term(county))
    filters = _filters(county)
    researchers = researchers_of(county.id, filters["group"], filters["subject"])
    term_name = context.term.name if context.term else "无学期"
    if kind == "ledger":
        name = f"{county.name}教研员活动台账_{term_name}"
        return table_response(ledger_sheet(context, [u.id for u, _ in researchers]), name, fmt)
    standings = standings_for(context, [u.id for u, _ in researchers])
    name = f"{county.name}教研员完成情况汇总_{term_name}"
    return table_response(summary_sheet(context, researchers, standings), name, fmt)
