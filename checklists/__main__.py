"""``python -m checklists [FILE ...]``: validate pack files without the web app.

``python -m checklists counts``: write the scope-count table (checklists/scope_counts.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

from .loader import PACKS_DIR, PackError, load_pack, load_packs


def counts() -> int:
    """Regenerate checklists/scope_counts.md from the packs."""
    from .counts import SCOPE_COUNTS, scope_counts_markdown

    try:
        packs = load_packs()
    except PackError as exc:
        print("\n".join(exc.problems))
        return 1
    SCOPE_COUNTS.write_text(scope_counts_markdown(packs), encoding="utf-8")
    print(f"wrote {SCOPE_COUNTS}")
    return 0


def main(argv: list[str]) -> int:
    """Validate the named pack files (default: all); print problems; return exit code."""
    if argv[:1] == ["counts"]:
        return counts()
    paths = [Path(a) for a in argv] or sorted(PACKS_DIR.glob("*.yaml"))
    failed = 0
    for path in paths:
        try:
            pack = load_pack(path)
        except PackError as exc:
            failed += 1
            print("\n".join(exc.problems))
            continue
        counts_text = ", ".join(f"{cl.id}={len(cl.items)}" for cl in pack.checklists)
        print(f"{path.name}: ok, {len(pack.items)} items ({counts_text})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
