"""The OpenAPI document of ``/api/v1`` (``/api/openapi.json``), made from the schemas the views use.

Every API view carries :func:`operation`, naming the marshmallow schema it validates its body with (the
one it hands to ``load``), the schemas of its answers and the error statuses it gives. The document is
built from the app's URL map, so a route without a description fails the build (and the tests), and a
change of a schema (a field, a validator) changes the document: apispec's marshmallow plugin turns
``Length`` into minLength/maxLength, ``OneOf`` into enum, ``Range`` into minimum/maximum and ``Regexp``
into pattern. A schema with ``variants`` (one per kind) is described as ``oneOf`` them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Flask, Response, current_app, jsonify
from marshmallow import Schema
from werkzeug.routing import IntegerConverter

bp = Blueprint("openapi", __name__)
F = TypeVar("F", bound=Callable[..., Any])

API_VERSION = "1.0.0"
PREFIX = "/api/v1/"
#: What each error status means for this API (the body is always the one error shape).
ERRORS: dict[int, str] = {
    400: "请求本身有误：不是有效的 JSON、表单无法读取、URL 含控制字符或 CSRF 令牌无效",
    401: "未登录或会话已结束（code: auth_required）：手机保留待上传数据，请重新登录",
    403: "没有权限（角色、学校或县区不符）",
    404: "记录不存在或不属于当前用户",
    409: "状态冲突（已提交、学期已结束、编号被另一条记录使用、手机已换账号登录等）",
    413: "请求内容过大",
    422: "数据校验失败：fields 按字段列出问题",
    429: "请求过于频繁：按 Retry-After（秒）等待后重试",
    503: "数据库或照片存储暂不可用，未写入任何内容：按 Retry-After（秒）等待后重试",
}
#: Statuses that carry ``Retry-After``.
RETRY = (429, 503)
#: What any request may be answered: 400 (the input guard on the URL, CSRF), 401 and 403 (sign-in, roles), 429
#: (throttling, here or by a proxy in front; the phone waits Retry-After). Bodies add 413 and 422 per operation.
COMMON = (400, 401, 403, 429)
UUID_PARAMETER = {"type": "string", "format": "uuid"}
#: What webapp/guard.py refuses in any text, as a JSON Schema pattern (C0 but tab/LF/CR, DEL, C1): free text fields
#: of request bodies carry it, so the document says what the edge refuses.
TEXT_PATTERN = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$"
#: Path segments by name (a segment not named here fails the build: say what it is).
PATH_PARAMETERS: dict[str, dict[str, Any]] = {
    "visit_id": UUID_PARAMETER,
    "photo_id": UUID_PARAMETER,
    "activity_id": UUID_PARAMETER,
    "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
    "school_id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
    "task_id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
    "client_id": UUID_PARAMETER,
}


@dataclass(frozen=True)
class Operation:
    """What one API view takes and answers (see :func:`operation`)."""

    ok: dict[int, type[Schema]]
    errors: tuple[int, ...] = ()
    body: type[Schema] | None = None
    form: type[Schema] | None = None
    files: tuple[str, ...] = ()
    raw: str | None = None
    query: type[Schema] | None = None
    headers: dict[str, dict[str, Any]] = field(default_factory=dict)
    conflict: type[Schema] | None = None
    not_modified: bool = False


def operation(
    ok: dict[int, type[Schema]],
    errors: tuple[int, ...] = (),
    *,
    body: type[Schema] | None = None,
    form: type[Schema] | None = None,
    files: tuple[str, ...] = (),
    raw: str | None = None,
    query: type[Schema] | None = None,
    headers: dict[str, dict[str, Any]] | None = None,
    conflict: type[Schema] | None = None,
    not_modified: bool = False,
) -> Callable[[F], F]:
    """Describe an API view: its answers (status → schema), the errors it may give beyond :data:`COMMON`,
    and what it takes — a JSON ``body`` schema, a multipart ``form`` schema with ``files``, a ``raw`` body
    of a media type, a ``query`` schema, ``headers`` (name → parameter fields). ``conflict`` is a 409 body
    richer than the error shape; ``not_modified``: 304 when ``If-None-Match`` names the current ETag.

    Put it right under ``@bp.route``: the summary is the first line of the view's docstring.
    """
    described = Operation(ok, errors, body, form, files, raw, query, headers or {}, conflict, not_modified)

    def decorate(view: F) -> F:
        view.__dict__["api_operation"] = described
        return view

    return decorate


def _ref(plugin: MarshmallowPlugin, schema: type[Schema]) -> dict[str, Any]:
    """A reference to ``schema``'s component (registered on first use); ``oneOf`` its variants if it has some."""
    variants = getattr(schema, "variants", None)
    if variants:
        return {"oneOf": [_ref(plugin, variant) for variant in variants]}
    return plugin.converter.resolve_nested_schema(schema)


