"""Shared set-up for the bureau tests: a county with a current term, schools, people, and visits
recorded and submitted through the real sync API."""

from __future__ import annotations

import hashlib
import io
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from webapp.core.models import Term
from webapp.extensions import db
from webapp.timeutil import today_in_china

from .conftest import jpeg_bytes, login

ALARM = "xiji.safety.one_click_alarm"
CLASS_SIZE = "xiji.conditions.class_size"


def stamp(minutes: float, base: datetime | None = None) -> str:
    """An ISO time ``minutes`` after ``base`` (default: yesterday 02:00 UTC, i.e. 10:00 in China)."""
    start = base or datetime.now(UTC).replace(hour=2, minute=0, second=0, microsecond=0) - timedelta(days=1)
    return (start + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


@dataclass
class World:
    """People and places of the bureau tests."""

    county: Any
    other_county: Any
    term: Term
    school: Any
    junior: Any
    foreign_school: Any
    inspector: Any
    reviewer: Any
    other_reviewer: Any
    outsider: Any
    admin: Any
    clients: dict[str, Any] = field(default_factory=dict)

    def client(self, app: Any, who: str) -> Any:
        """A signed-in test client for ``who`` (cached)."""
        if who not in self.clients:
            client = app.test_client()
            assert login(client, getattr(self, who)).status_code == 302
            self.clients[who] = client
        return self.clients[who]


def make_world(factory: Any) -> World:
    """西吉县 with a current term, a primary and a junior school, an inspector, reviewers, an admin."""
    county = factory.county("西吉县", "xiji")
    other = factory.county("贺兰县", "helan")
    today = today_in_china()
    term = Term(
        county_id=county.id,
        name="本学期",
        school_year="2026-2027",
        starts_on=today - timedelta(days=60),
        ends_on=today + timedelta(days=60),
    )
    past = Term(
        county_id=county.id,
        name="上学期",
        school_year="2025-2026",
        starts_on=today - timedelta(days=260),
        ends_on=today - timedelta(days=120),
    )
    db.session.add_all([term, past])
    db.session.commit()
    school = factory.school(
        county,
        name="吉强镇中心小学",
        stage="primary",
        location="town",
        latitude=35.99,
        longitude=105.78,
        group_name="一小教育集团",
    )
    junior = factory.school(
        county,
        name="兴隆镇中学",
        stage="junior",
        location="town",
        latitude=35.85,
        longitude=105.81,
        group_name="一小教育集团",
    )
    foreign = factory.school(other, name="贺兰县第一小学")
    return World(
        county=county,
        other_county=other,
        term=term,
        school=school,
        junior=junior,
        foreign_school=foreign,
        inspector=factory.user("inspector", county, (school, junior)),
        reviewer=factory.user("reviewer", county),
        other_reviewer=factory.user("reviewer", other),
        outsider=factory.user("inspector", other, (foreign,)),
        admin=factory.user("admin"),
    )


def items_of(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The bundle's checklist items by id."""
    return {i["id"]: i for s in bundle["checklist"]["sections"] for i in s["items"]}


def passing_value(item: dict[str, Any]) -> dict[str, Any]:
    """A value that meets the item's standard."""
    check = item["check"]
    kind = check["type"]
    if kind in ("yes_no", "deadline"):
        return {"answer": "yes"}
    if kind == "text":
        return {"text": "已查看"}
    if kind == "count_per_period":
        return {"number": check["count"]}
    if kind in ("numeric", "percentage"):
        if check.get("value") is None:
            return {"answer": "na"}
        op, limit = check["operator"], check["value"]
        return {"number": {"<=": limit, "<": limit - 1, ">=": limit, ">": limit + 1, "==": limit}[op]}
    raise AssertionError(kind)


def upload(client: Any, visit_id: str, data: bytes, item_id: str | None, minutes: float, **meta: Any) -> Any:
    """Upload one photo through the sync API."""
    form = {
        "sha256": hashlib.sha256(data).hexdigest(),
        "caption": meta.pop("caption", "现场照片"),
        "captured_at": stamp(minutes),
        "device_id": "phone-1",
        **({"item_id": item_id} if item_id else {}),
        **meta,
        "file": (io.BytesIO(data), "p.jpg"),
    }
    photo_id = str(uuid.uuid4())
    response = client.put(f"/api/v1/visits/{visit_id}/photos/{photo_id}", data=form, content_type="multipart/form-data")
    assert response.status_code in (200, 201), response.get_json()
    return response


def record_visit(
    client: Any,
    school: Any,
    overrides: dict[str, dict[str, Any]] | None = None,
    photos: dict[str, bytes] | None = None,
    *,
    submit: bool = True,
    base: datetime | None = None,
    photo_meta: dict[str, Any] | None = None,
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Record every item (passing unless overridden) and photos, then submit; return id, header body, items."""
    bundle = client.get(f"/api/v1/schools/{school.id}/bundle").get_json()
    items = items_of(bundle)
    visit_id = str(uuid.uuid4())
    body = {
        "school_id": school.id,
        "checklist_version": bundle["checklist"]["version"],
        "state": "in_progress",
        "started_at": stamp(0, base),
        "device_id": "phone-1",
    }
    assert client.put(f"/api/v1/visits/{visit_id}", json=body).status_code == 201
    overrides = overrides or {}
    writes = [
        {
            "id": str(uuid.uuid4()),
            "item_id": item_id,
            "value": overrides.get(item_id, passing_value(item)),
            "observation": "门卫室未安装" if item_id in overrides else "",
            "edited_at": stamp(1 + n * 0.5, base),
            "device_id": "phone-1",
        }
        for n, (item_id, item) in enumerate(items.items())
    ]
    response = client.post(f"/api/v1/visits/{visit_id}/results", json={"writes": writes})
    assert response.status_code == 200, response.get_json()
    photos = photos or {}
    for n, (item_id, data) in enumerate(photos.items()):
        upload(client, visit_id, data, item_id, 5 + n, **(photo_meta or {}))
    if submit:
        hashes = sorted(hashlib.sha256(d).hexdigest() for d in photos.values())
        done = {
            **body,
            "state": "submitted",
            "submitted_at": stamp(90, base),
            "summary": "总体良好",
            "declared": {"result_count": len(writes), "photo_hashes": hashes},
        }
        response = client.put(f"/api/v1/visits/{visit_id}", json=done)
        assert response.status_code == 200 and response.get_json()["receipt"]["is_fully_received"]
        body = done
    return visit_id, body, items


def alarm_photo(color: tuple[int, int, int] = (30, 90, 160)) -> bytes:
    """A small JPEG standing in for a photo of the alarm button."""
    return jpeg_bytes(640, 480, color=color)


def authorization_rows(
    home: Any, other: Any, inspected: Any, foreign: Any, visit: Any, foreign_visit: Any, by: Any
) -> dict:
    """For the authorization table: a current term in each county and a task at a school of each."""
    from webapp.bureau.rectification.models import RectificationTask

    today = today_in_china()
    ids: dict[str, Any] = {}
    for county in (home, other):
        db.session.add(
            Term(
                county_id=county.id,
                name="本学期",
                school_year="2026-2027",
                starts_on=today - timedelta(days=30),
                ends_on=today + timedelta(days=30),
            )
        )
    for name, county, school, on_visit in (
        ("task", home, inspected, visit),
        ("foreign_task", other, foreign, foreign_visit),
    ):
        task = RectificationTask(
            county_id=county.id,
            school_id=school.id,
            visit_id=on_visit.id,
            item_id=f"{county.policy_set}.safety.x",
            item_title="消防安全",
            problem="灭火器过期",
            deadline=today + timedelta(days=7),
            opened_by_id=by.id,
        )
        db.session.add(task)
        db.session.flush()
        ids[name] = task.id
    return ids
