"""``python -m benchmarks.lessons``: the bureau's 教研员 table as the records grow.

A county on the 贺兰 pack with 60 教研员 (three 包片 schools each, some assigned
mid-term), 120 schools and six terms; 2,000, 20,000 and 200,000 records spread
over the six terms. For each size it prints, one ``name: value unit`` a line:

- ``lessons_table_<db>_<n>``: the table's data (one SQL aggregate for every 教研员
  and quota, standings judged in Python), median of five runs;
- ``lessons_page_<db>_<n>``: the whole page over HTTP (test client, signed in as
  the county's 督导室), median of five runs;
- ``lessons_summary_xlsx_<db>_<n>``: the summary export.

On SQLite always; on PostgreSQL too when BENCH_DATABASE_URL (or TEST_DATABASE_URL)
points at one. It prints figures and asserts nothing.
"""

from __future__ import annotations

import os
import random
import uuid
from datetime import date, datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import delete, insert, select, text

from webapp.auth.models import User
from webapp.core.models import Assignment, County, School, Term
from webapp.extensions import db
from webapp.lessons.models import Activity, ResearcherProfile
from webapp.lessons.progress import quota_context, researchers_of
from webapp.lessons.views import bureau_rows, sort_rows

from .sync import PASSWORD, bench_app, emit, median_ms

SIZES = (2_000, 20_000, 200_000)
RESEARCHERS = 60
SCHOOLS = 120
TERMS = [
    ("2023-2024学年第二学期", "2023-2024", date(2024, 3, 1), date(2024, 7, 12)),
    ("2024-2025学年第一学期", "2024-2025", date(2024, 9, 1), date(2025, 1, 17)),
    ("2024-2025学年第二学期", "2024-2025", date(2025, 2, 24), date(2025, 7, 11)),
    ("2025-2026学年第一学期", "2025-2026", date(2025, 9, 1), date(2026, 1, 16)),
    ("2025-2026学年第二学期", "2025-2026", date(2026, 3, 2), date(2026, 7, 10)),
    ("2026-2027学年第一学期", "2026-2027", date(2026, 9, 1), date(2027, 1, 22)),
]
SUBJECTS = ("chinese", "math", "english", "science", "morality", "pe")


def _county(app: Flask) -> tuple[int, list[int], list[tuple[int, list[date]]]]:
    """The county, its 教研员 and the school days of each term."""
    with app.app_context():
        county = db.session.scalar(select(County))
        assert county is not None
        county.policy_set = "helan"
        schools = [
            School(
                county_id=county.id,
                code=f"L{n:03d}",
                name=f"基准乡村学校{n}",
                stage="primary" if n % 3 else "nine_year",
                location=("village", "town", "urban")[n % 3],
                group_name=f"第{n % 6 + 1}教育集团",
            )
            for n in range(SCHOOLS)
        ]
        db.session.add_all(schools)
        reviewer = User(username="bench_dds", display_name="督导室", role="reviewer", county_id=county.id)
        reviewer.set_password(PASSWORD)
        db.session.add(reviewer)
        db.session.add_all(
            Term(county_id=county.id, name=name, school_year=year, starts_on=start, ends_on=end)
            for name, year, start, end in TERMS
        )
        db.session.flush()
        researchers = []
        for n in range(RESEARCHERS):
            user = User(username=f"bench_jyy{n}", display_name=f"教研员{n:02d}", role="researcher", county_id=county.id)
            user.password_hash = reviewer.password_hash
            db.session.add(user)
            db.session.flush()
            db.session.add(ResearcherProfile(user_id=user.id, subject=SUBJECTS[n % len(SUBJECTS)]))
            # Every tenth 教研员 joined in the current term's second month.
            starts = date(2026, 10, 12) if n % 10 == 9 else date(2023, 9, 1)
            for k in range(3):
                school = schools[(n * 2 + k) % SCHOOLS]
                db.session.add(Assignment(user_id=user.id, school_id=school.id, kind="researcher", starts_on=starts))
            researchers.append(user.id)
        db.session.commit()
        days = [
            (t.id, [t.starts_on + timedelta(days=d) for d in range((t.ends_on - t.starts_on).days + 1)])
            for t in db.session.scalars(select(Term).order_by(Term.starts_on))
        ]
        school_ids = [s.id for s in schools]
        app.config["_bench_schools"] = school_ids
        return county.id, researchers, days


