"""The fast loader of result batches answers exactly as ResultBatchSchema, or leaves the batch to it."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from marshmallow import ValidationError

from webapp.visits.schemas import ResultBatchSchema, load_result_batch_fast


def _write(**fields: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "item_id": "xiji.safety.fire",
        "value": {"answer": "yes"},
        "observation": "现场查看记录完整。",
        "edited_at": "2026-11-20T09:00:00.123Z",
        "device_id": "phone-1",
        **fields,
    }


def _without(name: str) -> dict[str, Any]:
    write = _write()
    del write[name]
    return write


CASES = [
    {"writes": [_write()]},
    {"writes": [_write(), _write(edited_at="2026-11-20T17:00:00+08:00")]},
    {"writes": [_without("observation"), _without("device_id")]},
    {"writes": [_write(observation="x" * 4000, item_id="i" * 96, device_id="d" * 64, id="A" * 32)]},
    {"writes": [_write()] * 500},
    # Refused by the schema: the fast path must leave each to it.
    {"writes": []},
    {"writes": [_write()] * 501},
    {"writes": [_write(observation="x" * 4001)]},
    {"writes": [_write(item_id="")]},
    {"writes": [_write(item_id="i" * 97)]},
    {"writes": [_write(device_id="d" * 65)]},
    {"writes": [_write(id="not-a-uuid")]},
    {"writes": [_write(id="a" * 37)]},
    {"writes": [_write(edited_at="2026-11-20T09:00:00")]},
    {"writes": [_write(edited_at="yesterday")]},
    {"writes": [_write(edited_at=None)]},
    {"writes": [_write(edited_at=3)]},
    {"writes": [_write(value="yes")]},
    {"writes": [_write(value=None)]},
    {"writes": [_write(observation=None)]},
    {"writes": [_write(extra=1)]},
    {"writes": [_without("id")]},
    {"writes": [_without("edited_at")]},
    {"writes": ["not an object"]},
    {"writes": {"0": _write()}},
    {"writes": [_write()], "extra": True},
    {},
    [],
    None,
]


@pytest.mark.parametrize("payload", CASES)
def test_the_fast_loader_agrees_with_the_schema(payload: Any) -> None:
    fast = load_result_batch_fast(payload)
    try:
        slow = ResultBatchSchema().load(payload)
    except (ValidationError, TypeError):
        assert fast is None
        return
    assert fast is None or fast == slow


def test_the_phones_batches_take_the_fast_path() -> None:
    for payload in CASES[:5]:
        assert load_result_batch_fast(payload) == ResultBatchSchema().load(payload)
