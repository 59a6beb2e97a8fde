"""Quota arithmetic for 教研员 activities: periods, what counts, and where a 教研员 stands.

No Flask and no database here: the app counts records in SQL (one aggregate
query per page) and hands the counts to :func:`standing`; :func:`tally` is the
same counting rule over records in memory, which the tests use to check the
SQL against and the phone mirrors offline.

Rules decided here (and shown to users):

- A term quota counts records dated within the term, both ends included.
  ``school_year`` spans the county's terms of that school year; ``year`` is
  the calendar year the term starts in; ``three_years`` is the cycle, anchored
  at the quota's ``cycle_from``, that contains the term's first day.
- With ``schools: assigned`` a record counts only at a school assigned (包片)
  to the 教研员 on the record's date, and only if the school fits the item's
  scope (``applies_to`` within its document's audience; a section such as
  ``primary`` reaches 九年一贯制 schools too); other records of the same kinds are counted apart (shown,
  never added to the quota).
- A 教研员 assigned for part of the period has the count prorated by the days
  assigned (rounded up): 15 a term for a half term is 8.
- A requirement whose document expired before the period began (贺兰's
  贺教发〔2023〕19号 runs to 2025-12-31) is still counted and shown, marked with
  its end date, until the county replaces it: the bureau decides whether the
  old standard still binds. One not yet in force for the period is left out.
- Records are locked once their term has ended: an edit made on the phone
  after the last day of the term that holds the record is refused.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from .due import setting_value as due_setting
from .model import AppliesTo, Item, Pack
from .vocabulary import ACTIVITY_FORMS, ACTIVITY_KINDS

#: Standing states and their Chinese names.
STATES: dict[str, str] = {
    "met": "已达标",
    "on_track": "进度正常",
    "behind": "进度落后",
    "short": "未达标",
    "upcoming": "未开始",
    "unassigned": "无包片学校",
}


@dataclass(frozen=True)
class Span:
    """Days from ``start`` to ``end``, both included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        """Number of days in the span (0 if it is empty)."""
        return max(0, (self.end - self.start).days + 1)

    def contains(self, day: date) -> bool:
        """Tell whether ``day`` is in the span."""
        return self.start <= day <= self.end

    def clip(self, other: Span) -> Span | None:
        """The part of ``other`` inside this span, or None."""
        start, end = max(self.start, other.start), min(self.end, other.end)
        return Span(start, end) if start <= end else None


@dataclass(frozen=True)
class TermDates:
    """A term of a county's calendar, as the arithmetic needs it."""

    name: str
    school_year: str
    starts_on: date
    ends_on: date

    @property
    def span(self) -> Span:
        """The term's days."""
        return Span(self.starts_on, self.ends_on)


@dataclass(frozen=True)
class QuotaRule:
    """A pack item with a ``quota`` block, flattened for counting."""

    item_id: str
    concept: str
    title: str
    count: int
    period: str
    unit: str
    who: str
    schools: str
    kinds: tuple[str, ...]
    forms: tuple[str, ...]
    applies_to: AppliesTo
    effective_from: date | None
    effective_until: date | None
    cycle_from: date | None
    doc_nos: tuple[str, ...]
    #: The item's own ``applies_to`` (None: the same as ``applies_to``). Only it keeps records
    #: made at no school from counting: a document addressing 义务教育 schools does not make a
    #: county-wide 主题教研 stop counting.
    narrowed_by: AppliesTo | None = None

    @property
    def kinds_label(self) -> str:
        """The counted kinds in Chinese (听评课、教研指导)."""
        return "、".join(ACTIVITY_KINDS[kind] for kind in self.kinds)

    @property
    def forms_label(self) -> str:
        """The counted forms in Chinese, or empty when every form counts."""
        labels = {form: label for kind in self.kinds for form, label in ACTIVITY_FORMS[kind].items()}
        return "、".join(labels[form] for form in self.forms)

    def counts_activity(self, kind: str, form: str) -> bool:
        """Tell whether a record of ``kind`` and ``form`` is of the counted sort."""
        return kind in self.kinds and (not self.forms or form in self.forms)

    def is_school_restricted(self) -> bool:
        """Whether only some schools count (assigned ones, or a profile the item itself names)."""
        applies = self.applies_to if self.narrowed_by is None else self.narrowed_by
        return self.schools == "assigned" or bool(applies.stages or applies.locations or applies.traits)


@dataclass(frozen=True)
class Window:
    """The period a quota is counted over, for one term."""

    span: Span
    label: str


@dataclass(frozen=True)
class Fact:
    """One activity record as the arithmetic sees it.

    ``school`` is (stage, location, is_boarding), or None for a record not at
    a school; ``is_assigned`` tells whether the school was the 教研员's on that day.
    """

    occurred_on: date
    kind: str
    form: str
    school: tuple[str, str, bool] | None
    is_assigned: bool


@dataclass(frozen=True)
class Tally:
    """Records that count toward a quota, and records of the same sort that do not."""

    counted: int
    apart: int


@dataclass(frozen=True)
class Posting:
    """A stretch of days a 教研员 was assigned a school of a given profile."""

    span: Span
    stage: str
    location: str
    is_boarding: bool


