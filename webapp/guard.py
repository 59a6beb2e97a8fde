"""Input checked at the edge, once, for every request: control characters and malformed bodies.

Runs before everything else (CSRF included), so no view, schema or database ever sees a NUL: PostgreSQL
refuses NUL in text (a 500 there, silently stored on SQLite), and the phone treats a 500 as "retry later", so one
such entry would stall its outbox. Refused, in the one error shape:

- C0 control characters other than tab, LF and CR, DEL, C1 controls (U+0080–U+009F) and lone surrogates (which
  no UTF-8 database can store) in the URL path, the query string, form fields (names and values, and upload file
  names), JSON bodies (keys and string values, at any depth) and the ``X-Device-Id`` header → 400 for the URL,
  422 with the offending fields for a body, a Chinese message for people;
- a multipart or form body that cannot be read (a part without a name, a broken boundary) → 400;
- JSON nested too deep to parse → 400, like any other JSON that does not parse;
- a URL-encoded form larger than ``MAX_FORM_MEMORY_SIZE`` (Flask's 500 kB) → 413 before it is read.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, current_app, request
from werkzeug.exceptions import HTTPException

from .errors import AppError

#: What no text field may hold (tab, LF and CR stay allowed: multi-line notes).
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
MESSAGE = "提交的内容含有不允许的控制字符（如 NUL），请删除后重试。"
FIELD_MESSAGE = "不能包含控制字符。"
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
#: Stop walking absurd JSON (the view's own limits apply after us).
MAX_DEPTH = 64
#: A JSON escape that may decode to a forbidden character: ``\b``, ``\f``, ``\u0000``–``\u001f``,
#: ``\u007f``–``\u009f`` or a surrogate. (An escaped backslash before such letters matches too: that only
#: costs the full walk.)
RISKY_ESCAPE = re.compile(r"\\(?:[bf]|u(?:00[01]|007f|00[89]|d[89a-f]))", re.IGNORECASE)


def has_forbidden(text: str) -> bool:
    """Tell whether ``text`` holds a character no text field may hold."""
    return FORBIDDEN.search(text) is not None


def _bad_request(code: str, message: str) -> AppError:
    return AppError(400, code, message)


def _walk(value: Any, path: str, bad: dict[str, list[str]], depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise _bad_request("bad_json", "请求内容嵌套过深。")
    if isinstance(value, str):
        if has_forbidden(value):
            bad[path or "_schema"] = [FIELD_MESSAGE]
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            if has_forbidden(str(key)):
                bad[FORBIDDEN.sub("?", name)] = [FIELD_MESSAGE]
                continue
            _walk(item, name, bad, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, f"{path}.{index}" if path else str(index), bad, depth + 1)


def _check_url() -> None:
    if has_forbidden(request.path):
        raise _bad_request("invalid_characters", MESSAGE)
    for key, value in request.args.items(multi=True):
        if has_forbidden(key) or has_forbidden(value):
            raise _bad_request("invalid_characters", MESSAGE)
    if has_forbidden(request.headers.get("X-Device-Id", "")):
        raise _bad_request("invalid_characters", MESSAGE)


def _check_form(bad: dict[str, list[str]]) -> None:
    limit = current_app.config.get("MAX_FORM_MEMORY_SIZE")
    if request.mimetype == "application/x-www-form-urlencoded" and limit and (request.content_length or 0) > limit:
        # Werkzeug reads such a body whole and decodes it slowly (tens of seconds of CPU for 30 MB): refuse it
        # unread. Multipart text fields have the same limit inside Werkzeug; files go by MAX_CONTENT_LENGTH.
        raise AppError(413, "form_too_large", "提交的表单内容过长。")
    try:
        form, files = request.form, request.files
    except HTTPException:
        raise
    except Exception as exc:  # the multipart parser raises several kinds on broken input
        raise _bad_request("malformed_body", "提交的表单格式有误。") from exc
    if request.mimetype == "multipart/form-data" and not form and not files and request.content_length:
        # Werkzeug answers an unreadable body (wrong or missing boundary) with nothing at all.
        raise _bad_request("malformed_body", "提交的表单格式有误。")
    for key, value in form.items(multi=True):
        if not key:
            raise _bad_request("malformed_body", "提交的表单格式有误：有未命名的字段。")
        if has_forbidden(key) or has_forbidden(value):
            bad[FORBIDDEN.sub("?", key)] = [FIELD_MESSAGE]
    for key, upload in files.items(multi=True):
        if not key:
            raise _bad_request("malformed_body", "提交的表单格式有误：有未命名的字段。")
        if has_forbidden(key) or has_forbidden(upload.filename or ""):
            bad[FORBIDDEN.sub("?", key)] = [FIELD_MESSAGE]


def _too_deep(data: Any) -> bool:
    """Whether :func:`_walk` would refuse the body for its depth (a value deeper than :data:`MAX_DEPTH`).

    Level by level over the containers only: no function call per value.
    """
    level = [data] if isinstance(data, (dict, list)) else []
    depth = 0
    while level:
        deeper: list[Any] = []
        for container in level:
            items = container.values() if isinstance(container, dict) else container
            if items and depth >= MAX_DEPTH:
                return True
            deeper += [item for item in items if isinstance(item, (dict, list))]
        level = deeper
        depth += 1
    return False


def _check_json(bad: dict[str, list[str]]) -> None:
    try:
        data = request.get_json(silent=True)
    except RecursionError as exc:
        raise _bad_request("bad_json", "请求内容不是有效的 JSON。") from exc
    # Every decoded character is in the body's text or comes from an escape: a text with no forbidden
    # character and no escape that could make one decodes to clean keys and strings, and only the depth is
    # left to check (walking a sync batch string by string cost more than the rest of the guard). Anything
    # else gets the full walk, which names the fields.
    text = request.get_data(cache=True, as_text=True)
    if data is not None and not has_forbidden(text) and RISKY_ESCAPE.search(text) is None:
        if not _too_deep(data):
            return
    _walk(data, "", bad)


def check_request() -> None:
    """The before-request hook: refuse control characters and unreadable bodies (see the module)."""
    _check_url()
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    bad: dict[str, list[str]] = {}
    if request.mimetype in FORM_TYPES:
        _check_form(bad)
    elif request.is_json:
        _check_json(bad)
    if bad:
        raise AppError(422, "invalid_characters", MESSAGE, bad)


def init(app: Flask) -> None:
    """Run :func:`check_request` first, before CSRF and every blueprint's own hooks."""
    app.before_request_funcs.setdefault(None, []).insert(0, check_request)
