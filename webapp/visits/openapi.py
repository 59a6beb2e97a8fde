"""The OpenAPI 3 document of the sync API, built from the marshmallow schemas."""

from __future__ import annotations

from functools import cache
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Response, jsonify
from marshmallow import Schema, fields

from .schemas import (
    ErrorSchema,
    PhotoMetaSchema,
    PhotoResponseSchema,
    PlanSchema,
    ReceiptSchema,
    ResultBatchResponseSchema,
    ResultBatchSchema,
    VisitResponseSchema,
    VisitUpsertSchema,
)

bp = Blueprint("openapi", __name__)

API_VERSION = "1.0.0"
#: Error responses every operation may give, with what they mean.
ERRORS = {
    "400": "请求有误：不是有效的 JSON、表单无法解析，或网址中含控制字符",
    "401": "未登录",
    "403": "没有权限（角色或学校不符）",
    "404": "督导记录或学校不存在",
    "409": "状态冲突（已提交、编号重复等）",
    "413": "上传内容过大",
    "422": "数据校验失败，fields 列出每个字段的问题",
    "503": "数据库或照片存储暂不可用，稍后重试",
}


class MeSchema(Schema):
    """The signed-in user and a CSRF token for writes."""

    user = fields.Dict(required=True)
    csrf_token = fields.String(required=True)
    server_time = fields.String(required=True)


class VisitListSchema(Schema):
    """The inspector's visits and schools."""

    visits = fields.List(fields.Dict(), required=True)
    schools = fields.List(fields.Dict(), required=True)


class PlannedSchema(Schema):
    """A planned visit."""

    visit = fields.Dict(required=True)


class BundleSchema(Schema):
    """Everything needed to record a visit offline."""

    visit = fields.Dict(required=True)
    school = fields.Dict(required=True)
    checklist = fields.Dict(required=True)
    results = fields.List(fields.Dict(), required=True)
    photos = fields.List(fields.Dict(), required=True)
    rectifications = fields.List(fields.Dict(), required=True)
    #: The bureau's last decision (comments per item on a returned visit), or null.
    review = fields.Dict(required=True, allow_none=True)
    receipt = fields.Nested(ReceiptSchema, required=True)


class SchoolBundleSchema(Schema):
    """A school, its current checklist version and its open rectification tasks.

    When the pack has nothing for the school, ``checklist.applicable`` is false and
    ``checklist.not_applicable`` says why (本政策包不适用于幼儿园); that checklist is not
    stored, and planning a visit there answers 422 ``checklist_not_applicable``.
    """

    school = fields.Dict(required=True)
    checklist = fields.Dict(required=True)
    rectifications = fields.List(fields.Dict(), required=True)


class ReceiptOnlySchema(Schema):
    """A visit's receipt."""

    receipt = fields.Nested(ReceiptSchema, required=True)