def _fill(app: Flask, county_id: int, researchers: list[int], days: list[tuple[int, list[date]]], n: int) -> None:
    """Replace the records with ``n`` new ones, spread over the terms and 教研员."""
    rng = random.Random(n)
    schools = app.config["_bench_schools"]
    edited = datetime(2026, 11, 1, 8)
    with app.app_context():
        db.session.execute(delete(Activity))
        rows: list[dict[str, Any]] = []
        for i in range(n):
            _, term_days = days[i % len(days)]
            researcher = researchers[rng.randrange(len(researchers))]
            index = researchers.index(researcher)
            own = schools[(index * 2 + rng.randrange(3)) % SCHOOLS]
            kind = "lesson" if rng.random() < 0.85 else rng.choice(("guidance", "guidance", "themed_research"))
            rows.append(
                {
                    "id": str(uuid.UUID(int=rng.getrandbits(128))),
                    "researcher_id": researcher,
                    "county_id": county_id,
                    "school_id": own if rng.random() < 0.9 else schools[rng.randrange(SCHOOLS)],
                    "kind": kind,
                    "form": "observe" if kind == "lesson" else "seminar",
                    "occurred_on": term_days[rng.randrange(len(term_days))],
                    "grade": "g4",
                    "class_name": "1班",
                    "subject": SUBJECTS[index % len(SUBJECTS)],
                    "teacher_name": "基准教师",
                    "topic": "基准课题",
                    "scores": {"goals": 4},
                    "strengths": "",
                    "suggestions": "",
                    "notes": "",
                    "write_id": str(uuid.UUID(int=rng.getrandbits(128))),
                    "edited_at": edited,
                    "device_id": "bench",
                }
            )
            if len(rows) == 5000:
                db.session.execute(insert(Activity), rows)
                rows = []
        if rows:
            db.session.execute(insert(Activity), rows)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE research_activities"))
            db.session.commit()


def run(database_url: str | None, label: str) -> None:
    """Build the county once, then time the table at each size."""
    with bench_app(database_url) as app:
        county_id, researchers, days = _county(app)
        client = app.test_client()
        client.post("/login", data={"username": "bench_dds", "password": PASSWORD})
        for n in SIZES:
            _fill(app, county_id, researchers, days, n)
            size = f"{n // 1000}k"

            def table() -> None:
                with app.app_context():
                    county = db.session.get(County, county_id)
                    assert county is not None
                    context = quota_context(county)
                    rows = sort_rows(bureau_rows(context, researchers_of(county_id)), "shortfall")
                    assert len(rows) == RESEARCHERS
                    db.session.remove()

            def page() -> None:
                response = client.get("/lessons/bureau", headers={"Accept-Encoding": "identity"})
                assert response.status_code == 200, response.status_code

            def summary() -> None:
                assert client.get("/lessons/bureau/export/summary.xlsx").status_code == 200

            emit(f"lessons_table_{label}_{size}", median_ms(table), "ms")
            emit(f"lessons_page_{label}_{size}", median_ms(page), "ms")
            emit(f"lessons_summary_xlsx_{label}_{size}", median_ms(summary, runs=3), "ms")


def main() -> None:
    """Print the figures on SQLite, then on PostgreSQL when one is configured."""
    run(None, "sqlite")
    pg = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if pg and pg.startswith("postgresql"):
        run(pg, "postgresql")


if __name__ == "__main__":
    main()
