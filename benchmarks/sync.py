"""``python -m benchmarks.sync``: figures for the offline visit path, one ``name: value unit`` a line.

- app-shell bytes (gzip) a phone downloads to work offline (the service worker's precache list);
- photo bytes after the phone's resize of a 4000×3000 photo, in real Chromium, and the ratio;
- sync wire bytes for a visit of 60 items and 10 photos against the sum of the payloads;
- server ingest rate of item-result batches on SQLite and, when BENCH_DATABASE_URL (or
  TEST_DATABASE_URL) points at PostgreSQL, on PostgreSQL;
- under gunicorn on PostgreSQL (BENCH_DATABASE_URL): ``ingest_pg_16_clients``, ``cpu_per_visit_sync``
  and ``photo_put_server`` (see benchmarks/serving.py). ``python -m benchmarks.sync server`` prints only these;
- the phone's figures (benchmarks/phone.py, benchmarks/phone_sync.py): ``shell_gzip``, ``cold_load_requests``,
  ``photo_ratio``, ``photo_ssim``, ``sync_time_ratio_fast3g``, ``sync_time_ratio_rural4g``.
  ``python -m benchmarks.sync phone`` prints only these (``BENCH_RUNS=3`` for medians of 3).

It prints figures and asserts nothing: the targets are in the README.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask_migrate import upgrade
from PIL import Image
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from webapp import create_app
from webapp.auth.models import User
from webapp.core.models import Assignment, County, School
from webapp.extensions import db

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "bench-pass-1"


def emit(name: str, value: float, unit: str) -> None:
    """Print one figure."""
    shown = f"{value:.3f}" if isinstance(value, float) and not value.is_integer() else f"{int(value)}"
    print(f"{name}: {shown} {unit}", flush=True)


def median_ms(action: Callable[[], Any], runs: int = 5) -> float:
    """Median wall time of ``action`` in ms over ``runs`` calls, after one warm-up call (caches, pool, templates)."""
    action()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


@contextmanager
def bench_app(database_url: str | None) -> Iterator[Flask]:
    """An app on a fresh database (a private schema on PostgreSQL), migrated, with one inspector."""
    with tempfile.TemporaryDirectory() as tmp:
        schema = None
        if database_url and database_url.startswith("postgresql"):
            schema = f"dudao_bench_{uuid.uuid4().hex[:8]}"
            base = make_url(database_url).set(drivername="postgresql+psycopg")
            admin = create_engine(base)
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            url = base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
        else:
            url = f"sqlite:///{tmp}/bench.sqlite3"
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": "bench",
                "WTF_CSRF_ENABLED": False,
                "SESSION_COOKIE_SECURE": False,
                "STORAGE_DIR": f"{tmp}/photos",
            }
        )
        try:
            with app.app_context():
                upgrade()
                county = County(name="基准县", region="", policy_set="xiji")
                db.session.add(county)
                db.session.flush()
                school = School(
                    county_id=county.id,
                    code="B1",
                    name="基准学校",
                    stage="nine_year",
                    location="town",
                    is_boarding=True,
                )
                user = User(username="bench", display_name="基准", role="inspector", county_id=county.id)
                user.set_password(PASSWORD)
                db.session.add_all([school, user])
                db.session.flush()
                db.session.add(
                    Assignment(
                        user_id=user.id, school_id=school.id, kind="inspector", starts_on=datetime(2020, 1, 1).date()
                    )
                )
                db.session.commit()
                app.config["_bench_school"] = school.id
            yield app
        finally:
            with app.app_context():
                db.engine.dispose()
            if schema:
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()


def _client(app: Flask) -> Any:
    client = app.test_client()
    client.post("/login", data={"username": "bench", "password": PASSWORD})
    return client


def _value(item: dict[str, Any], n: int) -> dict[str, Any]:
    kind = item["check"]["type"]
    if kind in ("numeric", "percentage"):
        return {"number": 40 + n % 20}
    if kind == "count_per_period":
        return {"number": n % 5}
    if kind == "text":
        return {"text": "现场查看记录完整。"}
    return {"answer": "yes" if n % 3 else "no"}


def _writes(items: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    t0 = datetime(2026, 11, 20, 9, tzinfo=UTC)
    writes = []
    for n in range(count):
        item = items[n % len(items)]
        stamp = (t0 + timedelta(seconds=n)).isoformat().replace("+00:00", "Z")
        writes.append(
            {
                "id": str(uuid.uuid4()),
                "item_id": item["id"],
                "value": _value(item, n),
                "edited_at": stamp,
                "observation": "",
                "device_id": "bench",
            }
        )
    return writes


def _start(client: Any, school_id: int) -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
    bundle = client.get(f"/api/v1/schools/{school_id}/bundle").get_json()
    items = [i for s in bundle["checklist"]["sections"] for i in s["items"]]
    visit_id = str(uuid.uuid4())
    header = {
        "school_id": school_id,
        "checklist_version": bundle["checklist"]["version"],
        "state": "in_progress",
        "device_id": "bench",
    }
    client.put(f"/api/v1/visits/{visit_id}", json=header)
    return visit_id, items, header


def ingest_rate(database_url: str | None, visits: int = 40) -> float:
    """Visits per second: each visit a header PUT and one batch of 60 item results."""
    with bench_app(database_url) as app:
        client = _client(app)
        school_id = app.config["_bench_school"]
        bundle = client.get(f"/api/v1/schools/{school_id}/bundle").get_json()
        items = [i for s in bundle["checklist"]["sections"] for i in s["items"]]
        version = bundle["checklist"]["version"]
        started = time.perf_counter()
        for _ in range(visits):
            visit_id = str(uuid.uuid4())
            client.put(
                f"/api/v1/visits/{visit_id}",
                json={"school_id": school_id, "checklist_version": version, "state": "in_progress"},
            )
            response = client.post(f"/api/v1/visits/{visit_id}/results", json={"writes": _writes(items, 60)})
            assert response.status_code == 200, response.get_json()
        return visits / (time.perf_counter() - started)


def _photo_4000x3000() -> bytes:
    """A camera-like 12-megapixel JPEG: noise and gradients compress like a real scene."""
    base = Image.effect_noise((4000, 3000), 60).convert("RGB")
    gradient = Image.linear_gradient("L").resize((4000, 3000)).convert("RGB")
    image = Image.blend(base, gradient, 0.5)
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92, exif=exif.tobytes())
    return out.getvalue()


def wire_overhead(photos: list[bytes]) -> tuple[int, int]:
    """Bytes on the wire (request bodies and headers) vs the payloads (values and photo bytes)."""
    with bench_app(None) as app:
        client = _client(app)
        visit_id, items, header = _start(client, app.config["_bench_school"])
        writes = _writes(items, 60)
        payload = sum(len(json.dumps(w["value"], ensure_ascii=False).encode()) for w in writes)
        payload += sum(len(p) for p in photos)
        wire = 0
        batch = json.dumps({"writes": writes}, ensure_ascii=False, separators=(",", ":")).encode()
        response = client.post(f"/api/v1/visits/{visit_id}/results", data=batch, content_type="application/json")
        wire += len(batch) + _header_bytes(response.request.headers)
        for data in photos:
            photo_id = str(uuid.uuid4())
            form = {"sha256": hashlib.sha256(data).hexdigest(), "caption": "校门", "file": (io.BytesIO(data), "p.jpg")}
            response = client.put(
                f"/api/v1/visits/{visit_id}/photos/{photo_id}", data=form, content_type="multipart/form-data"
            )
            wire += int(response.request.headers.get("Content-Length", 0)) + _header_bytes(response.request.headers)
        declared = {
            "result_count": len({w["item_id"] for w in writes}),
            "photo_hashes": [hashlib.sha256(p).hexdigest() for p in photos],
        }
        body = json.dumps({**header, "state": "submitted", "declared": declared}, separators=(",", ":")).encode()
        response = client.put(f"/api/v1/visits/{visit_id}", data=body, content_type="application/json")
        wire += len(body) + _header_bytes(response.request.headers)
        return wire, payload


def _header_bytes(headers: Any) -> int:
    # Request line and headers as a browser sends them, cookie included.
    return 60 + sum(len(k) + len(v) + 4 for k, v in headers.items()) + 180


def shell_figures() -> dict[str, int]:
    """Gzip sizes (level 9) of what the service worker keeps on a phone.

    ``common``: what it precaches for every phone (the shell page, the manifest, the icon, the modules every
    role loads). Each role feature (``lessons``, ``school``: app.js FEATURES) adds its own modules, kept only
    on a phone of that role (webapp/visits/routes.py ``feature_entries``). ``phone`` is what one phone keeps
    at most: the common shell and the heaviest role's modules; ``all_roles`` is the sum of everything named
    in sw.js, which no phone downloads (the figure printed as ``shell_gzip`` until 2026-11-30).
    """
    from webapp.visits.routes import feature_entries, precache_urls

    with bench_app(None) as app:
        client = _client(app)

        def gzipped(urls: list[str]) -> int:
            total = 0
            for url in urls:
                response = client.get(url)
                if response.status_code == 200:
                    total += len(gzip.compress(response.get_data(), 9))
            return total

        with app.test_request_context():
            common_urls, features = precache_urls(), feature_entries()
        figures = {"common": gzipped(common_urls)}
        for entry, modules in features.items():
            name = entry.rsplit("/", 1)[1].removesuffix(".js")
            figures[name] = gzipped([entry, *(url for url, _ in modules if url != entry)])
        roles = [figures[name] for name in figures if name != "common"]
        figures["phone"] = figures["common"] + max(roles, default=0)
        figures["all_roles"] = figures["common"] + sum(roles)
        return figures


def emit_shell_figures() -> None:
    """``shell_gzip`` (what one phone keeps at most) and its parts."""
    figures = shell_figures()
    emit("shell_gzip", figures["phone"], "B")
    for name, value in figures.items():
        if name != "phone":
            emit(f"shell_gzip_{name}", value, "B")


def resize_in_chromium(original: bytes) -> bytes | None:
    """Run the phone's own resize code (webapp/static/inspect/photos.js) in Chromium."""
    if not Path(CHROMIUM).exists():
        return None
    from playwright.sync_api import sync_playwright

    with bench_app(None) as app, tempfile.TemporaryDirectory() as tmp:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        path = Path(tmp) / "photo.jpg"
        path.write_bytes(original)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{server.server_port}/login")
                page.set_content('<input type="file" id="f">')
                page.set_input_files("#f", str(path))
                base = f"http://127.0.0.1:{server.server_port}"
                data = page.evaluate(
                    """async (base) => {
                        const mod = await import(base + '/static/inspect/photos.js');
                        const file = document.getElementById('f').files[0];
                        const out = await mod.preparePhoto(file);
                        const buf = new Uint8Array(await out.blob.arrayBuffer());
                        return Array.from(buf);
                    }""",
                    base,
                )
                browser.close()
                return bytes(data)
        finally:
            server.shutdown()


