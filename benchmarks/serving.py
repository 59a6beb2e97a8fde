"""Serving benchmarks: the app under gunicorn (``gunicorn.conf.py``) on PostgreSQL, driven over real HTTP.

- ``ingest_pg_16_clients``: visit-syncs per second from 16 concurrent clients. A visit-sync is a visit
  header, 60 item writes and the submit, sent as the phone's outbox sends a visit recorded offline: all
  three in one ``POST /api/v1/sync`` (the server holds the submit back if a write before it is refused); a
  server without the batch endpoint gets the three single-entry requests, so the same script measures a
  server from before it.
- ``cpu_per_visit_sync``: CPU of the gunicorn processes and of the PostgreSQL backends serving them
  (user + system from /proc), per visit-sync, over the same run. The clients' own CPU is printed apart.
- ``photo_put_server``: median time of one upload of a 400 KB phone photo (no metadata), one client.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from PIL import Image
from sqlalchemy import text
from sqlalchemy.engine import make_url
from urllib3 import encode_multipart_formdata

import webapp
from webapp.extensions import db

REPO = Path(webapp.__file__).resolve().parents[1]
CONFIG = Path(__file__).resolve().parents[1] / "gunicorn.conf.py"
#: Unique per benchmark process: another run on the same PostgreSQL (a colleague's branch) is not counted.
APP_NAME = f"dudao-bench-{os.getpid()}"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(base: str, process: subprocess.Popen, seconds: float = 60) -> None:
    """Wait until the server answers its login page."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if requests.get(base + "/login", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("gunicorn did not start")
        time.sleep(0.2)