def _json(schema: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


def _op(summary: str, ok: dict[str, str], errors: tuple[str, ...], body: str | None = None, **extra: Any) -> dict:
    responses: dict[str, Any] = {code: {"description": "成功", **_json(schema)} for code, schema in ok.items()}
    for code in errors:
        responses[code] = {"description": ERRORS[code], **_json("Error")}
    operation: dict[str, Any] = {"summary": summary, "responses": responses, **extra}
    if body:
        operation["requestBody"] = {"required": True, **_json(body)}
    return operation


def _param(name: str, kind: str = "string", fmt: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": kind}
    if fmt:
        schema["format"] = fmt
    return {"name": name, "in": "path", "required": True, "schema": schema}


VISIT = _param("visit_id", fmt="uuid")
AUTH = ("401", "403")


#: What webapp/guard.py refuses in any text, as a JSON Schema pattern (C0 but tab/LF/CR, DEL, C1).
TEXT_PATTERN = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$"


def _constrain(schema: dict[str, Any], components: dict[str, Any], seen: set[str]) -> None:
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        name = ref.rsplit("/", 1)[1]
        if name not in seen:
            seen.add(name)
            _constrain(components[name], components, seen)
        return
    for key in ("allOf", "oneOf", "anyOf"):
        for part in schema.get(key, []):
            _constrain(part, components, seen)
    if schema.get("type") == "string" and not {"enum", "pattern", "format"} & set(schema):
        schema["pattern"] = TEXT_PATTERN
    for part in schema.get("properties", {}).values():
        _constrain(part, components, seen)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            _constrain(schema[key], components, seen)


def _describe_text_rule(document: dict[str, Any]) -> None:
    """Say in every request body's text fields what the edge refuses (control characters), so the description
    and the server agree."""
    components = document["components"]["schemas"]
    seen: set[str] = set()
    for operations in document["paths"].values():
        for operation in operations.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                for media in operation["requestBody"]["content"].values():
                    _constrain(media["schema"], components, seen)


@cache
def spec() -> dict[str, Any]:
    """Build the document once per process."""
    api = APISpec(
        title="督导随行 同步接口 (dudao sync API)",
        version=API_VERSION,
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={
            "description": "Offline visit sync. Writes are idempotent by client-made UUIDs; writes need the "
            "X-CSRFToken header from GET /api/v1/me and the session cookie."
        },
    )
    for name, schema in {
        "Error": ErrorSchema,
        "Receipt": ReceiptSchema,
        "Me": MeSchema,
        "VisitList": VisitListSchema,
        "Plan": PlanSchema,
        "Planned": PlannedSchema,
        "Bundle": BundleSchema,
        "SchoolBundle": SchoolBundleSchema,
        "VisitUpsert": VisitUpsertSchema,
        "VisitResponse": VisitResponseSchema,
        "ResultBatch": ResultBatchSchema,
        "ResultBatchResponse": ResultBatchResponseSchema,
        "PhotoResponse": PhotoResponseSchema,
        "ReceiptOnly": ReceiptOnlySchema,
    }.items():
        api.components.schema(name, schema=schema)
    photo_form = {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "allOf": [{"$ref": "#/components/schemas/PhotoMeta"}],
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            }
        },
    }
    api.components.schema("PhotoMeta", schema=PhotoMetaSchema)
    api.path("/api/v1/me", operations={"get": _op("当前用户与 CSRF 令牌", {"200": "Me"}, ("401",))})
    api.path(
        "/api/v1/visits",
        operations={
            "get": _op("我的督导记录", {"200": "VisitList"}, AUTH),
            "post": _op("计划督导", {"201": "Planned"}, ("400", *AUTH, "404", "422"), body="Plan"),
        },
    )
    api.path(
        "/api/v1/visits/{visit_id}/bundle",
        parameters=[VISIT],
        operations={"get": _op("下载离线督导包", {"200": "Bundle"}, (*AUTH, "404"))},
    )
    api.path(
        "/api/v1/schools/{school_id}/bundle",
        parameters=[_param("school_id", "integer")],
        operations={"get": _op("下载学校与检查表", {"200": "SchoolBundle"}, (*AUTH, "404"))},
    )
    api.path(
        "/api/v1/visits/{visit_id}",
        parameters=[VISIT],
        operations={
            "put": _op(
                "创建或更新督导（幂等）",
                {"200": "VisitResponse", "201": "VisitResponse"},
                ("400", *AUTH, "404", "409", "422", "503"),
                body="VisitUpsert",
            ),
        },
    )
    api.path(
        "/api/v1/visits/{visit_id}/results",
        parameters=[VISIT],
        operations={
            "post": _op(
                "提交检查结果（每条仅生效一次）",
                {"200": "ResultBatchResponse"},
                ("400", *AUTH, "404", "409", "422", "503"),
                body="ResultBatch",
            ),
        },
    )
    api.path(
        "/api/v1/visits/{visit_id}/photos/{photo_id}",
        parameters=[VISIT, _param("photo_id", fmt="uuid")],
        operations={
            "put": {
                **_op(
                    "上传照片（幂等）",
                    {"200": "PhotoResponse", "201": "PhotoResponse"},
                    (*AUTH, "404", "409", "413", "422", "503"),
                ),
                "requestBody": photo_form,
            },
            "delete": _op("删除照片（提交前）", {"200": "ReceiptOnly"}, (*AUTH, "404", "409", "503")),
        },
    )
    api.path(
        "/api/v1/visits/{visit_id}/receipt",
        parameters=[VISIT],
        operations={"get": _op("服务器回执", {"200": "ReceiptOnly"}, (*AUTH, "404"))},
    )
    from ..lessons.openapi import add_paths as add_lesson_paths  # here: it imports this module's helpers

    add_lesson_paths(api)
    document = api.to_dict()
    _describe_text_rule(document)
    # Every request passes the edge checks (webapp/guard.py) first: control characters in the path or query
    # string, or an unreadable body, answer 400 on any operation.
    for operations in document["paths"].values():
        for name, operation in operations.items():
            if name in ("get", "put", "post", "delete", "patch"):
                operation["responses"].setdefault("400", {"description": ERRORS["400"], **_json("Error")})
    return document


@bp.route("/api/openapi.json")
def openapi_json() -> Response:
    """The OpenAPI document (public: it describes, it grants nothing)."""
    return jsonify(spec())