def _content(plugin: MarshmallowPlugin, schema: type[Schema]) -> dict[str, Any]:
    return {"application/json": {"schema": _ref(plugin, schema)}}


def _request_body(plugin: MarshmallowPlugin, described: Operation) -> dict[str, Any] | None:
    content: dict[str, Any] = {}
    if described.form is not None:
        # One flat object (the form's fields and the files): clients find the file parts in its properties.
        form = plugin.converter.schema2jsonschema(described.form)
        form["properties"].update({name: {"type": "string", "format": "binary"} for name in described.files})
        form["required"] = [*form.get("required", []), *described.files]
        encoding = {name: {"contentType": "application/octet-stream"} for name in described.files}
        content["multipart/form-data"] = {"schema": form, "encoding": encoding}
    if described.body is not None:
        content.update(_content(plugin, described.body))
    if described.raw is not None:
        content[described.raw] = {"schema": {"type": "string", "format": "binary"}}
    return {"required": True, "content": content} if content else None


def _parameters(rule: Any, plugin: MarshmallowPlugin, described: Operation) -> list[dict[str, Any]]:
    parameters = []
    for name in rule.arguments:
        if name not in PATH_PARAMETERS:
            raise LookupError(f"{rule.rule}: describe the path segment {name!r} in apidoc.PATH_PARAMETERS")
        schema = PATH_PARAMETERS[name]
        if isinstance(rule._converters.get(name), IntegerConverter) != (schema["type"] == "integer"):
            raise TypeError(f"{rule.rule}: {name!r} is described as {schema['type']}")
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    if described.query is not None:
        parameters += plugin.converter.schema2parameters(described.query, location="query")
    for name, fields_ in described.headers.items():
        parameters.append({"name": name, "in": "header", **fields_})
    return parameters


def _responses(plugin: MarshmallowPlugin, described: Operation) -> dict[str, Any]:
    responses: dict[str, Any] = {
        str(code): {"description": "成功", "content": _content(plugin, schema)} for code, schema in described.ok.items()
    }
    for code in sorted({*COMMON, *described.errors}):
        responses[str(code)] = {"$ref": f"#/components/responses/Error{code}"}
    if described.not_modified:
        responses["304"] = {"description": "未变化（If-None-Match 与当前 ETag 相同），无内容"}
    if described.conflict is not None:
        responses["409"] = {"description": ERRORS[409], "content": _content(plugin, described.conflict)}
    return responses


