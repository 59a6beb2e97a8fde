"""Security headers on every response: a Content-Security-Policy with no inline script, no framing, nosniff,
a same-origin referrer, and a Permissions-Policy that lets only the app itself use the camera and location.

Scripts come only from the app's own static files (templates hold no inline <script>, on* handler or
``javascript:`` URL; webapp/static/page.js does what the handlers did), except the offline shell's one boot
script, which that page's own policy allows by its hash (visits/routes.py). Styles may be inline: the offline shell
inlines its CSS for the first paint, and a few templates set widths in style attributes. Photos stored in an
S3-compatible bucket are shown through presigned URLs, so the bucket's origin is allowed for images (and for the
service worker's fetches).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request

PERMISSIONS_POLICY = (
    "camera=(self), geolocation=(self), microphone=(), payment=(), usb=(), serial=(), bluetooth=(), "
    "magnetometer=(), gyroscope=(), accelerometer=(), display-capture=(), interest-cohort=()"
)


def storage_origin(app: Flask) -> str:
    """The origin presigned photo URLs point at ("" when photos are served by the app itself)."""
    if "dudao.storage_origin" not in app.extensions:
        origin = ""
        storage = app.extensions.get("dudao.storage")
        if storage is not None and app.config.get("STORAGE_BACKEND") == "s3":
            # Signing is local (no request to the store): ask for a URL and keep its origin.
            parts = urlsplit(storage.url("csp-origin-probe", 60))
            if parts.scheme in ("http", "https") and parts.netloc:
                origin = f"{parts.scheme}://{parts.netloc}"
        app.extensions["dudao.storage_origin"] = origin
    return app.extensions["dudao.storage_origin"]


def content_security_policy(app: Flask, script_hashes: tuple[str, ...] = ()) -> str:
    """The policy, with the photo store's origin where one is configured.

    ``script_hashes``: base64 sha256 digests of inline scripts this one page may run (the offline
    shell's boot script); any other inline script stays blocked.
    """
    photos = storage_origin(app)
    extra = f" {photos}" if photos else ""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'" + "".join(f" 'sha256-{digest}'" for digest in script_hashes),
            "style-src 'self' 'unsafe-inline'",
            f"img-src 'self' data: blob:{extra}",
            f"connect-src 'self'{extra}",
            "font-src 'self'",
            "manifest-src 'self'",
            "worker-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def add_headers(response: Response) -> Response:
    """The after-request hook (headers a view set itself are kept)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy(app))
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def init(app: Flask) -> None:
    """Install the hook."""
    app.after_request(add_headers)