def server_figures(database_url: str, runs: int = 3) -> None:
    """The gunicorn figures, each the median of ``runs`` runs: 16 clients' visit-syncs, CPU per visit-sync,
    photo PUT time. The load average is printed with them (other work on the machine slows the rates)."""
    from benchmarks import serving

    with bench_app(database_url) as app, tempfile.TemporaryDirectory() as tmp:
        env = {
            "DATABASE_URL": serving.with_app_name(app.config["SQLALCHEMY_DATABASE_URI"]),
            "DUDAO_SECRET_KEY": "bench-secret",
            "DUDAO_SESSION_COOKIE_SECURE": "false",
            "DUDAO_STORAGE_DIR": f"{tmp}/photos",
        }
        with serving.gunicorn(env) as (base, server), app.app_context():
            session = serving.signed_in_session(base, "bench", PASSWORD)
            school_id = app.config["_bench_school"]
            emit("load_average_before", os.getloadavg()[0], "(1-min load)")
            ingests = [serving.ingest(base, server.pid, session, school_id, clients=16, seconds=8) for _ in range(runs)]
            photos = [serving.photo_put_ms(base, session, school_id) for _ in range(runs)]

            def median(key: str) -> float:
                return statistics.median(run[key] for run in ingests)

            emit("ingest_pg_16_clients", median("rate"), "visit-syncs/s")
            emit("cpu_per_visit_sync", median("cpu_ms"), "ms")
            emit("cpu_per_visit_sync_app", median("app_ms"), "ms")
            emit("cpu_per_visit_sync_postgresql", median("pg_ms"), "ms")
            emit("cpu_per_visit_sync_clients", median("client_ms"), "ms")
            emit("photo_put_server", statistics.median(photos), "ms")
            emit("load_average_after", os.getloadavg()[0], "(1-min load)")


