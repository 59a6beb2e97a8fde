"""What a visit's page shows: results against thresholds, photos with place and time checks, history."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from ...extensions import db
from ...visits.models import ItemResult, Photo, ResultWrite, Visit
from ...visits.photos import URL_SECONDS, storage
from ..formatting import outcome_label, outcome_symbol, threshold_text, value_text
from ..rectification.models import RectificationTask, TaskUpdate
from .models import Review

#: Evidence farther than this from the school is flagged.
MAX_DISTANCE_M = 500
#: Photos taken this long before the first or after the last recording are flagged.
TIME_SLACK = timedelta(hours=2)
CHINA_OFFSET = timedelta(hours=8)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    radius = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * radius * math.asin(math.sqrt(a))


@dataclass
class PhotoView:
    """A photo with short-lived URLs and what its metadata says about place and time."""

    photo: Photo
    thumb_url: str
    full_url: str
    distance_m: float | None
    taken_at: datetime | None
    flags: list[str] = field(default_factory=list)


@dataclass
class ItemView:
    """One checklist item of the visit with its result, comments, photos and edit count."""

    item: dict[str, Any]
    section_title: str
    result: ItemResult | None
    threshold: str
    value: str
    outcome: str
    outcome_label: str
    symbol: str
    photos: list[PhotoView]
    comment: str = ""
    history: list[ResultWrite] = field(default_factory=list)

    @property
    def flagged(self) -> bool:
        """A photo of this item was taken far from the school or outside the visit's hours."""
        return any(view.flags for view in self.photos)

    @property
    def missing_photo(self) -> bool:
        """The item asks for a photo and the result came without one."""
        return bool(self.item.get("photo_required") and self.result and not self.photos)

    @property
    def needs_attention(self) -> bool:
        """What a reviewer looks at first: failed, a doubtful photo, or a required photo missing."""
        return self.outcome == "fail" or self.flagged or self.missing_photo


def photo_urls(key_thumb: str, key_full: str) -> tuple[str, str]:
    """Signed URLs, valid a few minutes, for a thumbnail and the full copy without GPS."""
    target = storage()
    return target.url(key_thumb, URL_SECONDS), target.url(key_full, URL_SECONDS)


def photo_views(visit: Visit, photos: list[Photo]) -> list[PhotoView]:
    """Each photo with its URLs, distance from the school and place/time flags."""
    school = visit.school
    start = visit.first_recorded_at or visit.started_at
    end = visit.last_recorded_at or visit.submitted_at
    views = []
    for photo in photos:
        thumb, full = photo_urls(photo.thumb_key, photo.public_key)
        lat = photo.latitude if photo.latitude is not None else photo.exif_latitude
        lon = photo.longitude if photo.longitude is not None else photo.exif_longitude
        distance = None
        flags = []
        if lat is not None and lon is not None and school.latitude is not None and school.longitude is not None:
            distance = distance_m(lat, lon, school.latitude, school.longitude)
            if distance > MAX_DISTANCE_M:
                flags.append(f"拍摄地点距学校约{_km(distance)}，超过{MAX_DISTANCE_M}米")
        taken = photo.captured_at or exif_time_utc(photo.exif_captured_at)
        if taken and start and end and not (start - TIME_SLACK <= taken <= end + TIME_SLACK):
            flags.append("拍摄时间不在本次督导时段内")
        views.append(PhotoView(photo, thumb, full, distance, taken, flags))
    return views


def exif_time_utc(value: datetime | None) -> datetime | None:
    """EXIF times are the camera's local clock: on a phone in China, China time."""
    return value - CHINA_OFFSET if value else None


def _km(metres: float) -> str:
    return f"{metres / 1000:.1f}公里" if metres >= 1000 else f"{metres:.0f}米"


