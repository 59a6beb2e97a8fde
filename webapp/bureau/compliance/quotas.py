"""教研员 quota standing for the term summary, from the lesson log (issue 4) when it is installed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...core.models import County, Term

#: Standing states the 教研 page marks in red; 进度正常 is not lagging even while the count is short.
LAGGING = ("behind", "short")


@dataclass
class QuotaTable:
    """Quota items (columns) and, per 教研员, the standing on each."""

    rules: list[Any]
    rows: list[tuple[str, list[Any]]]

    @property
    def behind(self) -> int:
        """How many 教研员 are behind pace or short on at least one quota (as the 教研 page judges them)."""
        return sum(1 for _, standings in self.rows if any(s.state in LAGGING for s in standings))


def standing_for(county: County, term: Term) -> QuotaTable | None:
    """Each 教研员's standing on the county's quotas this term; None without the lesson log."""
    try:
        from ...lessons.progress import quota_context, researchers_of, standings_for
    except ImportError:
        return None
    context = quota_context(county, term)
    people = researchers_of(county.id)
    standings = standings_for(context, [user.id for user, _ in people])
    rows = [(user.display_name, standings.get(user.id, [])) for user, _ in people]
    return QuotaTable(rules=[rule for rule, _ in context.rules], rows=rows)