@dataclass(frozen=True)
class Standing:
    """Where one 教研员 stands on one quota."""

    rule: QuotaRule
    window: Window
    target: int
    done: int
    apart: int
    days_left: int
    state: str
    pace: str
    #: First day counted when the 教研员 was assigned for part of the period only.
    prorated_from: date | None
    is_expired: bool

    @property
    def remaining(self) -> int:
        """What is still missing (0 when met): the shortfall."""
        return max(0, self.target - self.done)

    @property
    def weeks_left(self) -> int:
        """Weeks left, rounded up."""
        return math.ceil(self.days_left / 7)

    @property
    def state_label(self) -> str:
        """The state in Chinese."""
        return STATES[self.state]

    @property
    def percent(self) -> int:
        """Done as a share of the target, 0–100 (100 when there is nothing to do)."""
        if self.target <= 0:
            return 100
        return min(100, round(100 * self.done / self.target))


@dataclass(frozen=True)
class Coverage:
    """Teachers of a school observed in a cycle."""

    total: int
    observed: int
    missing: tuple[str, ...]

    @property
    def share(self) -> float:
        """Observed teachers as a share of all (0.0 when the school lists none)."""
        return self.observed / self.total if self.total else 0.0


def _cycle_anchor(item: Item, pack: Pack, settings: Mapping[str, Any] | None) -> date | None:
    """Where the item's multi-year cycle starts for this county: the county setting its ``due`` names
    (``anchor_setting``, else the pack's default for it), so the phone's standing and the item's due date
    count the same cycle; None when the item names no setting or it holds no date."""
    due = item.due
    if due is None or due.kind != "cycle" or not due.anchor_setting:
        return None
    value, _ = due_setting(due.anchor_setting, pack.county_settings, settings or {})
    return value if isinstance(value, date) else None


def rules_of(pack: Pack | None, settings: Mapping[str, Any] | None = None) -> tuple[QuotaRule, ...]:
    """The quotas a pack declares (items with a ``quota`` block), in pack order.

    ``settings`` are the county's values of the pack's settings: a cycle anchored on one of them
    (西吉's teacher_cycle_anchor) starts where the county says.
    """
    if pack is None:
        return ()
    rules = []
    for item in pack.items:
        quota, check = item.quota, item.check
        if quota is None or check.type != "count_per_period" or check.count is None or check.period is None:
            continue
        rules.append(
            QuotaRule(
                item_id=item.id,
                concept=item.concept,
                title=item.title,
                count=check.count,
                period=check.period,
                unit=check.unit or "次",
                who=quota.who,
                schools=quota.schools,
                kinds=quota.kinds,
                forms=quota.forms,
                applies_to=item.scope,
                narrowed_by=item.applies_to,
                effective_from=item.effective_from,
                effective_until=item.effective_until,
                cycle_from=_cycle_anchor(item, pack, settings) or quota.cycle_from or item.effective_from,
                doc_nos=tuple(dict.fromkeys(source.doc_no for source in item.sources)),
            )
        )
    return tuple(rules)


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _school_year_span(school_year: str, terms: Sequence[TermDates]) -> Span:
    same = [t for t in terms if t.school_year == school_year]
    if same:
        return Span(min(t.starts_on for t in same), max(t.ends_on for t in same))
    first = int(school_year[:4])
    return Span(date(first, 9, 1), date(first + 1, 8, 31))


def window_for(rule: QuotaRule, term: TermDates, terms: Sequence[TermDates] = ()) -> Window:
    """The period ``rule`` is counted over when looking at ``term``."""
    if rule.period == "term":
        return Window(term.span, term.name)
    if rule.period == "school_year":
        return Window(_school_year_span(term.school_year, terms or (term,)), f"{term.school_year}学年")
    if rule.period == "year":
        year = term.starts_on.year
        return Window(Span(date(year, 1, 1), date(year, 12, 31)), f"{year}年")
    if rule.period == "three_years":
        anchor = rule.cycle_from or date(term.starts_on.year, 9, 1)
        start = anchor
        while _add_years(start, 3) <= term.starts_on:
            start = _add_years(start, 3)
        while start > term.starts_on:
            start = _add_years(start, -3)
        end = _add_years(start, 3) - timedelta(days=1)
        return Window(Span(start, end), f"{start:%Y.%m}–{end:%Y.%m} 三年周期")
    raise ValueError(f"unknown period: {rule.period}")


def is_in_force(rule: QuotaRule, window: Window) -> bool:
    """A rule not yet in force for the whole window is left out."""
    return rule.effective_from is None or rule.effective_from <= window.span.end


def is_expired(rule: QuotaRule, window: Window) -> bool:
    """The rule's document ended before the window began (still counted, marked)."""
    return rule.effective_until is not None and rule.effective_until < window.span.start


def counts_at_school(rule: QuotaRule, school: tuple[str, str, bool] | None, is_assigned: bool) -> bool:
    """Whether a record at ``school`` (stage, location, boarding) counts toward ``rule``."""
    if rule.schools == "assigned" and not is_assigned:
        return False
    if school is None:
        return not rule.is_school_restricted()
    stage, location, is_boarding = school
    return rule.applies_to.matches(stage, location, is_boarding)


