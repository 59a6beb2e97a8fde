"""The sync API (``/api/v1``): JSON in, JSON out, one error shape.

Every write is idempotent: visits, item edits and photos carry UUIDs made on
the phone, and replaying a request returns the same answer without a second
effect. Requests commit once, here at the edge.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, jsonify, request
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from marshmallow import Schema, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from wtforms.validators import ValidationError as WTFValidationError

from ..apidoc import operation
from ..auth.policy import roles_required, school_or_403, visible_schools
from ..conditional import json_with_etag, without_server_time
from ..errors import AppError
from ..extensions import csrf, db
from ..timeutil import utcnow
from . import photos as photo_ops
from .bundles import school_bundle, visit_bundle
from .models import Visit
from .operations import (
    iso,
    plan_visit,
    receipt,
    upsert_visit,
    visit_as_dict,
    visit_for_inspector,
)
from .results import apply_result_writes
from .schemas import (
    BundleSchema,
    MeSchema,
    PhotoAttachSchema,
    PhotoMetaSchema,
    PhotoResponseSchema,
    PlannedSchema,
    PlanSchema,
    ReceiptOnlySchema,
    ResultBatchResponseSchema,
    ResultBatchSchema,
    SchoolBundleQuerySchema,
    SchoolBundleSchema,
    VisitListSchema,
    VisitResponseSchema,
    VisitUpsertSchema,
    load_result_batch_fast,
)

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # checked below from the header only: the API never takes the token from a form
T = TypeVar("T")
#: What a bundle GET takes besides its path: the ETag the phone holds (304 if unchanged).
IF_NONE_MATCH = {"If-None-Match": {"required": False, "schema": {"type": "string"}}}


@bp.before_request
def check_csrf_header() -> None:
    """Writes must carry the session's CSRF token in ``X-CSRFToken``."""
    if request.method in ("GET", "HEAD", "OPTIONS") or not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    try:
        validate_csrf(request.headers.get("X-CSRFToken", ""))
    except WTFValidationError as exc:
        raise CSRFError(str(exc)) from exc


def load(schema: Schema, data: Any) -> dict[str, Any]:
    """Validate at the edge; field errors come back flat as ``{"field.path": [msg]}``."""
    if data is None:
        raise AppError(400, "bad_json", "请求内容不是有效的 JSON。")
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise AppError(422, "invalid_payload", "提交的数据有误。", _flatten(exc.messages)) from exc


def _flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        flat[prefix or "_schema"] = messages
    else:
        flat[prefix or "_schema"] = [str(messages)]
    return flat


def _json_body() -> Any:
    return request.get_json(silent=True)


def committed(action: Callable[[], T]) -> T:
    """Run a write and commit; a lost race on a unique key is retried once.

    Two copies of the same request (a phone retrying while the first is still
    running) both pass the "seen before?" check; the second insert then hits
    the primary key. Rerunning it sees the first one's rows and answers as a replay.
    """
    for attempt in (1, 2):
        try:
            value = action()
            db.session.commit()
            return value
        except IntegrityError:
            db.session.rollback()
            if attempt == 2:
                raise AppError(409, "conflict", "数据冲突，请稍后重试。") from None
        except OperationalError as exc:
            db.session.rollback()
            raise AppError(503, "database_unavailable", "服务器暂时无法保存，请稍后重试。", retry_after=30) from exc
    raise AssertionError("unreachable")


@bp.route("/me")
@operation({200: MeSchema})
@login_required
def me() -> Response:
    """Who is signed in, a CSRF token for writes, and the server's clock."""
    return jsonify(
        {
            "user": {
                "id": current_user.id,
                "username": current_user.username,
                "display_name": current_user.display_name,
                "role": current_user.role,
            },
            "csrf_token": generate_csrf(),
            "server_time": iso(utcnow()),
        }
    )


@bp.route("/visits")
@operation({200: VisitListSchema})
@roles_required("inspector")
def list_visits() -> Response:
    """The inspector's visits, newest first, and the schools they may visit."""
    visits = db.session.scalars(
        select(Visit).where(Visit.inspector_id == current_user.id).order_by(Visit.created_at.desc()).limit(200)
    ).all()
    schools = db.session.scalars(visible_schools(current_user)).all()
    return jsonify(
        {
            "visits": [visit_as_dict(v) for v in visits],
            "schools": [{"id": s.id, "name": s.name, "code": s.code} for s in schools],
        }
    )


@bp.route("/visits", methods=["POST"])
@operation({201: PlannedSchema}, (404, 413, 422, 503), body=PlanSchema)
@roles_required("inspector")
def plan() -> tuple[Response, int]:
    """Plan a visit to one of the inspector's schools."""
    data = load(PlanSchema(), _json_body())
    visit = committed(lambda: plan_visit(current_user, data["school_id"], data["planned_on"], data["visit_type"]))
    return jsonify({"visit": visit_as_dict(visit)}), 201


@bp.route("/visits/<visit_id>/bundle")
@operation({200: BundleSchema}, (404,), headers=IF_NONE_MATCH, not_modified=True)
@roles_required("inspector")
def bundle(visit_id: str) -> Response:
    """Everything the phone needs to record the visit offline."""
    visit = visit_for_inspector(current_user, visit_id)
    return json_with_etag(visit_bundle(visit), without_server_time)


