"""Quota arithmetic at the edges (checklists.quotas, no Flask)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from checklists import load_packs
from checklists.model import AppliesTo
from checklists.quotas import (
    Fact,
    Posting,
    QuotaRule,
    Span,
    Tally,
    TermDates,
    coverage,
    current_term,
    is_expired,
    is_in_force,
    lock_for,
    pace_text,
    rules_of,
    standing,
    tally,
    window_for,
)

SPRING = TermDates("2025-2026学年第二学期", "2025-2026", date(2026, 3, 2), date(2026, 7, 10))
AUTUMN = TermDates("2026-2027学年第一学期", "2026-2027", date(2026, 9, 1), date(2027, 1, 22))
TERMS = (SPRING, AUTUMN)
RURAL = ("primary", "village", False)
TOWN = ("primary", "town", True)
URBAN = ("primary", "urban", False)


@pytest.fixture(scope="module")
def packs():
    return load_packs()


@pytest.fixture(scope="module")
def lessons(packs) -> QuotaRule:
    return next(r for r in rules_of(packs["helan"]) if r.concept == "researcher.lessons_observed")


def lesson(day: date, school=RURAL, assigned: bool = True, kind: str = "lesson", form: str = "observe") -> Fact:
    return Fact(occurred_on=day, kind=kind, form=form, school=school, is_assigned=assigned)


def test_packs_declare_their_quotas_as_data(packs):
    helan = {r.concept: r for r in rules_of(packs["helan"])}
    assert helan["researcher.lessons_observed"].count == 15
    assert helan["researcher.lessons_observed"].kinds == ("lesson",)
    assert helan["researcher.guidance_sessions"].count == 2
    assert helan["researcher.guidance_sessions"].kinds == ("guidance",)
    assert helan["researcher.themed_research_event"].period == "year"
    assert helan["researcher.themed_research_event"].schools == "any"
    xiji = rules_of(packs["xiji"])
    assert [(r.who, r.period, r.cycle_from) for r in xiji] == [("teacher", "three_years", date(2022, 9, 1))]


def test_a_county_whose_pack_sets_no_quota_has_none(packs):
    assert rules_of(packs["xinganmeng"]) == ()
    assert rules_of(packs["liaocheng"]) == ()
    assert rules_of(None) == ()


def test_term_boundaries_first_and_last_day_count_the_days_around_do_not(lessons):
    window = window_for(lessons, AUTUMN, TERMS)
    facts = [
        lesson(date(2026, 8, 31)),  # the day before
        lesson(date(2026, 9, 1)),  # first day
        lesson(date(2027, 1, 22)),  # last day
        lesson(date(2027, 1, 23)),  # the day after
    ]
    assert tally(lessons, window, facts).counted == 2


def test_a_record_on_the_last_day_completes_the_quota(lessons):
    window = window_for(lessons, AUTUMN, TERMS)
    facts = [lesson(date(2026, 10, 1))] * 14 + [lesson(date(2027, 1, 22))]
    done = tally(lessons, window, facts).counted
    result = standing(lessons, window, done, 0, today=date(2027, 1, 22))
    assert (result.done, result.state, result.remaining, result.days_left) == (15, "met", 0, 1)
    one_short = standing(lessons, window, 14, 0, today=date(2027, 1, 22))
    assert (one_short.state, one_short.pace) == ("behind", "还需 1 节，剩余 1 天")
    after = standing(lessons, window, 14, 0, today=date(2027, 1, 23))
    assert (after.state, after.pace, after.days_left) == ("short", "已结束，差 1 节", 0)


def test_records_at_schools_not_assigned_or_not_rural_are_counted_apart(lessons):
    window = window_for(lessons, AUTUMN, TERMS)
    facts = [
        lesson(date(2026, 10, 8)),
        lesson(date(2026, 10, 9), school=TOWN),
        lesson(date(2026, 10, 10), assigned=False),  # another 教研员's school
        lesson(date(2026, 10, 11), school=URBAN),  # assigned, but helan counts rural schools only
        lesson(date(2026, 10, 12), school=None),  # no school
        lesson(date(2026, 10, 13), kind="guidance", form="seminar"),  # another kind: neither
    ]
    assert tally(lessons, window, facts) == Tally(counted=2, apart=3)


def test_forms_restrict_what_counts(lessons):
    only_open = replace(lessons, forms=("open", "model"))
    window = window_for(only_open, AUTUMN, TERMS)
    facts = [lesson(date(2026, 10, 8), form="open"), lesson(date(2026, 10, 9), form="observe")]
    assert tally(only_open, window, facts).counted == 1


def test_a_researcher_assigned_mid_term_has_a_prorated_quota(lessons):
    window = window_for(lessons, AUTUMN, TERMS)
    assert window.span.days == 144
    from_november = [Posting(Span(date(2026, 11, 13), date(2099, 1, 1)), "primary", "village", False)]
    result = standing(lessons, window, 0, 0, today=date(2026, 11, 23), postings=from_november)
    # 71 of 144 days: 15 × 71 / 144 = 7.4 → 8
    assert (result.target, result.prorated_from) == (8, date(2026, 11, 13))
    assert result.pace == "还需 8 节，剩余 9 周"
    assert result.state == "behind"  # 11 of 71 days gone, one lesson expected already


def test_assignment_all_term_is_not_prorated_and_overlapping_postings_merge(lessons):
    window = window_for(lessons, AUTUMN, TERMS)
    postings = [
        Posting(Span(date(2026, 3, 1), date(2026, 10, 31)), "primary", "village", False),
        Posting(Span(date(2026, 10, 15), date(2099, 1, 1)), "junior", "town", True),
    ]
    result = standing(lessons, window, 6, 0, today=date(2026, 11, 23), postings=postings)
    assert (result.target, result.prorated_from) == (15, None)
    assert result.pace == "还需 9 节，剩余 9 周"
    assert result.state == "behind"  # 84 of 144 days gone: 8 expected by now


def test_no_rural_school_assigned_means_nothing_required(lessons):
    window = window_for(lessons, AUTUMN, TERMS)
    urban_only = [Posting(Span(date(2026, 3, 1), date(2099, 1, 1)), "primary", "urban", False)]
    result = standing(lessons, window, 0, 3, today=date(2026, 11, 23), postings=urban_only)
    assert (result.target, result.state, result.apart) == (0, "unassigned", 3)
    assert result.pace == "本期无计入的包片学校"


def test_on_track_and_upcoming(lessons):
    window = window_for(lessons, AUTUMN, TERMS)
    assert standing(lessons, window, 9, 0, today=date(2026, 11, 23)).state == "on_track"
    early = standing(lessons, window, 0, 0, today=date(2026, 8, 20))
    assert (early.state, early.pace, early.days_left) == ("upcoming", "未开始，需 15 节", 144)


def test_periods_year_school_year_and_three_year_cycle(packs, lessons):
    themed = next(r for r in rules_of(packs["helan"]) if r.period == "year")
    assert window_for(themed, AUTUMN, TERMS).span == Span(date(2026, 1, 1), date(2026, 12, 31))
    assert window_for(themed, SPRING, TERMS).label == "2026年"
    yearly = replace(lessons, period="school_year")
    next_spring = TermDates("2026-2027学年第二学期", "2026-2027", date(2027, 3, 1), date(2027, 7, 9))
    assert window_for(yearly, AUTUMN, (*TERMS, next_spring)).span == Span(date(2026, 9, 1), date(2027, 7, 9))
    assert window_for(yearly, AUTUMN, ()).span == Span(date(2026, 9, 1), date(2027, 1, 22))
    cycle = rules_of(packs["xiji"])[0]
    assert window_for(cycle, AUTUMN, TERMS).span == Span(date(2025, 9, 1), date(2028, 8, 31))
    assert window_for(cycle, SPRING, TERMS).span == Span(date(2025, 9, 1), date(2028, 8, 31))
    early = TermDates("2022-2023学年第一学期", "2022-2023", date(2022, 9, 1), date(2023, 1, 15))
    assert window_for(cycle, early, ()).span == Span(date(2022, 9, 1), date(2025, 8, 31))
    before = TermDates("2021-2022学年第二学期", "2021-2022", date(2022, 3, 1), date(2022, 7, 8))
    assert window_for(cycle, before, ()).span == Span(date(2019, 9, 1), date(2022, 8, 31))
    # The county moves the cycle's start (teacher_cycle_anchor): the quota's window follows it, as the due date does.
    moved = rules_of(packs["xiji"], {"teacher_cycle_anchor": "2023-09-01"})[0]
    assert window_for(moved, AUTUMN, TERMS).span == Span(date(2026, 9, 1), date(2029, 8, 31))
    assert rules_of(packs["xiji"], {"teacher_cycle_anchor": ""})[0].cycle_from == date(2022, 9, 1)  # the default


def test_expired_requirements_are_still_counted_and_marked(lessons):
    autumn = window_for(lessons, AUTUMN, TERMS)
    assert lessons.effective_until == date(2025, 12, 31)
    assert is_in_force(lessons, autumn) and is_expired(lessons, autumn)
    assert standing(lessons, autumn, 3, 0, today=date(2026, 11, 23)).is_expired
    old = TermDates("2025-2026学年第一学期", "2025-2026", date(2025, 9, 1), date(2026, 1, 16))
    assert not is_expired(lessons, window_for(lessons, old, TERMS))
    future_rule = replace(lessons, effective_from=date(2027, 3, 1))
    assert not is_in_force(future_rule, autumn)


def test_pace_text_in_weeks_then_days():
    assert pace_text("on_track", 6, 35, "节") == "还需 6 节，剩余 5 周"
    assert pace_text("on_track", 6, 36, "节") == "还需 6 节，剩余 6 周"
    assert pace_text("behind", 2, 6, "次") == "还需 2 次，剩余 6 天"


def test_records_lock_when_their_term_has_ended():
    assert lock_for(date(2026, 7, 10), TERMS, on=date(2026, 7, 10)) is None  # the last day itself
    assert lock_for(date(2026, 7, 10), TERMS, on=date(2026, 7, 11)) == SPRING
    assert lock_for(date(2026, 8, 1), TERMS, on=date(2026, 11, 23)) is None  # summer, next term still open
    assert lock_for(date(2026, 8, 1), TERMS, on=date(2027, 1, 23)) == AUTUMN
    assert lock_for(date(2026, 11, 1), TERMS, on=date(2026, 11, 23)) is None
    assert lock_for(date(2026, 11, 1), (), on=date(2030, 1, 1)) is None


def test_current_term():
    assert current_term(TERMS, date(2026, 11, 23)) == AUTUMN
    assert current_term(TERMS, date(2026, 8, 1)) == SPRING  # holidays: the term just ended
    assert current_term(TERMS, date(2025, 1, 1)) == SPRING
    assert current_term((), date(2026, 1, 1)) is None


def test_teacher_coverage():
    result = coverage({1: "马老师", 2: "李老师", 3: "王老师"}, [1, 1, 3, 99])
    assert (result.total, result.observed, result.missing) == (3, 2, ("李老师",))
    assert result.share == pytest.approx(2 / 3)
    assert coverage({}, [1]).share == 0.0


def test_rules_need_the_school_profile_only_where_the_item_says_so(lessons):
    anywhere = replace(lessons, schools="any", applies_to=AppliesTo(), narrowed_by=None)
    window = window_for(anywhere, AUTUMN, TERMS)
    facts = [lesson(date(2026, 10, 1), school=None, assigned=False), lesson(date(2026, 10, 2), URBAN, False)]
    assert tally(anywhere, window, facts).counted == 2
