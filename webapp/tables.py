"""Sortable, searchable tables: the sort and search arguments every list page reads the same way."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

#: Characters a search may not hold (control characters; user text is data everywhere).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_SEARCH = 64


@dataclass(frozen=True)
class Sort:
    """A column key and a direction, written ``school`` (ascending) or ``-school`` (descending) in the URL."""

    key: str
    descending: bool

    @property
    def arg(self) -> str:
        """The URL form."""
        return f"-{self.key}" if self.descending else self.key

    def toggled(self, key: str) -> str:
        """The URL form of a click on ``key``'s header: the other direction if it is the current one."""
        if key == self.key:
            return key if self.descending else f"-{key}"
        return key

    def aria(self, key: str) -> str | None:
        """``aria-sort`` for ``key``'s header."""
        if key != self.key:
            return None
        return "descending" if self.descending else "ascending"


def sort_from(args: Any, allowed: tuple[str, ...], default: str) -> Sort:
    """The ``sort`` argument if it names an allowed column, else ``default``."""
    raw = str(args.get("sort", "") or "")
    key = raw.removeprefix("-")
    if key not in allowed:
        raw = default
        key = raw.removeprefix("-")
    return Sort(key, raw.startswith("-"))


def search_from(args: Any) -> str:
    """The ``q`` argument, trimmed, without control characters, at most 64 characters."""
    return _CONTROL.sub("", str(args.get("q", "") or "")).strip()[:MAX_SEARCH]


def like(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, with ``%``, ``_`` and ``\\`` taken literally (escape ``\\``)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def page_from(args: Any) -> int:
    """The ``page`` argument (1 when absent or odd)."""
    try:
        return max(1, min(int(args.get("page", 1)), 100_000))
    except (TypeError, ValueError):
        return 1


def one_page(rows: list[Any], per_page: int) -> tuple[list[Any], bool]:
    """Cut rows fetched with ``limit(per_page + 1)`` to one page; tell whether another page follows."""
    return rows[:per_page], len(rows) > per_page


def url_state(sort: Sort, default_sort: str, **filters: str) -> dict[str, str]:
    """The table's state for its links: the filters that are set, and the sort when it is not the default."""
    args = {name: value for name, value in filters.items() if value}
    if sort.arg != default_sort:
        args["sort"] = sort.arg
    return args
