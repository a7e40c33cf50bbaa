"""Where a child lives (policy.md §1) and its consensus identity."""

from __future__ import annotations

from datetime import date

import pytest

from tonghu.pipeline.tests.classify_feeds import (
    AGE_10,
    ELSEWHERE,
    HERE,
    HERE_COUNTY,
    Feeds,
    citizen_id,
)

# --- §1 where a child lives now --------------------------------------------------------------


def test_a_current_residence_permit_makes_a_resident(feeds: Feeds) -> None:
    feeds.police()
    child = feeds.child()
    assert child["is_resident"]
    assert child["residence_code"] == HERE


def test_a_cancelled_residence_permit_alone_is_not_residence(feeds: Feeds) -> None:
    feeds.police(permit_status="注销")
    child = feeds.child()
    assert not child["is_resident"]
    assert not child["is_migrant"]
    assert child["residence_code"] is None
    assert "§1" in child["reasons"]


def test_a_residence_permit_without_a_status_is_current(feeds: Feeds) -> None:
    feeds.police(permit_status=None)
    assert feeds.child()["is_resident"]


@pytest.mark.parametrize(
    ("status", "resident"),
    [
        ("在读", True),
        ("休学", True),
        ("辍学", True),
        ("转出", False),
        ("毕业", False),
        (None, False),
    ],
)
def test_an_enrolment_is_current_while_in_school_suspended_or_dropped_out(
    feeds: Feeds, status: str | None, resident: bool
) -> None:
    feeds.edu(status, hukou_code=ELSEWHERE, residence_code=HERE)
    assert feeds.child()["is_resident"] is resident


@pytest.mark.parametrize(
    ("source", "resident"),
    [
        ("health_child", True),
        ("cdc_vaccination", True),
        ("self_declaration", True),
        ("visit_survey", True),
        ("civil_status", False),
        ("disability_cert", False),
        ("medical_insurance", False),
    ],
)
def test_which_sources_show_a_child_living_here(feeds: Feeds, source: str, resident: bool) -> None:
    feeds.add(source, birth_date=AGE_10, residence_code=HERE)
    assert feeds.child()["is_resident"] is resident


def test_residence_since_is_the_earliest_date_over_current_records(feeds: Feeds) -> None:
    feeds.police(arrived_on=date(2024, 3, 1), registered_on=date(2024, 4, 1))
    feeds.add("health_child", birth_date=AGE_10, filed_on=date(2023, 11, 5))
    feeds.add("cdc_vaccination", first_vaccinated_on=date(2024, 1, 2))
    feeds.police(since=date(2020, 1, 1), permit_status="注销")
    feeds.edu("转出", enrolled_on=date(2019, 9, 1))
    assert feeds.child()["residence_since"] == date(2023, 11, 5)


def test_a_child_without_a_date_of_living_here_has_no_residence_since(feeds: Feeds) -> None:
    feeds.police(since=None)
    child = feeds.child()
    assert child["is_resident"]
    assert child["residence_since"] is None
    assert not child["is_migrant"]
    assert "无来本地日期" in child["reasons"]


def test_the_residence_code_is_that_of_the_latest_current_record(feeds: Feeds) -> None:
    feeds.police(since=date(2024, 1, 1), residence_code="410402001002")
    feeds.edu("在读", enrolled_on=date(2025, 2, 1), residence_code=HERE)
    feeds.police(since=date(2025, 5, 1), residence_code="410402002001", permit_status="注销")
    feeds.add("self_declaration", declared_on=date(2025, 6, 1), residence_code=None)
    assert feeds.child()["residence_code"] == HERE


def test_a_residence_code_shorter_than_a_village_is_kept_at_its_level(feeds: Feeds) -> None:
    feeds.police(residence_code=HERE_COUNTY)
    child = feeds.child()
    assert child["residence_code"] == HERE_COUNTY
    assert child["is_migrant"]


# --- identity: consensus over the records ---------------------------------------------------


def test_the_hukou_stated_by_most_records_wins(feeds: Feeds) -> None:
    feeds.police(hukou_code="420102000000")
    feeds.edu("在读", hukou_code=ELSEWHERE)
    feeds.add("health_child", hukou_code=ELSEWHERE)
    assert feeds.child()["hukou_code"] == ELSEWHERE


@pytest.mark.parametrize(
    ("first", "second"),
    [("police_residence", "edu_migrant"), ("edu_migrant", "health_child")],
)
def test_a_hukou_tie_goes_to_the_source_listed_first(feeds: Feeds, first: str, second: str) -> None:
    # The first source's value sorts last, so only the source order can pick it.
    feeds.add(second, hukou_code=ELSEWHERE, residence_code=HERE)
    feeds.add(first, hukou_code="420102000000", residence_code=HERE)
    assert feeds.child()["hukou_code"] == "420102000000"


def test_a_stated_hukou_beats_the_id_number_prefix(feeds: Feeds) -> None:
    number = citizen_id("420102", AGE_10, 11)
    feeds.police(id_number=number, hukou_code="420102000000", hukou_origin="id_prefix")
    feeds.add("health_child", id_number=number, hukou_code="420102000000", hukou_origin="id_prefix")
    feeds.edu("在读", hukou_code=ELSEWHERE)
    assert feeds.child()["hukou_code"] == ELSEWHERE


def test_a_valid_id_number_decides_birth_date_and_sex(feeds: Feeds) -> None:
    number = citizen_id("330483", date(2014, 5, 5), 12)  # even serial: a girl
    feeds.police(birth_date=date(2015, 1, 1), sex="男")
    feeds.edu("在读", birth_date=date(2015, 1, 1), sex="男")
    feeds.add("health_child", id_number=number, birth_date=date(2015, 1, 1), sex="男")
    child = feeds.child()
    assert child["id_number"] == number
    assert child["birth_date"] == date(2014, 5, 5)
    assert child["sex"] == "女"
    assert child["age"] == 11


def test_an_invalid_id_number_decides_nothing(feeds: Feeds) -> None:
    number = citizen_id("330483", date(2014, 5, 5), 12)
    broken = number[:-1] + ("0" if number[-1] != "0" else "1")
    feeds.police(birth_date=date(2015, 1, 1), id_number=broken)
    child = feeds.child()
    assert child["id_number"] is None
    assert child["birth_date"] == date(2015, 1, 1)
