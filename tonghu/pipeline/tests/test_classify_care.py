"""Difficulty (policy.md §4) and key care (§5) at their boundaries."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tonghu.pipeline.tests.classify_feeds import (
    AGE_10,
    AS_OF,
    DAY,
    ELSEWHERE,
    HERE_COUNTY,
    Feeds,
    citizen_id,
)
from tonghu.policy import load_profile

# --- §4 difficulty --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("starts", "ends", "current"),
    [
        (AS_OF, None, True),
        (date(2024, 1, 1), AS_OF, False),
        (date(2024, 1, 1), AS_OF + DAY, True),
        (AS_OF + DAY, None, False),
    ],
    ids=["starts-on-D", "ends-on-D", "ends-the-day-after", "starts-the-day-after"],
)
def test_a_civil_status_counts_while_current_at_d(
    feeds: Feeds, starts: date, ends: date | None, current: bool
) -> None:
    feeds.police()
    feeds.civil("低保", starts_on=starts, ends_on=ends)
    assert feeds.child()["difficulty"] == (["dibao"] if current else [])


@pytest.mark.parametrize(
    ("category", "code"),
    [("低保", "dibao"), ("低保边缘", "dibao_edge"), ("特困", "tekun"), ("孤儿", "orphan"),
     ("事实无人抚养", "fuc"), ("艾滋病病毒感染", "hiv")],
)  # fmt: skip
def test_each_civil_category_is_a_difficulty_code(feeds: Feeds, category: str, code: str) -> None:
    feeds.police()
    feeds.civil(category)
    assert feeds.child()["difficulty"] == [code]


def test_temporary_relief_is_a_fact_not_a_difficulty(feeds: Feeds) -> None:
    feeds.police()
    feeds.civil("临时救助")
    child = feeds.child()
    assert child["difficulty"] == []
    assert child["flags"] == ["temporary_relief"]


def test_a_disability_certificate_makes_disabled(feeds: Feeds) -> None:
    feeds.police()
    feeds.add("disability_cert", record_key=citizen_id("330483", AGE_10, 11) + "11")
    child = feeds.child()
    assert child["difficulty"] == ["disabled"]
    assert "disability" in child["key_care"]


def test_difficulty_is_computed_for_a_child_not_living_here(feeds: Feeds) -> None:
    feeds.civil("特困", birth_date=AGE_10)
    child = feeds.child()
    assert not child["is_resident"]
    assert child["difficulty"] == ["tekun"]
    assert child["key_care"] == ["hardship"]


def test_the_difficulty_reason_cites_the_rule_and_the_record(feeds: Feeds) -> None:
    feeds.police()
    key = feeds.civil("孤儿")
    reasons = feeds.child()["reasons"]
    assert "（§4）" in reasons
    assert f"救助保障名册 {key}" in reasons


# --- §5 key_care ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "hardship"),
    [("低保", True), ("低保边缘", True), ("特困", True), ("孤儿", False), ("临时救助", False)],
)
def test_hardship_from_a_current_civil_status(feeds: Feeds, category: str, hardship: bool) -> None:
    feeds.police()
    feeds.civil(category)
    assert ("hardship" in feeds.child()["key_care"]) is hardship


def test_an_ended_civil_status_is_no_hardship(feeds: Feeds) -> None:
    feeds.police()
    feeds.civil("低保", ends_on=date(2025, 1, 1))
    assert feeds.child()["key_care"] == []


@pytest.mark.parametrize(("declared", "hardship"), [(True, True), (False, False), (None, False)])
def test_hardship_from_a_self_declaration(
    feeds: Feeds, declared: bool | None, hardship: bool
) -> None:
    feeds.police()
    feeds.add("self_declaration", hardship=declared)
    assert ("hardship" in feeds.child()["key_care"]) is hardship


def test_disability_from_the_latest_visit(feeds: Feeds) -> None:
    feeds.visit(disabled=True)
    child = feeds.child()
    assert child["key_care"] == ["disability"]
    assert child["difficulty"] == []  # a visit is no disability certificate


@pytest.mark.parametrize(
    "visit",
    [
        {"guardianship_type": "无人监护"},
        {"lives_alone": True},
        {"father_status": "重病", "mother_status": "服刑在押"},
    ],
    ids=["no-guardian", "lives-alone", "both-parents-unable"],
)
def test_no_guardian_from_the_latest_visit(feeds: Feeds, visit: dict[str, Any]) -> None:
    feeds.visit(**visit)
    assert feeds.child()["key_care"] == ["no_guardian"]


@pytest.mark.parametrize("category", ["孤儿", "事实无人抚养"])
def test_no_guardian_from_orphan_or_fuc(feeds: Feeds, category: str) -> None:
    feeds.police()
    feeds.civil(category)
    assert feeds.child()["key_care"] == ["no_guardian"]


def test_one_parent_unable_is_not_no_guardian(feeds: Feeds) -> None:
    feeds.visit(father_status="重病", mother_status="在家")
    assert feeds.child()["key_care"] == []


@pytest.mark.parametrize(("column", "code"), [("vagrant", "vagrant"), ("psych", "psych")])
def test_vagrant_and_psych_from_the_latest_visit(feeds: Feeds, column: str, code: str) -> None:
    feeds.visit(visited_on=date(2025, 6, 1), **{column: True})
    assert feeds.child()["key_care"] == [code]


@pytest.mark.parametrize(("column", "code"), [("vagrant", "vagrant"), ("psych", "psych")])
def test_an_older_visit_does_not_decide_key_care(feeds: Feeds, column: str, code: str) -> None:
    feeds.visit(visited_on=date(2025, 1, 1), **{column: True})
    feeds.visit(visited_on=date(2025, 6, 1), **{column: False})
    assert code not in feeds.child()["key_care"]


@pytest.mark.parametrize(
    ("needs", "asks"),
    [("课业辅导", True), ("需要法律援助", True), ("无", False), ("没有", False), ("否", False),
     (None, False)],
)  # fmt: skip
def test_asks_help_when_a_declaration_states_a_need(
    feeds: Feeds, needs: str | None, asks: bool
) -> None:
    feeds.police()
    feeds.add("self_declaration", help_needs=needs)
    assert ("asks_help" in feeds.child()["key_care"]) is asks


def test_asks_help_when_any_declaration_states_a_need(feeds: Feeds) -> None:
    feeds.police()
    feeds.add("self_declaration", help_needs="课业辅导", declared_on=date(2025, 1, 1))
    feeds.add("self_declaration", help_needs="无", declared_on=date(2025, 6, 1))
    assert feeds.child()["key_care"] == ["asks_help"]


@pytest.mark.parametrize(
    ("profile", "migrant", "asks"),
    [("default", False, True), ("tianjin", False, False), ("tianjin", True, True)],
)
def test_tianjin_counts_asks_help_for_migrants_only(
    feeds: Feeds, profile: str, migrant: bool, asks: bool
) -> None:
    feeds.police(hukou_code=ELSEWHERE if migrant else HERE_COUNTY)
    feeds.add("self_declaration", help_needs="课业辅导")
    child = feeds.child(profile=load_profile(profile))
    assert child["is_migrant"] is migrant
    assert ("asks_help" in child["key_care"]) is asks


def test_the_key_care_reason_cites_the_rule_and_the_record(feeds: Feeds) -> None:
    feeds.police()
    key = feeds.add("self_declaration", hardship=True)
    reasons = feeds.child()["reasons"]
    assert "重点关爱（§5）" in reasons
    assert f"自主申报 {key}" in reasons
