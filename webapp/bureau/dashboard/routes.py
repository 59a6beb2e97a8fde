"""The 督导室 home's figures as JSON, for the charts (the page prints the same data as tables)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, request
from flask_login import current_user, login_required

from ...auth.policy import roles_required, school_or_403
from ..access import BUREAU_ROLES, county_for, int_arg, term_for
from . import figures

bp = Blueprint("dashboard", __name__, url_prefix="/bureau/dashboard")


@bp.route("/<kind>.json")
@roles_required(*BUREAU_ROLES)
def figure(kind: str) -> Response:
    """One figure of the county's term: ``coverage``, ``checklists``, ``items``, ``rectification``, ``quotas``."""
    if kind not in figures.KINDS:
        abort(404)
    county = county_for(current_user, int_arg(request.args, "county"))
    term = term_for(county, int_arg(request.args, "term"))
    if term is None:
        abort(404)
    body = figures.figure(kind, county, term) | {"county": county.name, "term": term.name}
    response = jsonify(body)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/school/<int:school_id>.json")
@login_required
def school(school_id: int) -> Response:
    """A school's results over the terms (anyone who may open the school)."""
    response = jsonify(figures.school_terms(school_or_403(school_id)))
    response.headers["Cache-Control"] = "private, no-cache"
    return response
