"""Phone sync time against the physical bound, for ``python -m benchmarks.sync`` (``phone`` part).

A signed-in inspector's phone (Chromium, 360 px, CPU slowed 4× by DevTools) holds a visit
of 36 answers and 10 photos (WebP at the phone's size, about 400 KB each) in its outbox,
queued offline through the app's own modules. Then the link comes up with DevTools network
throttling and the outbox syncs; the time from replay to an empty outbox is divided by the
physical bound: bytes sent ÷ uplink + one round trip.

- ``sync_time_ratio_fast3g``: 1.6 Mbps down / 750 kbps up / 150 ms;
- ``sync_time_ratio_rural4g``: 4 Mbps down / 1 Mbps up / 100 ms.

Bytes sent are counted at the server (request line, headers and body of every request in
the window). With ``BENCH_VERBOSE`` set, every request is printed with its time.
It prints figures and asserts nothing.
"""

from __future__ import annotations

import base64
import io
import os
import statistics
import threading
import time
import uuid
from typing import Any

#: name → (down bits/s, up bits/s, latency ms), as the issue defines them.
PROFILES = {
    "fast3g": (1_600_000, 750_000, 150),
    "rural4g": (4_000_000, 1_000_000, 100),
}
ANSWERS = 36
PHOTOS = 10


def phone_photos(count: int = PHOTOS) -> list[bytes]:
    """``count`` distinct WebP photos at 1600 px, as the phone keeps them (the camera-like scene, shifted)."""
    import numpy as np
    from PIL import Image

    from benchmarks import phone

    reference = np.asarray(phone.reference_1600(phone.camera_like_4000x3000()))
    photos = []
    for n in range(count):
        out = io.BytesIO()
        Image.fromarray(np.roll(reference, 37 * n, axis=1)).save(out, "WEBP", quality=80)
        photos.append(out.getvalue())
    return photos


def _request_bytes(environ: dict[str, Any]) -> int:
    """Bytes of a request as it crossed the link: request line, headers, body."""
    target = len(environ.get("PATH_INFO", "")) + len(environ.get("QUERY_STRING", ""))
    line = len(environ["REQUEST_METHOD"]) + target + 12
    headers = sum(len(k) - 5 + len(str(v)) + 4 for k, v in environ.items() if k.startswith("HTTP_"))
    headers += sum(len(str(environ.get(k, ""))) + 16 for k in ("CONTENT_TYPE", "CONTENT_LENGTH") if environ.get(k))
    return line + headers + 2 + int(environ.get("CONTENT_LENGTH") or 0)


SETUP = """async ([visit, items, photos]) => {
    const d = window.dudao;
    await d.ready;
    const vs = d.visitsSync;
    const device = d.state.deviceId;
    const header = { school_id: visit.school_id, checklist_version: visit.version, state: "in_progress",
                     device_id: device };
    await vs.saveVisitHeader({ id: visit.id, school_id: visit.school_id, checklist_version: visit.version,
                               state: "in_progress", started_at: new Date().toISOString() }, header);
    for (const item of items) {
        await vs.recordResult({ visit_id: visit.id, item_id: item.id, value: item.value, observation: "",
                                device_id: device });
    }
    for (const [n, b64] of photos.entries()) {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const blob = new Blob([bytes], { type: "image/webp" });
        const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
        const sha256 = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
        await vs.addPhoto({ id: crypto.randomUUID(), visit_id: visit.id, item_id: items[n % items.length].id, blob,
                            sha256, caption: "现场照片 " + (n + 1), captured_at: new Date().toISOString(),
                            width: 1600, height: 1200, byte_size: blob.size, device_id: device });
    }
    return (await d.outbox.entries()).length;
}"""

SYNC = """async () => {
    const d = window.dudao;
    const started = performance.now();
    d.replayNow();
    for (;;) {
        const left = await d.outbox.entries();
        if (!left.length && !d.outbox.state().running) break;
        if (left.some((e) => e.status === "failed")) return -1;
        await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return performance.now() - started;
}"""


