"""Text responses are gzipped for clients that accept it; the rest is left alone."""

from __future__ import annotations

import gzip
from pathlib import Path

GZIP = {"Accept-Encoding": "gzip, deflate"}


def test_static_javascript_is_gzipped_and_still_revalidates(app, client):
    original = (Path(app.static_folder) / "inspect" / "outbox.js").read_bytes()
    with client.get("/static/inspect/outbox.js", headers=GZIP) as response:
        assert response.status_code == 200
        assert response.headers["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in response.headers["Vary"]
        assert int(response.headers["Content-Length"]) == len(response.data) < len(original) / 2
        assert gzip.decompress(response.data) == original
        etag = response.headers["ETag"]
    assert etag.startswith('W/"')
    # The browser revalidates with the weak ETag it was given: still "not modified".
    with client.get("/static/inspect/outbox.js", headers={**GZIP, "If-None-Match": etag}) as again:
        assert again.status_code == 304


def test_plain_without_accept_encoding_and_never_for_images(client):
    with client.get("/static/inspect/outbox.js") as plain:
        assert "Content-Encoding" not in plain.headers
        assert "Accept-Encoding" in plain.headers["Vary"]  # caches must keep the two apart
    with client.get("/static/icons/icon-512.png", headers=GZIP) as image:
        assert image.status_code == 200 and "Content-Encoding" not in image.headers


def test_small_and_partial_responses_stay_plain(client):
    with client.get("/static/inspect/outbox.js", headers={**GZIP, "Range": "bytes=0-99"}) as partial:
        assert partial.status_code == 206 and "Content-Encoding" not in partial.headers
        assert len(partial.data) == 100
    with client.get("/manifest.webmanifest", headers=GZIP) as small:  # under MIN_BYTES
        assert small.status_code == 200 and "Content-Encoding" not in small.headers
