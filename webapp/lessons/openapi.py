"""The 教研员's part of the OpenAPI document (added to the visit API's document)."""

from __future__ import annotations

from typing import Any

from apispec import APISpec

from ..visits.openapi import AUTH, _op, _param
from .schemas import (
    WRITE_SCHEMAS,
    ActivityPhotoMetaSchema,
    ActivityPhotoResponseSchema,
    ActivityReceiptOnlySchema,
    ActivityReceiptSchema,
    ActivityResponseSchema,
    ActivityShowSchema,
    ActivityWriteSchema,
    GuidanceWriteSchema,
    LessonWriteSchema,
    ResearcherBundleSchema,
    SessionWriteSchema,
)

#: Component names of the per-kind write schemas (the PUT body is one of them, by ``kind``).
WRITE_COMPONENTS = {
    LessonWriteSchema: "LessonWrite",
    GuidanceWriteSchema: "GuidanceWrite",
    SessionWriteSchema: "SessionWrite",
}

ACTIVITY = _param("activity_id", fmt="uuid")


def add_paths(api: APISpec) -> None:
    """Add the schemas and operations of the activity API to ``api``."""
    for name, schema in {
        "ActivityWrite": ActivityWriteSchema,
        "ActivityReceipt": ActivityReceiptSchema,
        "ActivityResponse": ActivityResponseSchema,
        "ActivityShow": ActivityShowSchema,
        "ActivityPhotoMeta": ActivityPhotoMetaSchema,
        "ActivityPhotoResponse": ActivityPhotoResponseSchema,
        "ActivityReceiptOnly": ActivityReceiptOnlySchema,
        "ResearcherBundle": ResearcherBundleSchema,
        **{name: schema for schema, name in WRITE_COMPONENTS.items()},
    }.items():
        api.components.schema(name, schema=schema)
    ref = "#/components/schemas/"
    write_body = {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [{"$ref": ref + name} for name in WRITE_COMPONENTS.values()],
                    "discriminator": {
                        "propertyName": "kind",
                        "mapping": {kind: ref + WRITE_COMPONENTS[schema] for kind, schema in WRITE_SCHEMAS.items()},
                    },
                }
            }
        },
    }
    photo_form: dict[str, Any] = {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "allOf": [{"$ref": "#/components/schemas/ActivityPhotoMeta"}],
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            }
        },
    }
    api.path(
        "/api/v1/researcher/bundle",
        operations={"get": _op("教研员离线包（学校、教师、量表、指标与记录）", {"200": "ResearcherBundle"}, AUTH)},
    )
    api.path(
        "/api/v1/activities/{activity_id}",
        parameters=[ACTIVITY],
        operations={
            "put": {
                **_op(
                    "创建或修改教研活动记录（每次修改带 write_id，仅生效一次；学期结束后拒绝）。"
                    "按 kind 校验：听评课须有学校、学科、年级；其他活动须有主题，教研指导还须有学校",
                    {"200": "ActivityResponse", "201": "ActivityResponse"},
                    ("400", *AUTH, "404", "409", "422", "503"),
                ),
                "requestBody": write_body,
            },
            "get": _op("教研活动记录与回执", {"200": "ActivityShow"}, (*AUTH, "404")),
        },
    )
    api.path(
        "/api/v1/activities/{activity_id}/photos/{photo_id}",
        parameters=[ACTIVITY, _param("photo_id", fmt="uuid")],
        operations={
            "put": {
                **_op(
                    "上传活动照片（幂等）",
                    {"200": "ActivityPhotoResponse", "201": "ActivityPhotoResponse"},
                    (*AUTH, "404", "409", "413", "422", "503"),
                ),
                "requestBody": photo_form,
            },
            "delete": _op("删除活动照片", {"200": "ActivityReceiptOnly"}, (*AUTH, "404", "409", "422", "503")),
        },
    )
