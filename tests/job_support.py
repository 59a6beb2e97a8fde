"""A job for the worker tests: the real photo job, but the first attempt hangs (so it can be killed mid-job)."""

from __future__ import annotations

import time
from pathlib import Path

from webapp.jobs import derive_photo


def slow_derive(marker_dir: str, original_key: str, thumb_key: str, public_key: str | None) -> None:
    """Record each attempt; the first one sleeps (the test kills the worker then), later ones do the work."""
    markers = Path(marker_dir)
    attempt = len(list(markers.glob("attempt-*"))) + 1
    (markers / f"attempt-{attempt}").write_text("started")
    if attempt == 1:
        time.sleep(120)
    derive_photo(original_key, thumb_key, public_key)
    (markers / "done").write_text(str(attempt))
