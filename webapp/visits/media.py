"""Serve photos from local-disk storage through short-lived signed URLs.

With S3-compatible storage the browser fetches presigned URLs from the
bucket directly and this route is not used.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, request

from sync.storage import LocalStorage, ObjectNotFound, StorageError

from .photos import storage

bp = Blueprint("media", __name__)


@bp.route("/media/<path:key>")
def serve(key: str) -> Response:
    """Return the object if the URL's signature is valid and not expired (the signature is the permission)."""
    target = storage()
    if not isinstance(target, LocalStorage):
        abort(404)
    try:
        target.verify_url_signature(key, request.args.get("expires", ""), request.args.get("sig", ""))
        data = target.get(key)
    except ObjectNotFound:
        abort(404)
    except StorageError:
        abort(403)
    response = Response(data, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
