"""The truth follows policy.md, and every boundary case is present with the right answer."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from tonghu.synth import MIN_CHILDREN, generate
from tonghu.synth.tests.conftest import County
from tonghu.synth.truth import age_at, birthday, months_before


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2025, 6, 30), 6, date(2024, 12, 30)),
        (date(2025, 8, 31), 6, date(2025, 2, 28)),
        (date(2024, 8, 31), 6, date(2024, 2, 29)),
        (date(2025, 3, 31), 3, date(2024, 12, 31)),
        (date(2025, 5, 31), 3, date(2025, 2, 28)),
        (date(2025, 1, 15), 3, date(2024, 10, 15)),
    ],
)
def test_months_before(day: date, months: int, expected: date) -> None:
    assert months_before(day, months) == expected


def test_ages_with_29_february() -> None:
    assert age_at(date(2009, 6, 30), date(2025, 6, 30)) == 16
    assert age_at(date(2009, 7, 1), date(2025, 6, 30)) == 15
    born = date(2008, 2, 29)
    assert birthday(born, 2025) == date(2025, 3, 1)
    assert age_at(born, date(2025, 2, 28)) == 16
    assert age_at(born, date(2025, 3, 1)) == 17
    assert age_at(born, date(2024, 2, 29)) == 16


# Each scenario's (is_migrant, is_left_behind, dropout_risk) as policy.md decides at 2025-06-30.
EXPECTED = {
    "age16_birthday_day_before": ("0", "0", ""),
    "age16_birthday_on_D": ("0", "0", ""),
    "age16_birthday_day_after": ("1", "0", ""),
    "age7_birthday_on_D_not_enrolled": ("1", "0", "not_enrolled"),
    "age7_birthday_day_after_not_enrolled": ("1", "0", ""),
    "since_exactly_6_months_before_D": ("1", "0", ""),
    "since_6_months_minus_1_day": ("0", "0", ""),
    "since_6_months_plus_1_day": ("1", "0", ""),
    "since_30_days_before_D": ("0", "0", ""),
    "since_180_days_before_D": ("0", "0", ""),
    "since_184_days_before_D": ("1", "0", ""),
    "hukou_weidong_central_same_city": ("0", "0", ""),
    "hukou_zhanhe_central_same_city": ("0", "0", ""),
    "hukou_shilong_same_city_not_central": ("1", "0", ""),
    "hukou_baofeng_same_city_county": ("1", "0", ""),
    "hukou_other_city_same_province": ("1", "0", ""),
    "hukou_tianjin_central_other_city": ("1", "0", ""),
    "hukou_local_resident": ("0", "0", ""),
    "lb_both_away": ("0", "1", ""),
    "lb_both_away_exactly_3_months": ("0", "1", ""),
    "lb_mother_away_3_months_minus_1_day": ("0", "0", ""),
    "lb_mother_away_3_months_plus_1_day": ("0", "1", ""),
    "lb_father_away_within_county": ("0", "0", ""),
    "lb_both_away_same_city_other_county": ("0", "1", ""),
    "lb_father_away_code_empty": ("0", "0", ""),
    "lb_father_away_mother_home": ("0", "0", ""),
    "lb_both_away_age16_on_D": ("0", "0", ""),
    "lb_both_away_but_hukou_elsewhere": ("1", "0", ""),
    "lb_father_away_mother_重病": ("0", "1", ""),
    "lb_father_away_mother_服刑在押": ("0", "1", ""),
    "lb_father_away_mother_死亡": ("0", "1", ""),
    "lb_latest_visit_mother_returned": ("0", "0", ""),
    "lb_latest_visit_both_left": ("0", "1", ""),
    "dropout_latest_record": ("1", "0", "dropped_out"),
    "dropout_then_reenrolled": ("1", "0", ""),
    "not_enrolled_age9": ("1", "0", "not_enrolled"),
    "not_enrolled_age6": ("1", "0", ""),
    "not_enrolled_age16": ("0", "0", ""),
    "graduated_junior_age15": ("1", "0", ""),
    "suspended_休学": ("1", "0", ""),
    "transferred_out_still_resident": ("1", "0", "not_enrolled"),
    "dropout_not_migrant_central": ("0", "0", "dropped_out"),
    "left_permit_cancelled": ("0", "0", ""),
    "newborn_placeholder_name_no_id": ("0", "0", ""),
    "hukou_majority_of_records": ("1", "0", ""),
    "hukou_tie_source_order": ("1", "0", ""),
}
# Each scenario's (key_care, difficulty).
EXPECTED_CODES = {
    "dibao_ended_day_before_D": ("", ""),
    "dibao_ends_on_D": ("", ""),
    "dibao_ends_day_after_D": ("hardship", "dibao"),
    "dibao_starts_on_D": ("hardship", "dibao"),
    "dibao_starts_day_after_D": ("", ""),
    "civil_dibao_edge": ("hardship", "dibao_edge"),
    "civil_tekun": ("hardship", "tekun"),
    "civil_orphan": ("no_guardian", "orphan"),
    "civil_fuc": ("no_guardian", "fuc"),
    "civil_hiv": ("", "hiv"),
    "civil_temporary_relief_migrant": ("", ""),
    "disability_cert_migrant": ("disability", "disabled"),
    "visit_disabled_without_cert": ("disability", ""),
    "visit_no_guardian_type": ("no_guardian", ""),
    "visit_lives_alone": ("no_guardian", ""),
    "visit_vagrant": ("vagrant", ""),
    "visit_psych": ("psych", ""),
    "both_parents_unable_no_guardian": ("no_guardian", ""),
    "declares_need_text": ("asks_help", ""),
    "declares_need_none_无": ("", ""),
    "declares_need_none_没有": ("", ""),
    "declares_need_none_否": ("", ""),
    "declares_hardship": ("hardship", ""),
}


@pytest.fixture(scope="module")
def truth(county: County) -> dict[str, list[dict[str, str]]]:
    by_scenario: dict[str, list[dict[str, str]]] = {}
    for row in county.truth("children.csv"):
        by_scenario.setdefault(row["scenario"], []).append(row)
    return by_scenario


def test_boundary_classifications(truth: dict[str, list[dict[str, str]]]) -> None:
    for scenario, expected in EXPECTED.items():
        assert scenario in truth, scenario
        (row,) = truth[scenario]
        got = (row["is_migrant"], row["is_left_behind"], row["dropout_risk"])
        assert got == expected, scenario


def test_boundary_codes(truth: dict[str, list[dict[str, str]]]) -> None:
    for scenario, expected in EXPECTED_CODES.items():
        (row,) = truth[scenario]
        assert (row["key_care"], row["difficulty"]) == expected, scenario


def test_sixteenth_birthday_on_d(truth: dict[str, list[dict[str, str]]]) -> None:
    (row,) = truth["age16_birthday_on_D"]
    assert row["birth_date"] == "2009-06-30"
    assert row["is_migrant"] == "0"
    (day_after,) = truth["age16_birthday_day_after"]
    assert day_after["birth_date"] == "2009-07-01"


def test_february_29_and_twins_and_namesakes(truth: dict[str, list[dict[str, str]]]) -> None:
    assert all(r["birth_date"].endswith("-02-29") for r in truth["born_feb29_age_about_9"])
    first, second = truth["twins"]
    assert first["birth_date"] == second["birth_date"]
    assert first["name"] != second["name"]
    (one,) = truth["namesake_same_birth_migrant"]
    (other,) = truth["namesake_same_birth_local"]
    assert (one["name"], one["birth_date"]) == (other["name"], other["birth_date"])
    assert one["id_number"] != other["id_number"]
    (minority,) = truth["minority_name_xinjiang"]
    assert "·" in minority["name"]


def test_services_for_migrants_only(county: County) -> None:
    children = {row["true_child_id"]: row for row in county.truth("children.csv")}
    services = county.truth("services.csv")
    assert services
    for line in services:
        assert children[line["true_child_id"]]["is_migrant"] == "1"
    relief = next(r for r in children.values() if r["scenario"] == "civil_temporary_relief_migrant")
    codes = {s["service_code"] for s in services if s["true_child_id"] == relief["true_child_id"]}
    assert "S15" in codes


def test_random_county_has_every_category(county: County) -> None:
    rows = [r for r in county.truth("children.csv") if not r["scenario"]]
    assert sum(r["is_migrant"] == "1" for r in rows) > len(rows) // 5
    assert any(r["is_left_behind"] == "1" for r in rows)
    assert any(r["key_care"] for r in rows)
    assert any(r["difficulty"] for r in rows)
    ages = {int(r["birth_date"][:4]) for r in rows}
    assert min(ages) <= 2008
    assert max(ages) >= 2024


# Boundary answers that hold whatever the reference date.
ANY_DATE = {
    "age16_birthday_day_before": ("0", "0"),
    "age16_birthday_on_D": ("0", "0"),
    "age16_birthday_day_after": ("1", "0"),
    "since_exactly_6_months_before_D": ("1", "0"),
    "since_6_months_minus_1_day": ("0", "0"),
    "since_6_months_plus_1_day": ("1", "0"),
    "lb_both_away_exactly_3_months": ("0", "1"),
    "lb_mother_away_3_months_minus_1_day": ("0", "0"),
    "lb_mother_away_3_months_plus_1_day": ("0", "1"),
    "hukou_weidong_central_same_city": ("0", "0"),
}


@pytest.mark.parametrize(
    "as_of", [date(2024, 2, 29), date(2025, 8, 31), date(2025, 12, 31), date(2026, 3, 1)]
)
def test_boundaries_at_other_reference_dates(tmp_path: Path, as_of: date) -> None:
    generate(out_dir=tmp_path, children=MIN_CHILDREN, seed=11, as_of=as_of)
    with (tmp_path / "truth" / "children.csv").open(encoding="utf-8", newline="") as handle:
        rows = {row["scenario"]: row for row in csv.DictReader(handle) if row["scenario"]}
    for scenario, expected in ANY_DATE.items():
        row = rows[scenario]
        assert (row["is_migrant"], row["is_left_behind"]) == expected, (as_of, scenario)
    assert rows["dibao_ends_on_D"]["difficulty"] == ""
    assert rows["dibao_starts_on_D"]["difficulty"] == "dibao"
    since = date.fromisoformat(rows["since_exactly_6_months_before_D"]["residence_since"])
    assert since == months_before(as_of, 6)