@contextmanager
def gunicorn(
    env: dict[str, str], workers: int | None = None, threads: int | None = None, wait: bool = True
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Run ``wsgi:app`` under gunicorn with the repository's config; yield (base URL, process).

    Workers and threads are the config's own unless given. ``wait=False`` returns at once (start
    several, then :func:`wait_ready` each).
    """
    port = free_port()
    full_env = {**os.environ, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_LOGLEVEL": "warning"}
    for name in ("WEB_CONCURRENCY", "GUNICORN_THREADS"):
        full_env.pop(name, None)
    if workers is not None:
        full_env["WEB_CONCURRENCY"] = str(workers)
    if threads is not None:
        full_env["GUNICORN_THREADS"] = str(threads)
    full_env.update(env)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(CONFIG), "wsgi:app"], cwd=REPO, env=full_env
    )
    base = f"http://127.0.0.1:{port}"
    try:
        if wait:
            wait_ready(base, process)
        yield base, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of the given processes (gone ones count 0)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def process_tree(root: int) -> list[int]:
    """``root`` and its children (gunicorn's workers)."""
    pids = [root]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == root:
                pids.append(int(entry.name))
    return pids


def signed_in_session(base: str, username: str, password: str) -> requests.Session:
    """Sign in through the login form; the session carries the API's CSRF header."""
    session = requests.Session()
    page = session.get(base + "/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    data = {"username": username, "password": password, **({"csrf_token": token.group(1)} if token else {})}
    session.post(base + "/login", data=data, allow_redirects=False)
    session.headers["X-CSRFToken"] = session.get(base + "/api/v1/me").json()["csrf_token"]
    return session


def _writes(items: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    t0 = datetime(2026, 11, 20, 9, tzinfo=UTC)
    out = []
    for n in range(count):
        item = items[n % len(items)]
        kind = item["check"]["type"]
        if kind in ("numeric", "percentage"):
            value: dict[str, Any] = {"number": 40 + n % 20}
        elif kind == "count_per_period":
            value = {"number": n % 5}
        elif kind == "text":
            value = {"text": "现场查看记录完整。"}
        else:
            value = {"answer": "yes" if n % 3 else "no"}
        stamp = (t0 + timedelta(seconds=n)).isoformat().replace("+00:00", "Z")
        out.append({"id": str(uuid.uuid4()), "item_id": item["id"], "value": value, "edited_at": stamp})
    return out


class VisitSyncer:
    """Sends visit-syncs the way the phone's outbox does after a visit recorded offline.

    A visit-sync is the visit header, 60 item writes and the submit. The outbox sends all three in one
    ``POST /api/v1/sync`` (the server answers 424 for a submit after a refused write of its visit, and the
    phone keeps it). A server without the batch endpoint gets the single-entry requests instead (so the
    script also measures a server from before it).
    The bodies are made once and only their ids change per visit-sync, so the clients (which share the
    server's cores) cost little.
    """

    VISIT = "@@visit@@"
    WRITE = "@@write@@-"

    def __init__(self, base: str, session: requests.Session, school_id: int):
        self.base = base
        bundle = session.get(f"{base}/api/v1/schools/{school_id}/bundle").json()
        self.items = [i for s in bundle["checklist"]["sections"] for i in s["items"]]
        self.header = {"school_id": school_id, "checklist_version": bundle["checklist"]["version"]}
        probe = session.post(f"{base}/api/v1/sync", json={"entries": []})
        self.batched = probe.status_code != 404
        header = {**self.header, "state": "in_progress", "device_id": "bench"}
        writes = _writes(self.items, 60)
        for n, write in enumerate(writes):
            write["id"] = f"{self.WRITE}{n:012x}"
        submit = {
            **header,
            "state": "submitted",
            "submitted_at": "2026-11-20T10:00:00Z",
            "declared": {"result_count": len({w["item_id"] for w in writes}), "photo_hashes": []},
        }
        self.bodies = [
            ("PUT", f"/api/v1/visits/{self.VISIT}", json.dumps(header)),
            ("POST", f"/api/v1/visits/{self.VISIT}/results", json.dumps({"writes": writes})),
            ("PUT", f"/api/v1/visits/{self.VISIT}", json.dumps(submit)),
        ]
        if self.batched:
            entries = [
                {"id": "1", "kind": "visit_put", "target": self.VISIT, "body": header},
                {"id": "2", "kind": "results_post", "target": self.VISIT, "body": {"writes": writes}},
                {"id": "3", "kind": "visit_put", "target": self.VISIT, "body": submit},
            ]
            self.bodies = [("POST", "/api/v1/sync", json.dumps({"entries": entries}))]

    def requests_for(self) -> list[tuple[str, str, bytes]]:
        """One visit-sync's requests (method, path, body) with fresh ids."""
        visit_id = str(uuid.uuid4())
        prefix = str(uuid.uuid4())[:24]  # a write id is this and 12 hex digits: unique per visit-sync
        out = []
        for method, path, body in self.bodies:
            body = body.replace(self.VISIT, visit_id).replace(self.WRITE, prefix)
            out.append((method, path.replace(self.VISIT, visit_id), body.encode()))
        return out

    def sync(self, client: HttpClient) -> None:
        """One visit-sync (raises if the server refuses any of it)."""
        for method, path, body in self.requests_for():
            status, answer = client.send(method, path, body)
            if status >= 300:
                raise RuntimeError(f"{method} {path}: {status} {answer[:300]!r}")
            if self.batched and any(e["status"] >= 300 for e in json.loads(answer)["entries"]):
                raise RuntimeError(f"an entry was refused: {answer[:300]!r}")


class HttpClient:
    """One phone: a kept-alive HTTP connection with the session cookie and CSRF header (cheaper than requests)."""

    def __init__(self, base: str, session: requests.Session):
        self.host, port = base.removeprefix("http://").split(":")
        self.port = int(port)
        self.headers = {
            "Content-Type": "application/json",
            "X-CSRFToken": session.headers["X-CSRFToken"],
            "Cookie": "; ".join(f"{c.name}={c.value}" for c in session.cookies),
        }
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def send(self, method: str, path: str, body: bytes) -> tuple[int, bytes]:
        """Send one request; answer (status, body). A connection the server closed is opened again once."""
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body=body, headers=self.headers)
                response = self.connection.getresponse()
                return response.status, response.read()
            except (http.client.HTTPException, ConnectionError):
                self.connection.close()
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def pg_backends() -> list[int]:
    """Pids of the PostgreSQL backends the benchmark's app holds."""
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT pid FROM pg_stat_activity WHERE application_name = :n"), {"n": APP_NAME})
        return [row.pid for row in rows]


def with_app_name(url: str) -> str:
    """The database URL with ``application_name`` set, to find its backends."""
    return make_url(url).update_query_dict({"application_name": APP_NAME}).render_as_string(hide_password=False)


def ingest(base: str, master: int, session: requests.Session, school_id: int, clients: int, seconds: float) -> dict:
    """Run ``clients`` threads of visit-syncs for ``seconds``; count them and the CPU they cost.

    CPU is user + system time from /proc of the gunicorn master and workers and of the PostgreSQL backends
    serving them, before and after the run: other work on the machine slows the rate but hardly this.
    """
    syncer = VisitSyncer(base, session, school_id)
    phones = [HttpClient(base, session) for _ in range(clients)]
    for phone in phones:
        syncer.sync(phone)  # warm: connections, pools, caches
    done = [0] * clients
    errors: list[BaseException] = []
    start = threading.Barrier(clients + 1)
    stop = threading.Event()

    def run(n: int) -> None:
        start.wait()
        try:
            while not stop.is_set():
                syncer.sync(phones[n])
                done[n] += 1
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    app_pids = process_tree(master)
    backends = pg_backends()
    cpu_before = cpu_seconds(app_pids), cpu_seconds(backends), time.process_time()
    start.wait()
    began = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    client_cpu = time.process_time() - cpu_before[2]
    backends_after = pg_backends()
    cpu_after = cpu_seconds(app_pids), cpu_seconds(backends_after)
    if errors:
        raise errors[0]
    total = sum(done)
    app_cpu = cpu_after[0] - cpu_before[0]
    # Backends opened during the run count in full (their whole life was in it).
    pg_cpu = cpu_after[1] - cpu_before[1]
    return {
        "rate": total / elapsed,
        "cpu_ms": 1000 * (app_cpu + pg_cpu) / max(total, 1),
        "app_ms": 1000 * app_cpu / max(total, 1),
        "pg_ms": 1000 * pg_cpu / max(total, 1),
        "client_ms": 1000 * client_cpu / max(total, 1),
        "batched": syncer.batched,
    }


def phone_photo(seed: int, target: int = 400_000) -> bytes:
    """A 1600 × 1200 JPEG of about ``target`` bytes, as the phone's resize makes it: no EXIF."""
    noise = Image.effect_noise((1600, 1200), 10 + seed % 3).convert("RGB")
    gradient = Image.linear_gradient("L").resize((1600, 1200)).convert("RGB")
    image = Image.blend(noise, gradient, 0.5)
    quality = 90
    while True:
        out = io.BytesIO()
        image.save(out, "JPEG", quality=quality)
        if out.tell() <= target * 1.05 or quality <= 40:
            return out.getvalue()
        quality -= 5


def photo_put_ms(base: str, session: requests.Session, school_id: int, uploads: int = 11) -> float:
    """Median ms of a photo PUT (server time: one client on the same host, the body encoded beforehand).

    In the embedded default the copies' job runs in the worker after the response is sent: the time
    stops at the response, and the pause between uploads lets the job finish before the next one.
    """
    syncer = VisitSyncer(base, session, school_id)
    visit_id = str(uuid.uuid4())
    header = {**syncer.header, "state": "in_progress"}
    session.put(f"{base}/api/v1/visits/{visit_id}", json=header).raise_for_status()
    client = HttpClient(base, session)
    times = []
    for n in range(uploads + 1):
        data = phone_photo(n)
        fields = {"sha256": hashlib.sha256(data).hexdigest(), "caption": "校门"}
        body, content_type = encode_multipart_formdata({**fields, "file": ("p.jpg", data, "image/jpeg")})
        client.headers["Content-Type"] = content_type
        began = time.perf_counter()
        status, answer = client.send("PUT", f"/api/v1/visits/{visit_id}/photos/{uuid.uuid4()}", body)
        took = (time.perf_counter() - began) * 1000
        if status >= 300:
            raise RuntimeError(f"photo PUT: {status} {answer[:300]!r}")
        if n:  # the first one warms up
            times.append(took)
        time.sleep(0.3)  # let the job of the previous photo finish: measure the request alone
    return statistics.median(times)
