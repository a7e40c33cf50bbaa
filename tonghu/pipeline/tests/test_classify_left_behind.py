"""留守儿童 (policy.md §3) at its boundaries."""

from __future__ import annotations

from datetime import date

import pytest

from tonghu.pipeline.tests.classify_feeds import (
    DEFAULT,
    ELSEWHERE,
    SAME_COUNTY,
    Feeds,
)

# --- §3 留守儿童 ----------------------------------------------------------------------------


def test_both_parents_working_in_another_county_leave_a_child_behind(feeds: Feeds) -> None:
    feeds.visit()
    child = feeds.child()
    assert child["is_left_behind"]
    assert not child["is_migrant"]


@pytest.mark.parametrize(
    ("since", "left_behind"),
    [(date(2025, 3, 30), True), (date(2025, 3, 31), False)],
    ids=["exactly-3-months", "one-day-short"],
)
@pytest.mark.parametrize("parent", ["father", "mother"])
def test_each_parent_is_away_at_least_3_months(
    feeds: Feeds, parent: str, since: date, left_behind: bool
) -> None:
    feeds.visit(**{f"{parent}_away_since": since})
    assert feeds.child()["is_left_behind"] is left_behind


def test_a_parent_away_without_a_start_date_does_not_count(feeds: Feeds) -> None:
    feeds.visit(mother_away_since=None)
    assert not feeds.child()["is_left_behind"]


@pytest.mark.parametrize(
    ("status", "left_behind"),
    [("重病", True), ("重残", True), ("服刑在押", True), ("死亡", True), ("失联", True),
     ("无监护能力", True), ("在家", False), (None, False)],
)  # fmt: skip
def test_one_parent_away_and_the_other_unable(
    feeds: Feeds, status: str | None, left_behind: bool
) -> None:
    feeds.visit(mother_status=status, mother_away_code=None, mother_away_since=None)
    assert feeds.child()["is_left_behind"] is left_behind


def test_the_mother_away_and_the_father_unable(feeds: Feeds) -> None:
    feeds.visit(father_status="服刑在押", father_away_code=None, father_away_since=None)
    assert feeds.child()["is_left_behind"]


def test_an_empty_away_code_does_not_count_as_away(feeds: Feeds) -> None:
    feeds.visit(father_away_code=None)
    assert not feeds.child()["is_left_behind"]


def test_working_in_the_same_county_is_not_away(feeds: Feeds) -> None:
    feeds.visit(father_away_code=SAME_COUNTY)
    assert not feeds.child()["is_left_behind"]


def test_a_child_with_hukou_elsewhere_is_not_left_behind(feeds: Feeds) -> None:
    feeds.visit(hukou_code=ELSEWHERE)
    assert not feeds.child()["is_left_behind"]


def test_a_left_behind_child_is_under_16(feeds: Feeds) -> None:
    feeds.visit(birth_date=date(2009, 6, 30))
    assert not feeds.child()["is_left_behind"]


@pytest.mark.parametrize(("older", "newer"), [("在家", "外出务工"), ("外出务工", "在家")])
def test_the_latest_visit_decides_left_behind(feeds: Feeds, older: str, newer: str) -> None:
    feeds.visit(visited_on=date(2025, 1, 10), father_status=older)
    feeds.visit(visited_on=date(2025, 6, 10), father_status=newer)
    assert feeds.child()["is_left_behind"] is (newer == "外出务工")


def test_a_profile_may_require_parents_away_beyond_the_city(feeds: Feeds) -> None:
    profile = DEFAULT.model_copy(
        update={"left_behind": DEFAULT.left_behind.model_copy(update={"away_beyond": "city"})}
    )
    feeds.visit(father_away_code="410403000000")  # another county of 平顶山
    assert feeds.child()["is_left_behind"]
    assert not feeds.child(profile=profile)["is_left_behind"]


def test_the_left_behind_reason_cites_the_rule_and_the_visit(feeds: Feeds) -> None:
    key = feeds.visit()
    reasons = feeds.child()["reasons"]
    assert "留守儿童（§3）" in reasons
    assert f"走访 {key}" in reasons
