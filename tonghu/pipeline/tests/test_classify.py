"""Classification (policy.md §1–§6) and service matching (§7) on hand-made records.

Each test builds the normalised records of one or two children, links them, classifies at
D = 2025-06-30 (unless it says otherwise) and checks one rule at its boundary.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pyarrow as pa
import pytest

from tonghu.pipeline.classify import classify
from tonghu.pipeline.duck import Connection, connect
from tonghu.pipeline.match import match_services
from tonghu.pipeline.normalise import ID_WEIGHTS, install_macros
from tonghu.pipeline.places import DIVISION_COLUMNS
from tonghu.pipeline.sources import Kind, all_fields
from tonghu.policy import Profile, load_profile

AS_OF = date(2025, 6, 30)
DAY = timedelta(days=1)
HERE = "410402001001"  # 光明社区, 新华区 (平顶山): where the children live
HERE_COUNTY = "410402000000"  # a local child's hukou
SAME_COUNTY = "410402002000"  # 曙光街街道: another street of the same county
ELSEWHERE = "330483000000"  # 桐乡市: a migrant child's hukou
FAR = "440305000000"  # where parents work
LONG_AGO = date(2023, 1, 1)
AGE_10 = date(2015, 3, 1)
AWAY_SINCE = date(2024, 9, 1)
DEFAULT = load_profile("default")

_ARROW_TYPES: dict[Kind, pa.DataType] = {Kind.DATE: pa.date32(), Kind.BOOL: pa.bool_()}
# The columns of an ingested record that classify reads, typed as records.parquet has them.
COLUMNS: dict[str, pa.DataType] = {
    "source": pa.string(),
    "file": pa.string(),
    "sheet": pa.string(),
    "row": pa.int64(),
    **{name: _ARROW_TYPES.get(kind, pa.string()) for name, kind in all_fields().items()},
    "id_valid": pa.bool_(),
    "id_birth_date": pa.date32(),
    "id_sex": pa.string(),
    "hukou_origin": pa.string(),
    "residence_origin": pa.string(),
}
KEY_PREFIX = {
    "police_residence": "J",
    "edu_migrant": "G",
    "health_child": "H",
    "cdc_vaccination": "V",
    "self_declaration": "D",
    "visit_survey": "Z",
    "civil_status": "M",
    "disability_cert": "C",
    "medical_insurance": "Y",
}


def citizen_id(area: str, birth: date, serial: int) -> str:
    """A valid GB 11643 number (odd serial: male)."""
    body = f"{area}{birth:%Y%m%d}{serial:03d}"
    total = sum(int(digit) * weight for digit, weight in zip(body, ID_WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


def divisions_table(*counties: tuple[str, str | None, str]) -> pa.Table:
    """A division table of (county code, city parent code or None, central_urban)."""
    cities = sorted({parent for _, parent, _ in counties if parent})
    rows: list[tuple[str, str, str | None, str]]
    rows = [(code, "city", code[:2] + "0" * 10, "0") for code in cities]
    rows += [(code, "county", parent, central) for code, parent, central in counties]
    return pa.table(
        {
            "code": [row[0] for row in rows],
            "name": [f"区划{row[0][:6]}" for row in rows],
            "level": [row[1] for row in rows],
            "parent_code": [row[2] for row in rows],
            "central_urban": [row[3] for row in rows],
        }
    ).select(list(DIVISION_COLUMNS))


class Feeds:
    """Hand-made normalised records of a few children, and their classification."""

    def __init__(self, con: Connection, divisions: pa.Table) -> None:
        self.con = con
        self.divisions = divisions
        self.rows: list[dict[str, Any]] = []

    def add(self, source: str, child: str = "c1", /, **values: Any) -> str:
        unknown = set(values) - set(COLUMNS)
        if unknown:
            raise KeyError(f"not a record column: {sorted(unknown)}")
        key = str(values.pop("record_key", f"{KEY_PREFIX[source]}{len(self.rows) + 1:03d}"))
        row = {"source": source, "record_key": key, "file": f"{source}.csv", "sheet": ""}
        self.rows.append({**row, "row": len(self.rows) + 1, "child_id": child, **values})
        return key

    def police(self, child: str = "c1", /, **values: Any) -> str:
        """A current residence permit of a child aged 10 from elsewhere, here since 2023."""
        since = values.pop("since", LONG_AGO)
        defaults = {
            "birth_date": AGE_10,
            "hukou_code": ELSEWHERE,
            "residence_code": HERE,
            "arrived_on": since,
            "registered_on": since,
            "permit_status": "有效",
        }
        return self.add("police_residence", child, **{**defaults, **values})

    def edu(
        self, status: str | None, stage: str | None = "小学", child: str = "c1", /, **values: Any
    ) -> str:
        defaults = {"birth_date": AGE_10, "enrolled_on": date(2024, 9, 1)}
        values = {**defaults, **values, "school_status": status, "stage": stage}
        return self.add("edu_migrant", child, **values)

    def visit(self, child: str = "c1", /, **values: Any) -> str:
        """A visit to a local child aged 10 whose parents both work far away since 2024-09."""
        defaults = {
            "birth_date": AGE_10,
            "hukou_code": HERE_COUNTY,
            "residence_code": HERE,
            "visited_on": date(2025, 6, 1),
            "father_status": "外出务工",
            "father_away_code": FAR,
            "father_away_since": AWAY_SINCE,
            "mother_status": "外出务工",
            "mother_away_code": FAR,
            "mother_away_since": AWAY_SINCE,
        }
        return self.add("visit_survey", child, **{**defaults, **values})

    def civil(self, category: str, child: str = "c1", /, **values: Any) -> str:
        defaults = {"starts_on": date(2024, 1, 1), "ends_on": None}
        return self.add("civil_status", child, category=category, **{**defaults, **values})

    def _load(self) -> None:
        table = pa.table(
            {
                name: pa.array([row.get(name) for row in self.rows], type=kind)
                for name, kind in COLUMNS.items()
            }
        )
        self.con.register("hand_made_records", table)
        self.con.execute(
            """CREATE OR REPLACE TABLE records AS SELECT * REPLACE (
                id_valid(id_number) AS id_valid,
                id_birth(id_number) AS id_birth_date,
                id_sex(id_number) AS id_sex,
                coalesce(hukou_origin, CASE WHEN hukou_code IS NOT NULL THEN 'code' END)
                    AS hukou_origin,
                CASE WHEN residence_code IS NOT NULL THEN 'code' END AS residence_origin)
            FROM hand_made_records"""
        )
        links = pa.table(
            {
                "record_id": [f"{row['source']}|{row['record_key']}" for row in self.rows],
                "child_id": [row["child_id"] for row in self.rows],
            }
        )
        self.con.register("hand_made_links", links)
        self.con.execute("CREATE OR REPLACE TABLE links AS SELECT * FROM hand_made_links")

    def classify(
        self,
        *,
        profile: Profile = DEFAULT,
        as_of: date = AS_OF,
        divisions: pa.Table | None = None,
        file_flags: str | None = None,
    ) -> dict[str, dict[str, Any]]:
        self._load()
        table = classify(
            self.con,
            records="records",
            links="links",
            divisions=self.divisions if divisions is None else divisions,
            profile=profile,
            as_of=as_of,
            file_flags=file_flags,
        )
        cursor = self.con.execute(f"SELECT * FROM {table}")
        names = [column[0] for column in cursor.description]
        return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}

    def child(self, child: str = "c1", **options: Any) -> dict[str, Any]:
        return self.classify(**options)[child]

    def services(
        self, child: str = "c1", *, profile: Profile = DEFAULT, **options: Any
    ) -> set[str]:
        self.classify(profile=profile, **options)
        table = match_services(self.con, children="classified", profile=profile)
        rows = self.con.execute(
            f"SELECT service_code FROM {table} WHERE child_id = ?",
            [child],
        ).fetchall()
        return {row[0] for row in rows}


@pytest.fixture
def feeds(divisions: pa.Table) -> Iterator[Feeds]:
    con = connect()
    install_macros(con)
    yield Feeds(con, divisions)
    con.close()


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
