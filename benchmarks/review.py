"""``python -m benchmarks.review``: the bureau's compliance matrix and visits list as results grow.

A county on the 西吉 pack with 500 schools, six terms and 20 inspectors; visits of 80 item
results each are added (bulk core inserts, COPY on PostgreSQL) to reach 10k, 100k and 1M item
results (1M: 12,500 visits, about four per school per term). After each step it prints, one
``name: value unit`` a line, the median of several requests over HTTP (test client, signed in
as the county's 督导室, whole page rendered):

- ``review_matrix_<db>_<n>``: the matrix of 校园安全 (11 items × 500 schools) for the fullest term;
- ``review_visits_<db>_<n>``: the visits list, first page, that term;
- ``review_visits_failed_<db>_<n>``: the list of every term's visits with failed items;
- ``review_visits_deep_<db>_<n>``: page 21 of the list (keyset cursor);
- ``review_fill_<db>_<n>``: seconds spent inserting the step's rows.

On PostgreSQL when BENCH_DATABASE_URL (or TEST_DATABASE_URL) points at one, else on SQLite;
``--sqlite`` forces SQLite, ``--sizes 10000,100000`` picks sizes. Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import insert, select, text

from checklists.generator import compose
from webapp.auth.models import User
from webapp.bureau.rectification.models import RectificationTask
from webapp.core.models import County, School, Term
from webapp.extensions import db
from webapp.packs.operations import packs, school_profile, store_version
from webapp.timeutil import today_in_china
from webapp.visits.models import ItemResult, Visit

from .sync import PASSWORD, bench_app, emit, median_ms

SIZES = (10_000, 100_000, 1_000_000)
SCHOOLS = 500
TERMS = 6
INSPECTORS = 20
ITEMS_PER_VISIT = 80
TERM_DAYS = 140
CHUNK_VISITS = 1000
RESULT_COLUMNS = (
    "visit_id",
    "item_id",
    "write_id",
    "value",
    "number_value",
    "outcome",
    "observation",
    "edited_at",
    "device_id",
    "updated_at",
)


class World:
    """Ids the fill and the requests need."""

    def __init__(
        self,
        county_id: int,
        schools: list[int],
        inspectors: list[int],
        reviewer: int,
        terms: list[tuple[int, date]],
        version: str,
        items: list[dict[str, Any]],
    ):
        self.county_id = county_id
        self.schools = schools
        self.inspectors = inspectors
        self.reviewer = reviewer
        self.terms = terms
        self.version = version
        self.items = items
        self.visits = 0


def build(app: Flask) -> World:
    """The county, its schools, terms, people and the checklist version every visit uses."""
    with app.app_context():
        county = db.session.scalar(select(County))
        assert county is not None
        today = today_in_china()
        terms = []
        for n in range(TERMS):
            start = today - timedelta(days=70 + 182 * n)
            term = Term(
                county_id=county.id,
                name=f"基准学期{n}",
                school_year=str(2026 - n),
                starts_on=start,
                ends_on=start + timedelta(days=TERM_DAYS),
            )
            db.session.add(term)
            terms.append(term)
        schools = [
            School(
                county_id=county.id,
                code=f"R{n:03d}",
                name=f"基准学校{n:03d}",
                stage="primary",
                location="town",
                latitude=35.9,
                longitude=105.7,
            )
            for n in range(SCHOOLS)
        ]
        db.session.add_all(schools)
        reviewer = User(username="bench_dds", display_name="督导室", role="reviewer", county_id=county.id)
        reviewer.set_password(PASSWORD)
        db.session.add(reviewer)
        inspectors = []
        for n in range(INSPECTORS):
            user = User(username=f"bench_dx{n}", display_name=f"督学{n:02d}", role="inspector", county_id=county.id)
            user.password_hash = reviewer.password_hash
            inspectors.append(user)
        db.session.add_all(inspectors)
        db.session.flush()
        version = store_version(compose(packs()["xiji"], school_profile(schools[0]), "routine"))
        items = [i for s in version.content["sections"] for i in s["items"]]
        extra = [{"id": f"bench.extra.{k}", "check": {"type": "yes_no"}} for k in range(ITEMS_PER_VISIT - len(items))]
        db.session.commit()
        return World(
            county.id,
            [s.id for s in schools],
            [u.id for u in inspectors],
            reviewer.id,
            [(t.id, t.starts_on) for t in terms],
            version.id,
            (items + extra)[:ITEMS_PER_VISIT],
        )


def _value(item: dict[str, Any], rng: random.Random) -> tuple[str, float | None, str]:
    kind = item["check"]["type"]
    if kind in ("numeric", "percentage", "count_per_period"):
        number = float(rng.randint(38, 54))
        limit = item["check"].get("value") or item["check"].get("count") or 45
        return json.dumps({"number": number}), number, "pass" if number <= limit else "fail"
    roll = rng.random()
    answer, outcome = ("no", "fail") if roll < 0.06 else (("na", "na") if roll < 0.08 else ("yes", "pass"))
    return json.dumps({"answer": answer}), None, outcome


def _visit_rows(world: World, start: int, stop: int, rng: random.Random) -> Iterator[tuple[dict[str, Any], int]]:
    """Visit number ``k`` goes to school ``k % 500`` in term ``(k // 500) % 6``: every term fills up evenly."""
    for k in range(start, stop):
        term_id, starts_on = world.terms[(k // SCHOOLS) % TERMS]
        day = starts_on + timedelta(days=rng.randrange(TERM_DAYS))
        begin = datetime.combine(day, datetime.min.time()) + timedelta(hours=1, minutes=rng.randrange(120))
        roll = rng.random()
        state = "accepted" if roll < 0.8 else ("submitted" if roll < 0.95 else "returned")
        yield (
            {
                "id": str(uuid.UUID(int=rng.getrandbits(128))),
                "school_id": world.schools[k % SCHOOLS],
                "county_id": world.county_id,
                "inspector_id": world.inspectors[k % INSPECTORS],
                "checklist_version_id": world.version,
                "visit_type": "routine",
                "state": state,
                "planned_on": None,
                "started_at": begin,
                "first_recorded_at": begin,
                "last_recorded_at": begin + timedelta(hours=2),
                "submitted_at": begin + timedelta(hours=2, minutes=20),
                "visited_on": day,
                "review_round": 0,
                "failed_count": 0,
                "summary": "",
                "declared_result_count": ITEMS_PER_VISIT,
                "declared_photo_hashes": [],
                "is_fully_received": True,
                "device_id": "bench",
                "created_at": begin,
                "updated_at": begin,
            },
            term_id,
        )


def fill(app: Flask, world: World, results: int) -> float:
    """Add visits (and their results) until the database holds ``results`` item results; return seconds taken."""
    target = results // ITEMS_PER_VISIT
    rng = random.Random(target)
    started = time.perf_counter()
    with app.app_context():
        visits = list(_visit_rows(world, world.visits, target, rng))
        for chunk in range(0, len(visits), CHUNK_VISITS):
            _insert_chunk(world, [v for v, _ in visits[chunk : chunk + CHUNK_VISITS]], rng)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE visits; ANALYZE item_results; ANALYZE rectification_tasks"))
        else:
            db.session.execute(text("ANALYZE"))
        db.session.commit()
    world.visits = target
    return time.perf_counter() - started


def _insert_chunk(world: World, visits: list[dict[str, Any]], rng: random.Random) -> None:
    """Insert some visits, their 80 results each (COPY on PostgreSQL) and tasks for some failures."""
    rows, tasks = [], []
    for visit in visits:
        for n, item in enumerate(world.items):
            value, number, outcome = _value(item, rng)
            edited = visit["first_recorded_at"] + timedelta(minutes=n)
            write_id = str(uuid.UUID(int=rng.getrandbits(128)))
            rows.append((visit["id"], item["id"], write_id, value, number, outcome, "", edited, "bench", edited))
            if outcome == "fail" and visit["state"] == "accepted" and rng.random() < 0.3:
                tasks.append(_task(world, visit, item, rng))
    failed: dict[str, int] = {}
    for row in rows:
        if row[5] == "fail":
            failed[row[0]] = failed.get(row[0], 0) + 1
    db.session.execute(insert(Visit), [{**v, "failed_count": failed.get(v["id"], 0)} for v in visits])
    _copy_results(rows)
    if tasks:
        db.session.execute(insert(RectificationTask), tasks)


def _task(world: World, visit: dict[str, Any], item: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    opened = visit["submitted_at"] + timedelta(days=1)
    return {
        "county_id": world.county_id,
        "school_id": visit["school_id"],
        "visit_id": visit["id"],
        "item_id": item["id"],
        "concept": item.get("concept", ""),
        "section_id": "campus_safety",
        "item_title": item.get("title", item["id"])[:200],
        "problem": "基准问题",
        "deadline": opened.date(),
        "responsible_person": "校长",
        "state": rng.choice(("open", "requested", "closed")),
        "opened_by_id": world.reviewer,
        "opened_at": opened,
        "updated_at": opened,
    }


def _copy_results(rows: list[tuple[Any, ...]]) -> None:
    """COPY on PostgreSQL; executemany of core inserts on SQLite."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(f"COPY item_results ({', '.join(RESULT_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    for chunk in range(0, len(rows), 20_000):
        batch = [dict(zip(RESULT_COLUMNS, row, strict=True)) for row in rows[chunk : chunk + 20_000]]
        for entry in batch:
            entry["value"] = json.loads(entry["value"])
        db.session.execute(insert(ItemResult), batch)


def _deep_cursor(app: Flask, world: World, term_id: int, page: int) -> str:
    with app.app_context():
        term = db.session.get(Term, term_id)
        row = db.session.execute(
            select(Visit.visited_on, Visit.id)
            .where(
                Visit.county_id == world.county_id,
                Visit.state != "planned",
                Visit.visited_on.between(term.starts_on, term.ends_on),
            )
            .order_by(Visit.visited_on.desc(), Visit.id.desc())
            .offset(page * 25 - 1)
            .limit(1)
        ).first()
        return f"{row[0].isoformat()}_{row[1]}" if row else ""


def run(database_url: str | None, label: str, sizes: tuple[int, ...], runs: int) -> None:
    """Build the county once, then grow the results and time the pages at each size."""
    with bench_app(database_url) as app:
        world = build(app)
        client = app.test_client()
        client.post("/login", data={"username": "bench_dds", "password": PASSWORD})
        term = world.terms[0][0]
        headers = {"Accept-Encoding": "identity"}

        def get(path: str) -> Callable[[], None]:
            def request() -> None:
                response = client.get(path, headers=headers)
                assert response.status_code == 200, (path, response.status_code)

            return request

        for size in sizes:
            seconds = fill(app, world, size)
            name = f"{size // 1_000_000}M" if size >= 1_000_000 else f"{size // 1000}k"
            emit(f"review_fill_{label}_{name}", seconds, "s")
            emit(
                f"review_matrix_{label}_{name}",
                median_ms(get(f"/bureau/matrix?term={term}&checklist=campus_safety"), runs),
                "ms",
            )
            emit(f"review_visits_{label}_{name}", median_ms(get(f"/bureau/visits?term={term}"), runs), "ms")
            emit(
                f"review_visits_failed_{label}_{name}",
                median_ms(get("/bureau/visits?term=&failed=1"), runs),
                "ms",
            )
            cursor = _deep_cursor(app, world, term, 20)
            if cursor:
                deep = get(f"/bureau/visits?term={term}&after={cursor}")
                emit(f"review_visits_deep_{label}_{name}", median_ms(deep, runs), "ms")


def main() -> None:
    """Print the figures on PostgreSQL when one is configured, else on SQLite."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--sqlite", action="store_true", help="use SQLite even if PostgreSQL is configured")
    args = parser.parse_args()
    sizes = tuple(int(s) for s in args.sizes.split(","))
    pg = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if pg and pg.startswith("postgresql") and not args.sqlite:
        run(pg, "postgresql", sizes, args.runs)
    else:
        run(None, "sqlite", sizes, args.runs)


if __name__ == "__main__":
    main()
