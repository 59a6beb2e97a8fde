"""The 教研员's sync API (under ``/api/v1``, same rules as the visit API).

Records and photos carry UUIDs made on the phone and every write a write
UUID, so replaying a request returns the same answer without a second
effect. Requests commit once, here at the edge.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from flask_login import current_user

from ..apidoc import operation
from ..auth.policy import roles_required
from ..conditional import json_with_etag
from ..errors import AppError
from ..extensions import csrf, db
from ..visits.api import IF_NONE_MATCH, _check_uuid, check_csrf_header, committed, load
from .bundle import researcher_bundle
from .models import ActivityPhoto
from .operations import activity_as_dict, activity_for_researcher, receipt, save_activity
from .photos import activity_photo_as_dict, delete_activity_photo, store_activity_photo
from .schemas import (
    ActivityPhotoAttachSchema,
    ActivityPhotoMetaSchema,
    ActivityPhotoResponseSchema,
    ActivityReceiptOnlySchema,
    ActivityResponseSchema,
    ActivityShowSchema,
    ActivityWriteSchema,
    ResearcherBundleSchema,
)

bp = Blueprint("lessons_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # the CSRF token comes in the X-CSRFToken header, checked below
bp.before_request(check_csrf_header)


@bp.route("/researcher/bundle")
@operation({200: ResearcherBundleSchema}, headers=IF_NONE_MATCH, not_modified=True)
@roles_required("researcher")
def bundle() -> Response:
    """Everything the phone needs to log activities offline and show the 教研员's progress."""
    if current_user.county_id is None:
        raise AppError(403, "no_county", "您的账号未归属县区。")
    return json_with_etag(researcher_bundle(current_user))


def activity_put_entry(activity_id: str, payload: Any) -> tuple[dict[str, Any], int]:
    """PUT /activities/<id> as one write (also an ``activity_put`` entry of a sync batch): body and status."""
    _check_uuid(activity_id)
    data = load(ActivityWriteSchema(), payload)
    activity, decision, created = save_activity(current_user, activity_id.lower(), data)
    body = {
        "activity": activity_as_dict(activity),
        "write": {"id": data["write_id"], "decision": decision},
        "receipt": receipt(activity),
    }
    return body, 201 if created else 200


@bp.route("/activities/<activity_id>", methods=["PUT"])
@operation(
    {200: ActivityResponseSchema, 201: ActivityResponseSchema}, (404, 409, 413, 422, 503), body=ActivityWriteSchema
)
@roles_required("researcher")
def put_activity(activity_id: str) -> tuple[Response, int]:
    """Create or edit a record by the phone's UUID; each write (its own UUID) applies once."""
    payload = request.get_json(silent=True)
    body, status = committed(lambda: activity_put_entry(activity_id, payload))
    return jsonify(body), status


@bp.route("/activities/<activity_id>")
@operation({200: ActivityShowSchema}, (404,))
@roles_required("researcher")
def get_activity(activity_id: str) -> Response:
    """A record as the server holds it, with its receipt."""
    activity = activity_for_researcher(current_user, activity_id.lower())
    return jsonify({"activity": activity_as_dict(activity), "receipt": receipt(activity)})


@bp.route("/activities/<activity_id>/photos/<photo_id>", methods=["PUT"])
@operation(
    {200: ActivityPhotoResponseSchema, 201: ActivityPhotoResponseSchema},
    (404, 409, 413, 422, 503),
    form=ActivityPhotoMetaSchema,
    files=("file",),
    body=ActivityPhotoAttachSchema,
)
@roles_required("researcher")
def put_activity_photo(activity_id: str, photo_id: str) -> tuple[Response, int]:
    """Upload one photo of a record (multipart ``file`` plus metadata); idempotent by UUID and SHA-256."""
    from ..visits.uploads import photo_from_request

    _check_uuid(photo_id)
    meta, read, done = photo_from_request(ActivityPhotoMetaSchema(), ActivityPhotoAttachSchema())

    def action() -> tuple[dict[str, Any], bool]:
        activity = activity_for_researcher(current_user, activity_id.lower(), lock=True)
        data = b"" if db.session.get(ActivityPhoto, photo_id.lower()) is not None else read()
        photo, created = store_activity_photo(current_user, activity, photo_id.lower(), data, meta)
        return {"photo": activity_photo_as_dict(photo), "receipt": receipt(activity)}, created

    body, created = committed(action)
    done()
    return jsonify(body), 201 if created else 200


@bp.route("/activities/<activity_id>/photos/<photo_id>", methods=["DELETE"])
@operation({200: ActivityReceiptOnlySchema}, (404, 409, 422, 503))
@roles_required("researcher")
def delete_activity_photo_view(activity_id: str, photo_id: str) -> Response:
    """Remove a photo of a record (idempotent; refused once the term has ended)."""
    _check_uuid(photo_id)

    def action() -> dict[str, Any]:
        activity = activity_for_researcher(current_user, activity_id.lower(), lock=True)
        delete_activity_photo(activity, photo_id.lower())
        return {"receipt": receipt(activity)}

    return jsonify(committed(action))
