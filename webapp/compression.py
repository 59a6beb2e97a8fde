"""Gzip for text responses.

Inspectors download the offline app (JS modules, CSS) and their lists over
slow county mobile networks: gzip cuts those bytes by about two thirds. A
reverse proxy that compresses already is left alone (it sees Content-Encoding).
Compressed static files are kept in memory per ETag, so each is compressed once.
"""

from __future__ import annotations

import gzip
from collections import OrderedDict

from flask import Flask, Response, request

#: Types worth compressing (images, photos and Excel files are compressed already).
COMPRESSIBLE = frozenset(
    {
        "text/html",
        "text/css",
        "text/javascript",
        "application/javascript",
        "application/json",
        "application/manifest+json",
        "image/svg+xml",
        "text/plain",
    }
)
#: Below this, gzip's header costs more than it saves.
MIN_BYTES = 1024
#: How many compressed static files to keep (the app shell has about twenty).
CACHE_SIZE = 128

_static_cache: OrderedDict[tuple[str, str], bytes] = OrderedDict()


def init(app: Flask) -> None:
    """Compress text responses for clients that accept gzip."""
    app.after_request(compress_response)


def _accepts_gzip() -> bool:
    """Whether the client takes gzip (``Accept-Encoding: gzip`` with a quality above 0)."""
    return request.accept_encodings["gzip"] > 0


def _is_candidate(response: Response) -> bool:
    """A full, uncompressed text body that a generator is not streaming."""
    return (
        request.method == "GET"
        and response.status_code == 200
        and response.mimetype in COMPRESSIBLE
        and "Content-Encoding" not in response.headers
        and "no-transform" not in (response.headers.get("Cache-Control") or "")
        and (response.direct_passthrough or not response.is_streamed)
    )


def _gzipped(data: bytes, etag: str | None) -> bytes:
    """``data`` compressed; static files (known by path and ETag) only once."""
    if not etag or request.endpoint != "static":
        return gzip.compress(data, compresslevel=6, mtime=0)
    key = (request.path, etag)
    if key in _static_cache:
        _static_cache.move_to_end(key)
        return _static_cache[key]
    body = gzip.compress(data, compresslevel=6, mtime=0)
    _static_cache[key] = body
    while len(_static_cache) > CACHE_SIZE:
        _static_cache.popitem(last=False)
    return body


def compress_response(response: Response) -> Response:
    """Gzip ``response`` in place when it is text, large enough, and the client accepts gzip."""
    if not _is_candidate(response):
        return response
    response.vary.add("Accept-Encoding")
    if not _accepts_gzip():
        return response
    response.direct_passthrough = False  # static files: read the file so it can be compressed
    data = response.get_data()
    if len(data) < MIN_BYTES:
        return response
    etag, is_weak = response.get_etag()
    response.set_data(_gzipped(data, etag))
    response.headers["Content-Encoding"] = "gzip"
    if etag and not is_weak:
        # The bytes differ from the plain file's; a weak ETag still matches on revalidation.
        response.set_etag(etag, weak=True)
    return response
