"""The seed policy documents and verbatim quote look-up.

The seed texts are kept in ``checklists/seeds/`` (copied from the project's
shared seeds) so that a fresh clone can verify every citation on its own.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

SEEDS_DIR = Path(__file__).with_name("seeds")
_WHITESPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Drop all whitespace, so quotes match across the documents' line breaks."""
    return _WHITESPACE.sub("", text)


@cache
def seed_text(file_name: str, seeds_dir: Path = SEEDS_DIR) -> str:
    """Return the raw text of a seed file; raise FileNotFoundError if absent."""
    path = seeds_dir / file_name
    if path.parent != seeds_dir or not path.is_file():
        raise FileNotFoundError(f"seed file not found: {file_name}")
    return path.read_text(encoding="utf-8")


@cache
def _normalized(file_name: str, seeds_dir: Path) -> str:
    return normalize(seed_text(file_name, seeds_dir))


def quote_occurs(file_name: str, quote: str, seeds_dir: Path = SEEDS_DIR) -> bool:
    """Tell whether ``quote`` stands verbatim (whitespace aside) in the seed."""
    needle = normalize(quote)
    return bool(needle) and needle in _normalized(file_name, seeds_dir)


def seed_files(seeds_dir: Path = SEEDS_DIR) -> list[str]:
    """List the seed file names."""
    return sorted(p.name for p in seeds_dir.glob("*.txt"))