def tally(rule: QuotaRule, window: Window, facts: Iterable[Fact]) -> Tally:
    """Count ``facts`` toward ``rule`` within ``window``: counted, and counted apart."""
    counted = apart = 0
    for fact in facts:
        if not window.span.contains(fact.occurred_on) or not rule.counts_activity(fact.kind, fact.form):
            continue
        if counts_at_school(rule, fact.school, fact.is_assigned):
            counted += 1
        else:
            apart += 1
    return Tally(counted, apart)


def _assigned_days(rule: QuotaRule, window: Window, postings: Sequence[Posting]) -> list[Span]:
    """The window's days on which the 教研员 held at least one school the rule counts, merged."""
    spans = sorted(
        (
            clipped
            for posting in postings
            if rule.applies_to.matches(posting.stage, posting.location, posting.is_boarding)
            and (clipped := window.span.clip(posting.span)) is not None
        ),
        key=lambda span: (span.start, span.end),
    )
    merged: list[Span] = []
    for span in spans:
        if merged and span.start <= merged[-1].end + timedelta(days=1):
            last = merged[-1]
            merged[-1] = Span(last.start, max(last.end, span.end))
        else:
            merged.append(span)
    return merged


def standing(
    rule: QuotaRule,
    window: Window,
    done: int,
    apart: int,
    today: date,
    postings: Sequence[Posting] | None = None,
) -> Standing:
    """Where a 教研员 with ``done`` counted records stands on ``rule`` on ``today``.

    ``postings`` are the 教研员's assignments; they matter for ``schools:
    assigned`` rules only (no assignment in the window: nothing is required;
    part of the window: the count is prorated by days, rounded up).
    """
    target, active, prorated_from = rule.count, window.span, None
    if rule.schools == "assigned" and postings is not None:
        assigned = _assigned_days(rule, window, postings)
        days = sum(span.days for span in assigned)
        if days == 0:
            return _make(rule, window, 0, done, apart, today, window.span, "unassigned", None)
        if days < window.span.days:
            target = math.ceil(rule.count * days / window.span.days)
            active, prorated_from = Span(assigned[0].start, assigned[-1].end), assigned[0].start
    return _make(rule, window, target, done, apart, today, active, _state(target, done, today, active), prorated_from)


def _state(target: int, done: int, today: date, active: Span) -> str:
    if done >= target:
        return "met"
    if today > active.end:
        return "short"
    if today < active.start:
        return "upcoming"
    elapsed = (today - active.start).days + 1
    expected = math.floor(target * elapsed / active.days)
    return "behind" if done < expected else "on_track"


def _make(
    rule: QuotaRule,
    window: Window,
    target: int,
    done: int,
    apart: int,
    today: date,
    active: Span,
    state: str,
    prorated_from: date | None,
) -> Standing:
    if today > active.end:
        days_left = 0
    elif today < active.start:
        days_left = active.days
    else:
        days_left = (active.end - today).days + 1
    return Standing(
        rule=rule,
        window=window,
        target=target,
        done=done,
        apart=apart,
        days_left=days_left,
        state=state,
        pace=pace_text(state, max(0, target - done), days_left, rule.unit),
        prorated_from=prorated_from,
        is_expired=is_expired(rule, window),
    )


def pace_text(state: str, remaining: int, days_left: int, unit: str) -> str:
    """The pace needed, in Chinese: ``还需 6 节，剩余 5 周``."""
    if state == "met":
        return "已达标"
    if state == "unassigned":
        return "本期无计入的包片学校"
    if state == "short":
        return f"已结束，差 {remaining} {unit}"
    if state == "upcoming":
        return f"未开始，需 {remaining} {unit}"
    left = f"剩余 {math.ceil(days_left / 7)} 周" if days_left >= 7 else f"剩余 {days_left} 天"
    return f"还需 {remaining} {unit}，{left}"


def coverage(teachers: Mapping[int, str], observed: Iterable[int]) -> Coverage:
    """Share of a school's ``teachers`` (id → name) among the ``observed`` teacher ids."""
    seen = set(observed) & set(teachers)
    missing = tuple(sorted((name for tid, name in teachers.items() if tid not in seen)))
    return Coverage(total=len(teachers), observed=len(seen), missing=missing)


def lock_for(day: date, terms: Sequence[TermDates], on: date) -> TermDates | None:
    """The ended term that locks a record dated ``day`` as of ``on``, or None.

    A record is locked once the term holding it has ended; a date between
    terms is locked when the next term has ended too.
    """
    ended = [t for t in terms if t.ends_on < on and t.ends_on >= day]
    return min(ended, key=lambda t: t.ends_on) if ended else None


def current_term(terms: Sequence[TermDates], today: date) -> TermDates | None:
    """The term holding ``today``; between terms the one just ended (its result
    is what people look at in the holidays); before the first, the first."""
    if not terms:
        return None
    ordered = sorted(terms, key=lambda t: t.starts_on)
    started = [t for t in ordered if t.starts_on <= today]
    return started[-1] if started else ordered[0]