@bp.route("/schools/<int:school_id>/bundle")
@operation({200: SchoolBundleSchema}, (404, 422, 503), query=SchoolBundleQuerySchema)
@roles_required("inspector")
def school_bundle_view(school_id: int) -> Response:
    """A school and its current checklist version, for unplanned visits started offline."""
    school = school_or_403(school_id)
    visit_type = load(SchoolBundleQuerySchema(), request.args.to_dict())["visit_type"]
    data = committed(lambda: school_bundle(school, visit_type))
    return jsonify(data)


#: Schemas hold no per-load state: one instance each serves every request (building one, and its nested
#: schemas, cost more than loading a header).
_VISIT_UPSERT = VisitUpsertSchema()
_RESULT_BATCH = ResultBatchSchema()


def visit_put_entry(visit_id: str, payload: Any) -> tuple[dict[str, Any], int]:
    """PUT /visits/<id> as one write (also a ``visit_put`` entry of a sync batch): body and status."""
    _check_uuid(visit_id)
    data = load(_VISIT_UPSERT, payload)
    # The user itself, not the request-local proxy: the operations read it many times.
    visit, created = upsert_visit(current_user._get_current_object(), visit_id, data)
    return {"visit": visit_as_dict(visit), "receipt": receipt(visit)}, 201 if created else 200


def results_post_entry(visit_id: str, payload: Any) -> tuple[dict[str, Any], int]:
    """POST /visits/<id>/results as one write (also a ``results_post`` entry of a sync batch)."""
    data = load_result_batch_fast(payload) or load(_RESULT_BATCH, payload)
    user = current_user._get_current_object()  # read once per write below: not through the proxy
    visit = visit_for_inspector(user, visit_id, lock=True)
    decisions = apply_result_writes(user, visit, data["writes"])
    return {"writes": decisions, "receipt": receipt(visit)}, 200


@bp.route("/visits/<visit_id>", methods=["PUT"])
@operation({200: VisitResponseSchema, 201: VisitResponseSchema}, (404, 409, 413, 422, 503), body=VisitUpsertSchema)
@roles_required("inspector")
def put_visit(visit_id: str) -> tuple[Response, int]:
    """Create or update a visit by the phone's UUID (idempotent)."""
    payload = _json_body()
    # The answer is built before the commit, so nothing is read back after it.
    body, status = committed(lambda: visit_put_entry(visit_id, payload))
    return jsonify(body), status


@bp.route("/visits/<visit_id>/results", methods=["POST"])
@operation({200: ResultBatchResponseSchema}, (404, 409, 413, 422, 503), body=ResultBatchSchema)
@roles_required("inspector")
def post_results(visit_id: str) -> tuple[Response, int]:
    """Apply a batch of item edits, each exactly once."""
    payload = _json_body()
    body, status = committed(lambda: results_post_entry(visit_id, payload))
    return jsonify(body), status


@bp.route("/visits/<visit_id>/photos/<photo_id>", methods=["PUT"])
@operation(
    {200: PhotoResponseSchema, 201: PhotoResponseSchema},
    (404, 409, 413, 422, 503),
    form=PhotoMetaSchema,
    files=("file",),
    body=PhotoAttachSchema,
)
@roles_required("inspector")
def put_photo(visit_id: str, photo_id: str) -> tuple[Response, int]:
    """Upload one photo (multipart: ``file`` plus metadata fields); idempotent by UUID and SHA-256."""
    from .uploads import photo_from_request

    _check_uuid(photo_id)
    meta, read, done = photo_from_request(PhotoMetaSchema(), PhotoAttachSchema())

    def action() -> tuple[dict[str, Any], bool]:
        visit = visit_for_inspector(current_user, visit_id, lock=True)
        # A replay of a stored photo needs no bytes (a finished upload is gone by then): read only if new.
        photo, created = photo_ops.store_photo(current_user, visit, photo_id, read, meta)
        return {"photo": photo_ops.photo_as_dict(photo), "receipt": receipt(visit)}, created

    body, created = committed(action)
    done()
    return jsonify(body), 201 if created else 200


@bp.route("/visits/<visit_id>/photos/<photo_id>", methods=["DELETE"])
@operation({200: ReceiptOnlySchema}, (404, 409, 422, 503))
@roles_required("inspector")
def delete_photo(visit_id: str, photo_id: str) -> Response:
    """Remove a photo before the visit is submitted (idempotent)."""
    _check_uuid(photo_id)

    def action() -> dict[str, Any]:
        visit = visit_for_inspector(current_user, visit_id, lock=True)
        photo_ops.delete_photo(visit, photo_id)
        return receipt(visit)

    return jsonify({"receipt": committed(action)})


@bp.route("/visits/<visit_id>/receipt")
@operation({200: ReceiptOnlySchema}, (404,))
@roles_required("inspector")
def get_receipt(visit_id: str) -> Response:
    """What the server holds for the visit."""
    return jsonify({"receipt": receipt(visit_for_inspector(current_user, visit_id))})


def _check_uuid(value: str) -> None:
    try:
        uuid.UUID(value)
    except ValueError:
        raise AppError(422, "invalid_id", "编号必须是 UUID。", {"id": ["必须是 UUID。"]}) from None
