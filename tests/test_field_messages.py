"""marshmallow's own field messages reach the API and the pages in Chinese."""

from __future__ import annotations

import uuid

import pytest
from marshmallow import Schema, ValidationError, fields, validate

from webapp.field_messages import chinese


class _Sample(Schema):
    name = fields.String(required=True, validate=validate.Length(max=5))
    count = fields.Integer(validate=validate.Range(min=1, max=10))
    day = fields.Date()
    kind = fields.String(validate=validate.OneOf(["a", "b"]))
    flag = fields.Boolean()
    ident = fields.UUID()


@pytest.mark.parametrize(
    ("data", "field", "expected"),
    [
        ({}, "name", "必填。"),
        ({"name": "长长长长长长"}, "name", "太长：最多 5 个字符（或项）。"),
        ({"name": 3}, "name", "应为文字。"),
        ({"name": "a", "count": "x"}, "count", "应为整数。"),
        ({"name": "a", "count": 11}, "count", "应在 1 到 10 之间。"),
        ({"name": "a", "day": "2026/9/1"}, "day", "日期格式应为 2026-09-01。"),
        ({"name": "a", "kind": "c"}, "kind", "应为以下之一：a, b。"),
        ({"name": "a", "flag": "perhaps"}, "flag", "应为是或否（true / false）。"),
        ({"name": "a", "ident": "nope"}, "ident", "应为 UUID 编号。"),
        ({"name": "a", "extra": 1}, "extra", "不认识的字段。"),
    ],
)
def test_every_built_in_message_has_its_chinese(data, field, expected):
    with pytest.raises(ValidationError) as caught:
        _Sample().load(data)
    assert [chinese(m) for m in caught.value.messages[field]] == [expected]


def test_our_own_messages_pass_unchanged():
    assert chinese("日期格式应为 2026-09-01。") == "日期格式应为 2026-09-01。"


def test_the_api_answers_field_errors_in_chinese(app, factory, client):
    from .conftest import login

    county = factory.county("贺兰县", "helan")
    school = factory.school(county)
    login(client, factory.user("inspector", county, (school,)))
    response = client.put(f"/api/v1/visits/{uuid.uuid4()}", json={"school_id": "x"})
    assert response.status_code == 422
    messages = [m for ms in response.get_json()["error"]["fields"].values() for m in ms]
    assert messages and all(not any("a" <= c <= "z" for c in m.lower().replace("uuid", "")) for m in messages), messages
