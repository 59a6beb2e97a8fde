"""``python -m checklists [FILE ...]``: validate pack files without the web app."""

from __future__ import annotations

import sys
from pathlib import Path

from .loader import PACKS_DIR, PackError, load_pack


def main(argv: list[str]) -> int:
    """Validate the named pack files (default: all); print problems; return exit code."""
    paths = [Path(a) for a in argv] or sorted(PACKS_DIR.glob("*.yaml"))
    failed = 0
    for path in paths:
        try:
            pack = load_pack(path)
        except PackError as exc:
            failed += 1
            print("\n".join(exc.problems))
            continue
        counts = ", ".join(f"{cl.id}={len(cl.items)}" for cl in pack.checklists)
        print(f"{path.name}: ok, {len(pack.items)} items ({counts})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