def item_views(visit: Visit, photos: list[PhotoView], review: Review | None) -> list[ItemView]:
    """Every item of the visit's checklist in order, with what was recorded."""
    results = {r.item_id: r for r in db.session.scalars(select(ItemResult).where(ItemResult.visit_id == visit.id))}
    history: dict[str, list[ResultWrite]] = {}
    writes = select(ResultWrite).where(ResultWrite.visit_id == visit.id).order_by(ResultWrite.received_at)
    for write in db.session.scalars(writes):
        history.setdefault(write.item_id, []).append(write)
    comments = {c.item_id: c.comment for c in review.comments} if review else {}
    by_item: dict[str | None, list[PhotoView]] = {}
    for view in photos:
        by_item.setdefault(view.photo.item_id, []).append(view)
    rows = []
    for section in visit.checklist_version.content["sections"]:
        for item in section["items"]:
            result = results.get(item["id"])
            code = (result.outcome or "recorded") if result else "unchecked"
            rows.append(
                ItemView(
                    item=item,
                    section_title=section["title"],
                    result=result,
                    threshold=threshold_text(item["check"]),
                    value=value_text(item["check"], result.value) if result else "",
                    outcome=code,
                    outcome_label=outcome_label(code),
                    symbol=outcome_symbol(code),
                    photos=by_item.get(item["id"], []),
                    comment=comments.get(item["id"], ""),
                    history=history.get(item["id"], []),
                )
            )
    return rows


def document_number(visit: Visit) -> str:
    """The report's 文号, e.g. 贺兰督〔2026〕7号: the visit's place among the county's visits of that year.

    Visits are numbered by day and id among those recorded (not planned), so a report printed twice
    carries the same number.
    """
    year = visit.visited_on.year
    earlier = db.session.scalar(
        select(func.count()).where(
            Visit.county_id == visit.county_id,
            Visit.state != "planned",
            Visit.visited_on.between(date(year, 1, 1), date(year, 12, 31)),
            (Visit.visited_on < visit.visited_on) | ((Visit.visited_on == visit.visited_on) & (Visit.id <= visit.id)),
        )
    )
    short = visit.school.county.name.removesuffix("县").removesuffix("市").removesuffix("区")[:4]
    return f"{short}督〔{year}〕{earlier or 1}号"


def visit_evidence(visit: Visit) -> dict[str, Any]:
    """Everything the visit page and the printed report need."""
    photos = list(
        db.session.scalars(
            select(Photo).where(Photo.visit_id == visit.id, Photo.deleted_at.is_(None)).order_by(Photo.created_at)
        )
    )
    views = photo_views(visit, photos)
    reviews = list(db.session.scalars(select(Review).where(Review.visit_id == visit.id).order_by(Review.id)))
    latest = reviews[-1] if reviews else None
    items = item_views(visit, views, latest)
    tasks = list(
        db.session.scalars(
            select(RectificationTask).where(RectificationTask.visit_id == visit.id).order_by(RectificationTask.id)
        )
    )
    rechecked = list(
        db.session.scalars(
            select(RectificationTask)
            .where(
                RectificationTask.id.in_(select(TaskUpdate.task_id).where(TaskUpdate.visit_id == visit.id)),
                RectificationTask.visit_id != visit.id,
            )
            .order_by(RectificationTask.id)
        )
    )
    counts = {code: sum(1 for i in items if i.outcome == code) for code in ("pass", "fail", "na", "unchecked")}
    distances = [v.distance_m for v in views if v.distance_m is not None]
    pack = visit.checklist_version.content.get("pack", {})
    return {
        # A draft pack (征求意见稿) is marked on the page and in the report.
        "draft": pack.get("status") == "draft",
        "expired_count": sum(1 for row in items if row.item.get("status") == "expired"),
        "items": items,
        "item_titles": {row.item["id"]: row.item["title"] for row in items},
        "failed": [i for i in items if i.outcome == "fail"],
        "attention": [i for i in items if i.needs_attention],
        "rechecked_tasks": rechecked,
        "photos": views,
        "loose_photos": [v for v in views if not v.photo.item_id],
        "flagged": [v for v in views if v.flags],
        "max_distance": max(distances) if distances else None,
        "located": len(distances),
        "reviews": reviews,
        "latest_review": latest,
        "tasks": tasks,
        "counts": counts,
        "doc_no": document_number(visit),
        "write_count": db.session.scalar(select(func.count()).where(ResultWrite.visit_id == visit.id)) or 0,
    }
