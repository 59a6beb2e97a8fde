"""PDF of a printed page, made by headless Chromium (Noto CJK fonts), with the photos inlined.

Chromium is found at ``PDF_CHROMIUM`` (default: ``chromium`` on the PATH). Without it
the route says so and the page's own print button (print CSS) still works.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote

from flask import Response, current_app

from sync.storage import StorageError

from ...errors import AppError
from ...visits.photos import storage

TIMEOUT_SECONDS = 60


def inline_src(key: str) -> str:
    """A ``data:`` URI of a stored photo, so the PDF needs no signed URL or network.

    A copy still being made by its job is left out (empty), like a missing one.
    """
    try:
        data = storage().get(key)
    except StorageError:
        return ""
    kind = "png" if data.startswith(b"\x89PNG") else "webp" if data[8:12] == b"WEBP" else "jpeg"
    return f"data:image/{kind};base64," + base64.b64encode(data).decode("ascii")


def chromium_path() -> str | None:
    """The Chromium binary to print with, if there is one."""
    configured = current_app.config.get("PDF_CHROMIUM")
    if configured:
        return configured if Path(configured).exists() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def html_to_pdf(html: str) -> bytes:
    """Print ``html`` (self-contained) to an A4 PDF; the page's print CSS sets the layout."""
    binary = chromium_path()
    if binary is None:
        raise AppError(
            503, "pdf_unavailable", "服务器未安装 Chromium，暂不能生成 PDF；请在报告页面用浏览器“打印”另存为 PDF。"
        )
    with tempfile.TemporaryDirectory(prefix="dudao-pdf-") as tmp:
        page = Path(tmp) / "report.html"
        out = Path(tmp) / "report.pdf"
        page.write_text(html, encoding="utf-8")
        command = [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            f"--user-data-dir={tmp}/profile",
            "--no-pdf-header-footer",
            f"--print-to-pdf={out}",
            page.as_uri(),
        ]
        try:
            subprocess.run(command, capture_output=True, timeout=TIMEOUT_SECONDS, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            current_app.logger.warning("PDF printing failed: %s", exc)
            raise AppError(503, "pdf_failed", "生成 PDF 失败，请稍后重试，或用浏览器打印。") from exc
        if not out.exists() or out.stat().st_size == 0:
            raise AppError(503, "pdf_failed", "生成 PDF 失败，请稍后重试，或用浏览器打印。")
        return out.read_bytes()


def pdf_response(html: str, filename: str) -> Response:
    """The PDF as a download named ``filename`` (Chinese names survive via RFC 5987)."""
    response = Response(html_to_pdf(html), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f"attachment; filename=\"report.pdf\"; filename*=UTF-8''{quote(filename)}"
    return response
