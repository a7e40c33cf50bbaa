"""Each visit frequency rule of policy.md §8 at its edges (profile numbers, not literals)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tonghu.policy.profile import load_profile
from tonghu.visits.plan import (
    QUARTER_DAYS,
    History,
    Status,
    add_working_days,
    is_raised,
    months_after,
    next_due,
    status_of,
)

RULES = load_profile().visits
TONGXIANG = load_profile("tongxiang").visits
TODAY = date(2026, 11, 18)  # a Wednesday


def _due(history: History, *, key_care: bool = False, raised: bool = False, identified=None):  # type: ignore[no-untyped-def]
    return next_due(
        RULES, history=history, key_care=key_care, raised=raised,
        identified_on=identified, today=TODAY,
    )  # fmt: skip


def test_first_visit_within_working_days_of_identification() -> None:
    days = RULES.first_visit_working_days
    friday = date(2026, 11, 20)
    due = _due(History(None, None, 0), identified=friday)
    assert due.kind == "home"
    # Five working days after a Friday skip the weekend: the next Friday.
    assert due.on == friday + timedelta(days=7) == add_working_days(friday, days)
    assert status_of(due, due.on) is Status.TODAY
    assert status_of(due, due.on + timedelta(days=1)) is Status.OVERDUE


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)))
def test_working_days_never_land_on_a_weekend(day: date) -> None:
    landed = add_working_days(day, RULES.first_visit_working_days)
    assert landed.weekday() < 5
    assert 5 <= (landed - day).days <= 9


def test_never_visited_and_not_newly_identified_is_due_today() -> None:
    assert _due(History(None, None, 0)).on == TODAY


def test_regular_home_visit_every_three_months_at_its_edge() -> None:
    last = date(2026, 8, 18)
    due = _due(History(last_home=last, last_contact=months_after(TODAY, 0), home_this_quarter=0))
    assert due.kind == "home"
    assert due.on == months_after(last, RULES.home_visit_every_months) == date(2026, 11, 18)
    assert status_of(due, TODAY) is Status.TODAY
    assert status_of(due, TODAY + timedelta(days=1)) is Status.OVERDUE


def test_month_end_home_visit_lands_on_the_last_day_of_a_shorter_month() -> None:
    due = _due(
        History(last_home=date(2026, 11, 30), last_contact=date(2026, 11, 30), home_this_quarter=1)
    )
    assert due.on == date(2026, 12, 30)  # the monthly contact comes first
    assert due.kind == "contact"
    home_due = months_after(date(2026, 11, 30), RULES.home_visit_every_months)
    assert home_due == date(2027, 2, 28)


def test_monthly_contact_comes_before_the_quarterly_home_visit() -> None:
    due = _due(
        History(last_home=date(2026, 10, 1), last_contact=date(2026, 10, 20), home_this_quarter=1)
    )
    assert due.kind == "contact"
    assert due.on == months_after(date(2026, 10, 20), RULES.contact_every_months)
    assert "联系" in due.rule


def test_raised_frequency_makes_home_visits_monthly() -> None:
    history = History(
        last_home=date(2026, 10, 18), last_contact=date(2026, 10, 18), home_this_quarter=1
    )
    normal = _due(history)
    raised = _due(history, raised=True)
    assert raised.on == months_after(date(2026, 10, 18), RULES.raised.home_visit_every_months)
    assert raised.kind == "home"
    assert "加大走访频次" in raised.rule
    assert raised.on < normal.on or normal.kind == "contact"
    assert status_of(raised, TODAY) is Status.TODAY


@pytest.mark.parametrize(
    ("grade", "expected"),
    [
        ("监护缺失", True),
        ("监护失当", True),
        ("监护不足", True),
        ("监护正常", False),
        (None, False),
    ],
)
def test_medium_and_high_risk_grades_raise_the_frequency(grade: str | None, expected: bool) -> None:
    assert is_raised(RULES, grade=grade, key_care=[], parent_states=[]) is expected


def test_tongxiang_triggers_raise_the_frequency() -> None:
    assert is_raised(TONGXIANG, grade=None, key_care=["psych"], parent_states=[])
    assert is_raised(TONGXIANG, grade=None, key_care=["disability"], parent_states=[])
    assert is_raised(TONGXIANG, grade=None, key_care=[], parent_states=["重残"])
    assert not is_raised(TONGXIANG, grade=None, key_care=["hardship"], parent_states=["外出务工"])
    # The default profile names no such triggers.
    assert not is_raised(RULES, grade=None, key_care=["psych"], parent_states=["重残"])


def test_key_care_visits_spread_over_the_quarter() -> None:
    quota = RULES.key_care_home_visits_per_quarter
    interval = QUARTER_DAYS // quota
    last = TODAY - timedelta(days=interval)
    due = _due(
        History(last_home=last, last_contact=last, home_this_quarter=quota - 1), key_care=True
    )
    assert due.on == TODAY
    assert status_of(due, TODAY) is Status.TODAY
    late = _due(
        History(last_home=last - timedelta(days=1), last_contact=last, home_this_quarter=1),
        key_care=True,
    )
    assert status_of(late, TODAY) is Status.OVERDUE
    assert f"{quota}次" in due.rule


def test_key_care_quota_met_waits_for_the_next_quarter() -> None:
    quota = RULES.key_care_home_visits_per_quarter
    history = History(last_home=TODAY, last_contact=TODAY, home_this_quarter=quota)
    assert _due(history, key_care=True).on == date(2027, 1, 1)
    fewer = History(last_home=TODAY, last_contact=TODAY, home_this_quarter=quota - 1)
    assert _due(fewer, key_care=True).on == TODAY + timedelta(days=QUARTER_DAYS // quota)


def test_status_bands() -> None:
    due = _due(History(None, None, 0))
    assert status_of(due, TODAY - timedelta(days=7)) is Status.SOON
    assert status_of(due, TODAY - timedelta(days=8)) is Status.LATER