def _path(rule: Any) -> str:
    """``/visits/<int:school_id>`` → ``/visits/{school_id}``."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)


def build(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.0 document of every ``/api/v1`` route of ``app``."""
    from .visits.schemas import ErrorSchema

    plugin = MarshmallowPlugin()
    api = APISpec(
        title="督导随行 同步接口 (dudao sync API)",
        version=API_VERSION,
        openapi_version="3.0.3",
        plugins=[plugin],
        info={
            "description": "Offline sync of visits and 教研 activities. Writes are idempotent by UUIDs made on the "
            "phone. Every operation needs the session cookie of a signed-in user (POST /login); a write also needs "
            "the X-CSRFToken header from GET /api/v1/me. No text (JSON strings and keys, form fields, the URL) may "
            "hold control characters other than tab, LF and CR: such a request answers 422 (400 for the URL). "
            'Every error answers the one shape {"error": {code, message, fields}}.'
        },
    )
    error = plugin.converter.resolve_nested_schema(ErrorSchema)
    retry_after = {"description": "秒", "schema": {"type": "integer", "minimum": 0}}
    for code, meaning in ERRORS.items():
        response: dict[str, Any] = {"description": meaning, "content": {"application/json": {"schema": error}}}
        if code in RETRY:
            response["headers"] = {"Retry-After": retry_after}
        api.components.response(f"Error{code}", response)
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith(PREFIX):
            continue
        view = app.view_functions[rule.endpoint]
        described = getattr(view, "api_operation", None)
        if described is None:
            raise LookupError(f"{rule.endpoint} ({rule.rule}) has no @apidoc.operation")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            item: dict[str, Any] = {
                "operationId": f"{rule.endpoint}",
                "summary": (view.__doc__ or rule.endpoint).strip().splitlines()[0],
                "parameters": _parameters(rule, plugin, described),
                "responses": _responses(plugin, described),
            }
            body = _request_body(plugin, described)
            if body is not None:
                item["requestBody"] = body
            if method != "GET":
                _owner_check(item, error)
            paths.setdefault(_path(rule), {})[method.lower()] = item
    for path, operations in paths.items():
        api.path(path, operations=operations)
    document = api.to_dict()
    _describe_text_rule(document)
    return document


def _owner_check(item: dict[str, Any], error: dict[str, Any]) -> None:
    """Every write may name its records' owner (auth/login.py ``require_same_user``): another account than the
    session's answers 409 ``user_changed`` (the one error shape ``error``) and nothing is applied."""
    from .auth.login import USER_HEADER

    item["parameters"].append(
        {
            "name": USER_HEADER,
            "in": "header",
            "required": False,
            "description": "写入记录所属账号的 id（手机发送）；与当前登录账号不同时答 409 user_changed，不写入任何内容",
            "schema": {"type": "string"},  # any value: compared with the account signed in
        }
    )
    conflict = item["responses"].setdefault("409", {"$ref": "#/components/responses/Error409"})
    for media in conflict.get("content", {}).values():
        # The operation's own 409 body (an upload's offset) or the plain error of a changed account.
        media["schema"] = {"anyOf": [media["schema"], error]}


def _text_rule(schema: dict[str, Any], components: dict[str, Any], seen: set[str]) -> None:
    """Give every free text field (a string without enum, pattern or format) under ``schema`` the text pattern."""
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        name = ref.rsplit("/", 1)[1]
        if name not in seen:
            seen.add(name)
            _text_rule(components[name], components, seen)
        return
    for key in ("allOf", "oneOf", "anyOf"):
        for part in schema.get(key, []):
            _text_rule(part, components, seen)
    if schema.get("type") == "string" and not {"enum", "pattern", "format"} & set(schema):
        schema["pattern"] = TEXT_PATTERN
    for part in schema.get("properties", {}).values():
        _text_rule(part, components, seen)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            _text_rule(schema[key], components, seen)


def _describe_text_rule(document: dict[str, Any]) -> None:
    """The text rule on every request body (answers are not constrained: the server wrote them)."""
    components = document.get("components", {}).get("schemas", {})
    seen: set[str] = set()
    for operations in document["paths"].values():
        for item in operations.values():
            for media in item.get("requestBody", {}).get("content", {}).values():
                _text_rule(media["schema"], components, seen)


@bp.route("/api/openapi.json")
def openapi_json() -> Response:
    """The OpenAPI document (public: it describes, it grants nothing); built once per app."""
    document = current_app.extensions.get("dudao.openapi")
    if document is None:
        document = current_app.extensions["dudao.openapi"] = build(current_app)
    return jsonify(document)
