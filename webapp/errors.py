"""One error shape: JSON ``{"error": {code, message, fields}}`` for the API, a Chinese page for people."""

from __future__ import annotations

import traceback
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .field_messages import chinese_fields

#: Chinese messages for the HTTP errors a user can meet.
MESSAGES: dict[int, str] = {
    400: "请求有误，请检查后重试。",
    401: "请先登录。",
    403: "您没有权限访问此页面。",
    404: "页面或数据不存在。",
    405: "不支持此操作。",
    409: "数据冲突，请刷新后重试。",
    413: "上传的文件太大。",
    422: "提交的数据有误。",
    429: "操作过于频繁，请稍后再试。",
    500: "服务器出错了，请稍后再试。",
}


class AppError(Exception):
    """An error to show the user: HTTP status, stable code, Chinese message, field errors."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: dict[str, Any] | None = None,
        *,
        retry_after: int | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}
        #: Seconds a client should wait before trying again (503, 429): sent as ``Retry-After``.
        self.retry_after = retry_after


def wants_json() -> bool:
    """API paths and clients that ask for JSON get JSON errors."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    """The one error shape as JSON data (also one entry's answer in a sync batch)."""
    return {"error": {"code": code, "message": message, "fields": chinese_fields(fields or {})}}


def error_response(status: int, code: str, message: str, fields: dict[str, Any] | None = None) -> Response:
    """Render an error as JSON or as a page, whichever the client wants."""
    if wants_json():
        response = jsonify(error_body(code, message, fields))
    else:
        response = Response(
            render_template("error.html", status=status, message=message, fields=chinese_fields(fields or {}))
        )
    response.status_code = status
    return response


def init(app: Flask) -> None:
    """Install the error handlers."""

    @app.errorhandler(AppError)
    def _app_error(exc: AppError) -> Response:
        response = error_response(exc.status, exc.code, exc.message, exc.fields)
        if exc.retry_after is not None:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError) -> Response:
        return error_response(400, "csrf_failed", "页面已过期或请求来源无效，请刷新页面后重试。")

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        code = (exc.name or "error").lower().replace(" ", "_")
        response = error_response(status, code, MESSAGES.get(status, exc.description or "出错了。"))
        # Keep what the exception says about itself (Allow on 405, Retry-After …).
        for name, value in exc.get_headers():
            if name.lower() not in ("content-type", "content-length"):
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        app.logger.exception("unhandled error")
        if app.config.get("PRINT_UNHANDLED"):
            traceback.print_exception(exc)
        return error_response(500, "internal_error", MESSAGES[500])
