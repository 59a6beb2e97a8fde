"""The bureau edits a school's traits and its county's settings (what checklists depend on)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import ValidationError

from checklists.vocabulary import SCHOOL_TRAITS

from ..auth.policy import roles_required, school_or_403
from ..bureau.audit import operations as audit
from ..extensions import db
from ..packs.operations import county_settings, pack_or_none
from .models import County
from .schemas import SchoolTraitsSchema, load_county_settings

bp = Blueprint("profiles", __name__, template_folder="templates")


def _flat(messages: Any) -> list[str]:
    """Marshmallow's nested messages (per list index) as one list of texts."""
    if isinstance(messages, dict):
        return [m for value in messages.values() for m in _flat(value)]
    if isinstance(messages, list):
        return [m for value in messages for m in _flat(value)]
    return [str(messages)]


@bp.route("/schools/<int:school_id>/traits", methods=["GET", "POST"])
@roles_required("admin", "reviewer")
def school_traits(school_id: int) -> Any:
    """Tick a school's traits (集团核心校, 有校车 …); its next checklists follow them."""
    school = school_or_403(school_id)
    errors: list[str] = []
    chosen = sorted(school.trait_set)
    if request.method == "POST":
        chosen = request.form.getlist("traits")
        try:
            data = SchoolTraitsSchema().load({"traits": chosen})
        except ValidationError as exc:
            errors = _flat(exc.normalized_messages())
        else:
            old = sorted(school.trait_set)
            school.set_traits(data["traits"])
            # What a school is held to follows its traits: who changed them, and from what, is kept.
            audit.record(
                "school",
                school.id,
                ("school", school.id),
                "traits",
                {"traits": old},
                {"traits": sorted(school.trait_set)},
            )
            db.session.commit()
            return redirect(url_for("core.school", school_id=school.id, saved="traits"))
    page = render_template("core/school_traits.html", school=school, traits=SCHOOL_TRAITS, chosen=chosen, errors=errors)
    return page, (422 if errors else 200)


def _county_or_404(county_id: int) -> County:
    county = db.session.get(County, county_id) if 0 < county_id < 2**31 else None
    if county is None:
        abort(404)
    if current_user.role != "admin" and county.id != current_user.county_id:
        abort(403)
    return county


@bp.route("/counties/<int:county_id>/settings", methods=["GET", "POST"])
@roles_required("admin", "reviewer")
def county_settings_form(county_id: int) -> Any:
    """Set the values the county's pack asks for (验收年份, 轮训起始日 …)."""
    county = _county_or_404(county_id)
    pack = pack_or_none(county.policy_set)
    declared = list(pack.county_settings) if pack else []
    errors: dict[str, Any] = {}
    shown: dict[str, Any] = {k: "" if v is None else str(v) for k, v in (county.settings or {}).items()}
    if request.method == "POST":
        shown = {s.key: request.form.get(s.key, "").strip() for s in declared}
        try:
            values = load_county_settings(declared, request.form)
        except ValidationError as exc:
            errors = exc.normalized_messages()
        else:
            # Keys the pack no longer declares are kept: another pack may use them again.
            kept = {k: v for k, v in (county.settings or {}).items() if k not in {s.key for s in declared}}
            old = dict(county.settings or {})
            county.settings = {**kept, **values}
            audit.record("county", county.id, ("county", county.id), "settings", old, dict(county.settings))
            db.session.commit()
            return redirect(url_for("profiles.county_settings_form", county_id=county.id, saved=1))
    return render_template(
        "core/county_settings.html",
        county=county,
        pack=pack,
        declared=declared,
        shown=shown,
        effective=county_settings(county),
        errors=errors,
        saved=request.args.get("saved") == "1",
    ), (422 if errors else 200)
