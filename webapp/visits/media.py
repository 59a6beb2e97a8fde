"""Serve photos from local-disk storage through short-lived signed URLs.

With S3-compatible storage the browser fetches presigned URLs from the
bucket directly and this route is not used.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, request

from sync.storage import LocalStorage, ObjectNotFound, StorageError

from .photos import storage

bp = Blueprint("media", __name__)


#: Shown while a photo's thumbnail or metadata-free copy is still being made (a background job).
PLACEHOLDER = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="320" height="240" viewBox="0 0 320 240">'
    '<rect width="320" height="240" fill="#e5e7eb"/>'
    '<text x="160" y="128" font-size="20" text-anchor="middle" fill="#6b7280">处理中</text></svg>'
).encode()
#: Key prefixes of copies a job makes (the original is stored before the upload is answered).
DERIVED_PREFIXES = ("photos/thumb/", "photos/public/")


def _content_type(data: bytes) -> str:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"\x89PNG"):
        return "image/png"
    return "image/jpeg"


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
        if not key.startswith(DERIVED_PREFIXES):
            abort(404)
        response = Response(PLACEHOLDER, mimetype="image/svg+xml")
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
    except StorageError:
        abort(403)
    response = Response(data, mimetype=_content_type(data))
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
