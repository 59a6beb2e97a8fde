"""Browse policy packs: items by checklist with their sources and thresholds."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, jsonify, render_template, request
from flask_login import login_required
from marshmallow import ValidationError

from checklists import Pack
from checklists.export import pack_items, xlsform_workbook
from checklists.generator import SchoolProfile, compose, item_as_dict, item_count

from ..errors import AppError
from ..templating import render_htmx
from .operations import packs
from .schemas import ComposeSchema

bp = Blueprint("packs", __name__, url_prefix="/packs", template_folder="templates")


def _pack(pack_id: str) -> Pack:
    pack = packs().get(pack_id)
    if pack is None:
        abort(404)
    return pack


def _composition(pack: Pack) -> dict[str, Any]:
    try:
        args = ComposeSchema().load(request.args.to_dict())
    except ValidationError as exc:
        raise AppError(422, "invalid_profile", "学校类型参数有误。", exc.messages) from exc
    profile = SchoolProfile(stage=args["stage"], location=args["location"], is_boarding=args["boarding"])
    return {"args": args, "snapshot": compose(pack, profile, args["visit_type"])}


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
    sections = [
        {"id": cl.id, "title": cl.title, "items": [item_as_dict(item) for item in cl.items]}
        for cl in pack.checklists
        if not wanted or cl.id == wanted
    ]
    return render_htmx("packs/show.html", "packs/_items.html", pack=pack, sections=sections, wanted=wanted)


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
