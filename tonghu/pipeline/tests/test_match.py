"""Service matching (policy.md §7) on classified children."""

from __future__ import annotations

from datetime import date

import pytest

from tonghu.pipeline.match import match_services
from tonghu.pipeline.tests.classify_feeds import (
    AGE_10,
    DEFAULT,
    HERE_COUNTY,
    Feeds,
    citizen_id,
)

# --- §7 services ----------------------------------------------------------------------------

EVERYONE = {"S06", "S07", "S16", "S17", "S18", "S19", "S22", "S23", "S24", "S25"}


def test_a_plain_migrant_of_10_gets_the_common_services_and_schooling(feeds: Feeds) -> None:
    feeds.police()
    assert feeds.services() == EVERYONE | {"S03"}


@pytest.mark.parametrize(
    ("birth", "s01"),
    [(date(2018, 7, 1), True), (date(2018, 6, 30), False)],
    ids=["age-6", "age-7"],
)
def test_s01_health_and_childcare_up_to_6(feeds: Feeds, birth: date, s01: bool) -> None:
    feeds.police(birth_date=birth)
    assert ("S01" in feeds.services()) is s01


@pytest.mark.parametrize(("stage", "s02"), [(None, True), ("学前", True), ("小学", False)])
def test_s02_preschool_needs_no_stage_or_preschool(
    feeds: Feeds, stage: str | None, s02: bool
) -> None:
    feeds.police(birth_date=date(2019, 9, 1))  # 5
    if stage:
        feeds.edu("在读", stage)
    assert ("S02" in feeds.services()) is s02


def test_s02_preschool_is_from_age_3(feeds: Feeds) -> None:
    feeds.police(birth_date=date(2022, 7, 1))  # 2
    assert feeds.services() == EVERYONE | {"S01"}


@pytest.mark.parametrize(
    ("birth", "stage", "s03"),
    [
        (AGE_10, None, True),
        (AGE_10, "小学", True),
        (date(2018, 6, 30), None, True),  # 7
        (date(2018, 7, 1), None, False),  # 6
        (date(2010, 1, 1), "高中", False),  # 15, in senior high school
    ],
)
def test_s03_compulsory_education(feeds: Feeds, birth: date, stage: str | None, s03: bool) -> None:
    feeds.police(birth_date=birth)
    if stage:
        feeds.edu("在读", stage)
    assert ("S03" in feeds.services()) is s03


@pytest.mark.parametrize(("stage", "code"), [("高中", "S04"), ("中职", "S05")])
def test_s04_s05_follow_the_stage(feeds: Feeds, stage: str, code: str) -> None:
    feeds.police(birth_date=date(2010, 1, 1))
    feeds.edu("在读", stage)
    assert feeds.services() == EVERYONE | {code}


def test_s20_daily_visits_for_hardship(feeds: Feeds) -> None:
    feeds.police()
    feeds.civil("低保")
    assert feeds.services() >= {"S13", "S20", "S21"}


def test_asking_for_help_alone_is_paired_help_but_not_daily_visits(feeds: Feeds) -> None:
    feeds.police()
    feeds.add("self_declaration", help_needs="课业辅导")
    services = feeds.services()
    assert "S21" in services
    assert "S20" not in services


@pytest.mark.parametrize(
    ("category", "codes"),
    [("孤儿", {"S10", "S20", "S21"}), ("特困", {"S14", "S20", "S21"}), ("临时救助", {"S15"})],
)
def test_civil_status_services(feeds: Feeds, category: str, codes: set[str]) -> None:
    feeds.police()
    feeds.civil(category)
    assert feeds.services() == EVERYONE | {"S03"} | codes


def test_disabled_children_get_rehabilitation_and_special_education(feeds: Feeds) -> None:
    feeds.police()
    feeds.add("disability_cert", record_key=citizen_id("330483", AGE_10, 11) + "11")
    assert feeds.services() == EVERYONE | {"S03", "S11", "S12", "S20", "S21"}


def test_s09_housing_from_a_declaration(feeds: Feeds) -> None:
    feeds.police()
    feeds.add("self_declaration", housing_hardship=True)
    assert feeds.services() == EVERYONE | {"S03", "S09"}


def test_s08_from_a_diagnosis_on_the_childs_file(feeds: Feeds) -> None:
    feeds.police()
    feeds.con.execute(
        "CREATE TABLE file_flags AS SELECT 'c1' AS child_id, 'mental_disorder' AS flag"
    )
    assert "S08" in feeds.services(file_flags="file_flags")


def test_non_migrants_get_no_services(feeds: Feeds) -> None:
    feeds.police(hukou_code=HERE_COUNTY)
    feeds.civil("低保")
    feeds.police("c2", since=date(2025, 6, 1))
    assert feeds.services("c1") == set()
    assert feeds.services("c2") == set()


def test_services_are_matched_per_child(feeds: Feeds) -> None:
    feeds.police("c1", birth_date=date(2020, 1, 1))
    feeds.police("c2")
    feeds.classify()
    match_services(feeds.con, children="classified", profile=DEFAULT)
    rows = feeds.con.execute(
        "SELECT child_id, count(*) FROM eligible_services GROUP BY ALL ORDER BY 1"
    ).fetchall()
    assert rows == [("c1", len(EVERYONE) + 2), ("c2", len(EVERYONE) + 1)]