def main() -> None:
    """Print every figure (``server``: only the gunicorn ones; ``phone``: only the phone's)."""
    parser = argparse.ArgumentParser(description="Sync figures, one `name: value unit` a line.")
    parser.add_argument("only", nargs="?", choices=["server", "phone"], help="only the gunicorn or the phone figures")
    parser.add_argument("--runs", type=int, default=3, help="runs of each gunicorn figure (their median)")
    args = parser.parse_args()
    pg = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if args.only == "server":
        if not (pg and pg.startswith("postgresql")):
            raise SystemExit("set BENCH_DATABASE_URL to a PostgreSQL database")
        server_figures(pg, args.runs)
        return
    if args.only == "phone":
        phone_figures()
        return
    from benchmarks import phone

    emit_shell_figures()
    if Path(CHROMIUM).exists():
        with bench_app(None) as app:
            requests, revalidated, sent = phone.cold_load_requests(app, PASSWORD, CHROMIUM)
        emit("cold_load_requests", requests, "requests")
        emit("cold_load_revalidated", revalidated, "requests")
        emit("cold_load_body_bytes", sent, "B")
    original = _photo_4000x3000()
    emit("photo_original_bytes", len(original), "B")
    resized = resize_in_chromium(original)
    if resized is not None:
        image = Image.open(io.BytesIO(resized))
        emit("photo_resized_bytes", len(resized), "B")
        emit("photo_resized_long_edge", max(image.size), "px")
        emit("photo_size_ratio", len(original) / len(resized), "x")
    phone.photo_figures(emit, resize_in_chromium)
    from benchmarks import phone_sync

    phone_sync.sync_time_figures(emit, bench_app, PASSWORD, CHROMIUM)
    photos = [_variant(resized or original, n) for n in range(10)]
    wire, payload = wire_overhead(photos)
    emit("sync_payload_bytes", payload, "B")
    emit("sync_wire_bytes", wire, "B")
    emit("sync_wire_overhead", 100 * (wire / payload - 1), "%")
    emit("ingest_sqlite", ingest_rate(None), "visits/s")
    if pg and pg.startswith("postgresql"):
        emit("ingest_postgresql", ingest_rate(pg), "visits/s")
        server_figures(pg, args.runs)


def phone_figures() -> None:
    """The phone's figures: shell, cold load, photo size and quality, sync time against the bound."""
    from benchmarks import phone, phone_sync

    emit_shell_figures()
    if not Path(CHROMIUM).exists():
        return
    with bench_app(None) as app:
        requests, revalidated, sent = phone.cold_load_requests(app, PASSWORD, CHROMIUM)
    emit("cold_load_requests", requests, "requests")
    emit("cold_load_body_bytes", sent, "B")
    phone.photo_figures(emit, resize_in_chromium)
    phone_sync.sync_time_figures(emit, bench_app, PASSWORD, CHROMIUM, runs=int(os.environ.get("BENCH_RUNS", "1")))


def _variant(data: bytes, n: int) -> bytes:
    """The same photo made distinct (a JPEG comment), so ten uploads are ten photos."""
    return data[:2] + b"\xff\xfe\x00\x06" + f"{n:04d}".encode() + data[2:]


if __name__ == "__main__":
    main()
