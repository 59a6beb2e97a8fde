"""``python -m benchmarks.lighthouse``: Lighthouse 11 scores of the inspector's page, one ``name: value unit`` a line.

Performance depends on the machine (Lighthouse simulates a slow phone on whatever CPU it gets), so it is a figure
printed here, median of three mobile runs with the host's benchmark index beside it, never an assertion in the
suite. The suite (tests/test_lighthouse.py) uses the same runner to assert what does not depend on the CPU:
PWA installability and accessibility.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

LIGHTHOUSE = Path(__file__).resolve().parent.parent / "tools" / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"


class LighthouseError(RuntimeError):
    """Lighthouse did not produce a report."""


def run_lighthouse(
    url: str, cookie: str, out: Path, categories: tuple[str, ...], *, desktop: bool = False
) -> dict[str, Any]:
    """One Lighthouse run (mobile, or the desktop preset) on ``url`` signed in with ``cookie``; the parsed report."""
    command = [
        str(LIGHTHOUSE),
        url,
        "--preset=desktop" if desktop else "--form-factor=mobile",
        f"--only-categories={','.join(categories)}",
        "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
        f"--extra-headers={json.dumps({'Cookie': cookie})}",
        "--output=json",
        f"--output-path={out}",
        "--quiet",
    ]
    env = {**os.environ, "CHROME_PATH": CHROMIUM}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180, check=False)
    if done.returncode != 0 or not out.exists():
        raise LighthouseError(f"lighthouse failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(out.read_text())


def shortfalls(report: dict[str, Any], category: str) -> list[str]:
    """The audits that cost ``category`` points, one line each."""
    audits = report["audits"]
    lines = []
    for ref in report["categories"][category]["auditRefs"]:
        audit = audits[ref["id"]]
        if ref["weight"] and audit["score"] is not None and audit["score"] < 1:
            lines.append(f"  {ref['id']}: {audit['score']} {audit.get('displayValue', '')} — {audit['title']}")
    return lines


def main(runs: int = 3) -> None:
    """Serve a benchmark app, audit /inspect/ ``runs`` times and print the median scores."""
    from werkzeug.serving import make_server

    from .sync import _client, bench_app, emit

    if not LIGHTHOUSE.exists() or not Path(CHROMIUM).exists():
        print("lighthouse: skipped (run ./dev.sh test once to install Chromium and Lighthouse)")
        return
    categories = ("performance", "pwa", "accessibility")
    with bench_app(None) as app, tempfile.TemporaryDirectory() as tmp:
        cookie = _client(app).get_cookie("session")
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            url = f"http://127.0.0.1:{server.server_port}/inspect/"
            reports = [
                run_lighthouse(url, f"session={cookie.value}", Path(tmp) / f"{n}.json", categories) for n in range(runs)
            ]
        finally:
            server.shutdown()
    for name in categories:
        emit(
            f"lighthouse_{name}",
            round(100 * statistics.median(r["categories"][name]["score"] for r in reports)),
            f"score (median of {runs})",
        )
    emit(
        "lighthouse_host_benchmark_index",
        statistics.median(r["environment"]["benchmarkIndex"] for r in reports),
        "(below ~1000 the machine is busy)",
    )


if __name__ == "__main__":
    main()
