"""控辍保学 (policy.md §6), the current stage and the service flags."""

from __future__ import annotations

from datetime import date

import pytest

from tonghu.pipeline.tests.classify_feeds import (
    HERE,
    HERE_COUNTY,
    Feeds,
)

# --- §6 dropout -----------------------------------------------------------------------------


def test_a_child_whose_latest_enrolment_is_dropped_out(feeds: Feeds) -> None:
    feeds.police()
    feeds.edu("在读", enrolled_on=date(2023, 9, 1))
    key = feeds.edu("辍学", enrolled_on=date(2024, 9, 1))
    child = feeds.child()
    assert child["dropout_risk"] == "dropped_out"
    assert "§6" in child["reasons"]
    assert f"学籍 {key}" in child["reasons"]


def test_an_older_dropout_followed_by_enrolment_is_no_risk(feeds: Feeds) -> None:
    feeds.police()
    feeds.edu("辍学", enrolled_on=date(2023, 9, 1))
    feeds.edu("在读", enrolled_on=date(2024, 9, 1))
    assert feeds.child()["dropout_risk"] is None


def test_a_local_child_who_dropped_out_is_at_risk(feeds: Feeds) -> None:
    feeds.edu("辍学", hukou_code=HERE_COUNTY, residence_code=HERE)
    child = feeds.child()
    assert not child["is_migrant"]
    assert child["dropout_risk"] == "dropped_out"


@pytest.mark.parametrize(
    ("enrolments", "risk"),
    [
        ([], "not_enrolled"),
        ([("在读", "小学")], None),
        ([("休学", "初中")], None),
        ([("毕业", "初中")], None),
        ([("毕业", "小学")], "not_enrolled"),
        ([("转出", "小学")], "not_enrolled"),
    ],
)
def test_a_migrant_of_school_age_not_enrolled(
    feeds: Feeds, enrolments: list[tuple[str, str]], risk: str | None
) -> None:
    feeds.police()
    for status, stage in enrolments:
        feeds.edu(status, stage)
    child = feeds.child()
    assert child["is_migrant"]
    assert child["dropout_risk"] == risk


def test_a_local_child_without_enrolment_is_not_flagged(feeds: Feeds) -> None:
    feeds.police(hukou_code=HERE_COUNTY)
    assert feeds.child()["dropout_risk"] is None


@pytest.mark.parametrize(
    ("birth", "risk"),
    [
        (date(2018, 7, 1), None),  # 6
        (date(2018, 6, 30), "not_enrolled"),  # 7
        (date(2009, 7, 1), "not_enrolled"),  # 15
    ],
    ids=["age-6", "age-7", "age-15"],
)
def test_not_enrolled_is_for_ages_7_to_15(feeds: Feeds, birth: date, risk: str | None) -> None:
    feeds.police(birth_date=birth)
    assert feeds.child()["dropout_risk"] == risk


def test_no_dropout_risk_at_16(feeds: Feeds) -> None:
    feeds.police(birth_date=date(2009, 6, 30))
    feeds.edu("辍学", "初中", birth_date=date(2009, 6, 30))
    child = feeds.child()
    assert child["age"] == 16
    assert child["dropout_risk"] is None


def test_the_not_enrolled_reason_cites_the_rule(feeds: Feeds) -> None:
    feeds.police()
    assert "控辍保学（§6）" in feeds.child()["reasons"]


# --- stage and flags ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "stage"), [("在读", "初中"), ("休学", "初中"), ("辍学", None), ("转出", None)]
)
def test_the_stage_is_that_of_a_current_enrolment(
    feeds: Feeds, status: str, stage: str | None
) -> None:
    feeds.police()
    feeds.edu(status, "初中")
    assert feeds.child()["stage"] == stage


def test_the_stage_is_that_of_the_latest_current_enrolment(feeds: Feeds) -> None:
    feeds.police()
    feeds.edu("在读", "小学", enrolled_on=date(2019, 9, 1))
    feeds.edu("在读", "初中", enrolled_on=date(2024, 9, 1))
    assert feeds.child()["stage"] == "初中"


def test_housing_hardship_is_a_flag(feeds: Feeds) -> None:
    feeds.police()
    feeds.add("self_declaration", housing_hardship=True)
    assert feeds.child()["flags"] == ["housing_hardship"]
