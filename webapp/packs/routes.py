"""Browse policy packs: items by checklist with their sources and thresholds."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, jsonify, render_template, request
from flask_login import login_required
from marshmallow import ValidationError

from checklists import Pack
from checklists.export import pack_items, xlsform_workbook
from checklists.generator import Context, SchoolProfile, compose, item_as_dict, item_count

from ..errors import AppError
from ..templating import render_htmx
from ..timeutil import today_in_china
from .operations import packs
from .schemas import ComposeSchema

bp = Blueprint("packs", __name__, url_prefix="/packs", template_folder="templates")


def _pack(pack_id: str) -> Pack:
    pack = packs().get(pack_id)
    if pack is None:
        abort(404)
    return pack


def _composition(pack: Pack) -> dict[str, Any]:
    raw: dict[str, Any] = request.args.to_dict()
    raw["traits"] = request.args.getlist("traits")
    try:
        args = ComposeSchema().load(raw)
    except ValidationError as exc:
        raise AppError(422, "invalid_profile", "学校类型参数有误。", exc.messages) from exc
    traits = frozenset(args["traits"]) | ({"boarding"} if args["boarding"] else frozenset())
    args["boarding"] = "boarding" in traits
    profile = SchoolProfile(stage=args["stage"], location=args["location"], traits=traits, is_boarding=args["boarding"])
    # No county here: settings take the pack's defaults (a date relative to an unset year stays unresolved).
    snapshot = compose(pack, profile, args["visit_type"], settings=_defaults(pack), on=today_in_china())
    return {"args": args, "snapshot": snapshot}


def _defaults(pack: Pack) -> dict[str, Any]:
    return {s.key: s.default for s in pack.county_settings}


def _item_context(pack: Pack) -> dict[str, Any]:
    """What the item template needs besides the item: today (for due states)."""
    return {"today": today_in_china()}


@bp.route("/")
@login_required
def index() -> str:
    """All policy packs with their documents and item counts."""
    return render_template("packs/index.html", packs=sorted(packs().values(), key=lambda p: p.id))


@bp.route("/<pack_id>")
@login_required
def show(pack_id: str) -> Response:
    """One pack's items, optionally only one checklist (an htmx fragment)."""
    pack = _pack(pack_id)
    wanted = request.args.get("checklist", "")
    # Statuses and due dates as of today, with the pack's default settings (no county here).
    context = Context.of(pack, today_in_china(), _defaults(pack))
    sections = [
        {"id": cl.id, "title": cl.title, "items": [item_as_dict(item, context=context) for item in cl.items]}
        for cl in pack.checklists
        if not wanted or cl.id == wanted
    ]
    return render_htmx(
        "packs/show.html", "packs/_items.html", pack=pack, sections=sections, wanted=wanted, **_item_context(pack)
    )


@bp.route("/<pack_id>/compose")
@login_required
def compose_view(pack_id: str) -> Response:
    """The visit checklist the pack yields for a school profile, with its version."""
    pack = _pack(pack_id)
    result = _composition(pack)
    return render_htmx(
        "packs/compose.html",
        "packs/_composed.html",
        pack=pack,
        total=item_count(result["snapshot"]),
        **result,
        **_item_context(pack),
    )


@bp.route("/<pack_id>/items.json")
@login_required
def items_json(pack_id: str) -> Response:
    """The pack's items as JSON (same shape as the CLI export)."""
    return jsonify(pack_items(_pack(pack_id)))


@bp.route("/<pack_id>/xlsform.xlsx")
@login_required
def xlsform(pack_id: str) -> Response:
    """An XLSForm of the composed checklist, for ODK Collect / KoboToolbox."""
    pack = _pack(pack_id)
    snapshot = _composition(pack)["snapshot"]
    name = f"dudao_{pack.id}_{snapshot['visit_type']['id']}_{snapshot['version'][:8]}.xlsx"
    return Response(
        xlsform_workbook(snapshot),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
