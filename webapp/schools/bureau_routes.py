"""The bureau's page on the schools' side of rectification and self-report."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user
from sqlalchemy import select

from ..auth.policy import roles_required
from ..bureau.access import BUREAU_ROLES, counties_for, county_for, int_arg, term_for
from ..core.models import School
from ..extensions import db
from ..timeutil import today_in_china
from . import school_side
from .selfreport import completion

bp = Blueprint("school_side", __name__, url_prefix="/bureau/school-side", template_folder="templates")


@bp.route("/")
@roles_required(*BUREAU_ROLES)
def index() -> str:
    """Response time per task, schools overdue without progress, self-report completion per school."""
    county = county_for(current_user, int_arg(request.args, "county"))
    term = term_for(county, int_arg(request.args, "term"))
    today = today_in_china()
    responses = school_side.task_responses(county)
    schools = list(db.session.scalars(select(School).where(School.county_id == county.id).order_by(School.code)))
    return render_template(
        "schools/school_side.html",
        county=county,
        counties=counties_for(current_user) if current_user.role == "admin" else [],
        term=term,
        today=today,
        responses=responses,
        median=school_side.median_days(responses),
        silent=school_side.silent_schools(responses, today),
        board=completion(schools, term) if term else [],
    )