def sync_once(app, password: str, chromium: str, profile: str, photos: list[bytes]) -> tuple[float, int, int]:  # noqa: ANN001
    """One sync of a fresh visit under ``profile``: (seconds, bytes up, requests)."""
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from benchmarks.sync import _client, _value

    down, up, latency = PROFILES[profile]
    with app.app_context():
        client = _client(app)
        school_id = app.config["_bench_school"]
        bundle = client.get(f"/api/v1/schools/{school_id}/bundle").get_json()
    items = [i for s in bundle["checklist"]["sections"] for i in s["items"]]
    answers = [{"id": item["id"], "value": _value(item, n)} for n, item in enumerate(items[:ANSWERS])]
    seen: list[tuple[float, str, str, int, int]] = []
    counting = {"on": False}

    def wsgi(environ, start_response):  # noqa: ANN001, ANN202
        begun = time.perf_counter()
        body = list(app(environ, start_response))
        if counting["on"]:
            path = environ["PATH_INFO"]
            seen.append((begun, environ["REQUEST_METHOD"], path, _request_bytes(environ), sum(len(b) for b in body)))
        return body

    server = make_server("127.0.0.1", 0, wsgi, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    visit = {"id": str(uuid.uuid4()), "school_id": school_id, "version": bundle["checklist"]["version"]}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
            context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, bypass_csp=True)
            page = context.new_page()
            page.goto(base + "/login")
            page.fill("#username", "bench")
            page.fill("#password", password)
            page.click("button[type=submit]")
            page.wait_for_load_state("networkidle")
            page.goto(base + "/inspect/")
            page.wait_for_function("window.dudao !== undefined")
            page.evaluate("window.dudao.ready")
            page.evaluate("window.dudao.outbox.checkSession()")  # the write token, as after any start online
            context.set_offline(True)
            encoded = [base64.b64encode(p).decode() for p in photos]
            page.evaluate(SETUP, [visit, answers, encoded])
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
            context.set_offline(False)
            cdp.send(
                "Network.emulateNetworkConditions",
                {"offline": False, "latency": latency, "downloadThroughput": down / 8, "uploadThroughput": up / 8},
            )
            counting["on"] = True
            ms = page.evaluate(SYNC)
            counting["on"] = False
            browser.close()
    finally:
        server.shutdown()
    if os.environ.get("BENCH_VERBOSE"):
        t0 = seen[0][0] if seen else 0
        for at, method, path, sent, got in seen:
            print(f"  {at - t0:7.3f}s {method:4} {sent:>7} → {got:>6} {path}")
    if ms < 0:
        raise RuntimeError("an entry was parked during the sync benchmark")
    return ms / 1000, sum(s for _, _, _, s, _ in seen), len(seen)


def sync_time_figures(emit, bench_app, password: str, chromium: str, runs: int = 1) -> None:  # noqa: ANN001
    """Print sync_time_ratio_<profile> (median of ``runs``) with its parts."""
    photos = phone_photos()
    emit("sync_photo_bytes", statistics.median(len(p) for p in photos), "B")
    for profile, (_, up, latency) in PROFILES.items():
        runs_seen = []
        for _ in range(runs):
            with bench_app(None) as app:
                seconds, sent, requests = sync_once(app, password, chromium, profile, photos)
            bound = sent * 8 / up + latency / 1000
            runs_seen.append((seconds / bound, seconds, bound, requests))
        ratio, seconds, bound, requests = sorted(runs_seen)[len(runs_seen) // 2]  # the median run
        emit(f"sync_time_{profile}", seconds, "s")
        emit(f"sync_bound_{profile}", bound, "s")
        emit(f"sync_requests_{profile}", requests, "requests")
        emit(f"sync_time_ratio_{profile}", ratio, f"(median of {runs})")
