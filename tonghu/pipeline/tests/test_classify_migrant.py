"""流动儿童 (policy.md §2) at its boundaries."""

from __future__ import annotations

from datetime import date

import pytest

from tonghu.pipeline.tests.classify_feeds import (
    DEFAULT,
    SAME_COUNTY,
    Feeds,
    divisions_table,
)
from tonghu.policy import load_profile

# --- §2 流动儿童 ----------------------------------------------------------------------------


def test_a_child_from_another_county_here_long_enough_is_a_migrant(feeds: Feeds) -> None:
    feeds.police()
    child = feeds.child()
    assert child["is_migrant"]
    assert child["age"] == 10


@pytest.mark.parametrize(
    ("birth", "age", "migrant"),
    [
        (date(2009, 6, 29), 16, False),
        (date(2009, 6, 30), 16, False),
        (date(2009, 7, 1), 15, True),
    ],
    ids=["16th-birthday-the-day-before-D", "16th-birthday-on-D", "16th-birthday-after-D"],
)
def test_a_migrant_is_under_16(feeds: Feeds, birth: date, age: int, migrant: bool) -> None:
    feeds.police(birth_date=birth)
    child = feeds.child()
    assert child["age"] == age
    assert child["is_migrant"] is migrant


def test_a_child_turning_16_says_why_it_is_not_a_migrant(feeds: Feeds) -> None:
    feeds.police(birth_date=date(2009, 6, 30))
    assert "已满16周岁" in feeds.child()["reasons"]


@pytest.mark.parametrize(
    ("since", "migrant"),
    [(date(2024, 12, 30), True), (date(2024, 12, 31), False)],
    ids=["exactly-6-months", "one-day-short"],
)
def test_a_migrant_has_lived_here_6_months(feeds: Feeds, since: date, migrant: bool) -> None:
    feeds.police(since=since)
    assert feeds.child()["is_migrant"] is migrant


@pytest.mark.parametrize(
    ("since", "migrant"),
    [(date(2025, 2, 28), True), (date(2025, 3, 1), False)],
    ids=["month-end", "day-after-month-end"],
)
def test_6_months_before_a_month_end_is_the_shorter_months_end(
    feeds: Feeds, since: date, migrant: bool
) -> None:
    feeds.police(since=since)
    assert feeds.child(as_of=date(2025, 8, 31))["is_migrant"] is migrant


def test_a_move_within_the_county_is_not_migration(feeds: Feeds) -> None:
    feeds.police(hukou_code=SAME_COUNTY)
    assert not feeds.child()["is_migrant"]


def test_a_move_between_central_districts_of_one_city_does_not_count(feeds: Feeds) -> None:
    feeds.police(hukou_code="120101000000", residence_code="120103001001")  # 和平 -> 河西
    child = feeds.child()
    assert not child["is_migrant"]
    assert "中心城区" in child["reasons"]


def test_a_move_from_a_central_to_an_outer_district_counts(feeds: Feeds) -> None:
    feeds.police(hukou_code="120101000000", residence_code="120110001001")  # 和平 -> 东丽
    assert feeds.child()["is_migrant"]


CENTRAL_TWO_CITIES = divisions_table(
    ("130102000000", "130100000000", "1"),
    ("130104000000", "130100000000", "1"),
    ("130202000000", "130200000000", "1"),
)


@pytest.mark.parametrize(
    ("hukou", "residence", "migrant"),
    [("130102000000", "130104000000", False), ("130102000000", "130202000000", True)],
    ids=["same-city", "across-cities"],
)
def test_central_districts_of_different_cities_count(
    feeds: Feeds, hukou: str, residence: str, migrant: bool
) -> None:
    feeds.police(hukou_code=hukou, residence_code=residence)
    assert feeds.child(divisions=CENTRAL_TWO_CITIES)["is_migrant"] is migrant


def test_without_a_city_parent_the_city_is_the_first_four_digits(feeds: Feeds) -> None:
    table = divisions_table(("130102000000", None, "1"), ("130104000000", None, "1"))
    feeds.police(hukou_code="130102000000", residence_code="130104000000")
    assert not feeds.child(divisions=table)["is_migrant"]


def test_tianjin_names_central_districts_the_division_table_does_not(feeds: Feeds) -> None:
    table = divisions_table(
        ("120101000000", "120100000000", "0"), ("120103000000", "120100000000", "0")
    )
    feeds.police(hukou_code="120101000000", residence_code="120103000000")
    assert feeds.child(divisions=table)["is_migrant"]
    assert not feeds.child(divisions=table, profile=load_profile("tianjin"))["is_migrant"]


def test_a_profile_may_count_central_urban_moves(feeds: Feeds) -> None:
    profile = DEFAULT.model_copy(
        update={"migrant": DEFAULT.migrant.model_copy(update={"central_urban_moves_count": True})}
    )
    feeds.police(hukou_code="120101000000", residence_code="120103001001")
    assert feeds.child(profile=profile)["is_migrant"]


def test_the_migrant_reason_cites_the_rule_and_the_record(feeds: Feeds) -> None:
    key = feeds.police()
    reasons = feeds.child()["reasons"]
    assert "流动儿童（§2）" in reasons
    assert f"居住证 {key}" in reasons
