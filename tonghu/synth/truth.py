"""The true classification of each synthetic child, by the default rules of policy.md.

It is computed from the child's true birth date and the clean records the departments hold
about it (before noise), exactly as policy.md states the rules, so that a perfect round over
the written feeds would reproduce it.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from tonghu.synth.columns import SOURCE_BY_NAME, SOURCE_ORDER
from tonghu.synth.model import UNABLE_STATES, WORKING_AWAY, Child, Record, Value

# --- Policy numbers. These mirror policy.md (the default policy profile). The real system
# --- reads them from a policy profile file; synth deliberately does not import it.
MIGRANT_AGE_LIMIT = 16  # §2: age < 16 (不满十六周岁)
MIGRANT_MIN_MONTHS = 6  # §2: residence_since at least 6 months before D
LEFT_BEHIND_AGE_LIMIT = 16  # §3: age < 16
PARENT_AWAY_MIN_MONTHS = 3  # §3: each parent away since at least 3 months before D
SCHOOL_AGE_MIN = 7  # §6: 控辍保学 applies to ages 7 to 15
SCHOOL_AGE_MAX = 15
HEALTH_SERVICE_MAX_AGE = 6  # §7 S01: age ≤ 6
PRESCHOOL_MIN_AGE = 3  # §7 S02: 3 ≤ age ≤ 6
PRESCHOOL_MAX_AGE = 6

CODE_LENGTH = 12
COUNTY_DIGITS = 6
CURRENT_EDU_STATUSES = frozenset({"在读", "休学", "辍学"})
ENROLLED_STATUSES = frozenset({"在读", "休学"})
ALWAYS_CURRENT = frozenset({"health_child", "cdc_vaccination", "self_declaration", "visit_survey"})
# policy.md §1: dates that show the child living here.
RESIDENCE_DATE_COLUMNS: dict[str, tuple[str, ...]] = {
    "police_residence": ("来本地日期", "居住登记日期"),
    "edu_migrant": ("入学日期",),
    "health_child": ("建档日期",),
    "cdc_vaccination": ("本地首次接种日期",),
    "self_declaration": ("来本地日期",),
}
RESIDENCE_CODE_COLUMN: dict[str, str] = {
    "police_residence": "居住地区划代码",
    "edu_migrant": "现住址区划代码",
    "health_child": "现住址区划代码",
    "cdc_vaccination": "现居住地区划代码",
    "self_declaration": "现住址区划代码",
    "visit_survey": "现住址区划代码",
}
HUKOU_CODE_COLUMN: dict[str, str] = {
    "police_residence": "户籍地区划代码",
    "edu_migrant": "户籍地区划代码",
    "health_child": "户籍地区划代码",
    "cdc_vaccination": "户籍地区划代码",
    "self_declaration": "户籍地区划代码",
    "visit_survey": "户籍地区划代码",
}
DIFFICULTY_BY_CATEGORY = {
    "低保": "dibao", "低保边缘": "dibao_edge", "特困": "tekun", "孤儿": "orphan",
    "事实无人抚养": "fuc", "艾滋病病毒感染": "hiv",
}  # fmt: skip
DIFFICULTY_ORDER = ("dibao", "dibao_edge", "tekun", "orphan", "fuc", "hiv", "disabled")
KEY_CARE_ORDER = ("hardship", "disability", "no_guardian", "vagrant", "psych", "asks_help")
HARDSHIP_CATEGORIES = frozenset({"低保", "低保边缘", "特困"})
NO_NEED_ANSWERS = frozenset({"", "无", "没有", "否"})
YES = "是"
NO_GUARDIAN_TYPE = "无人监护"
TEMPORARY_RELIEF = "临时救助"
VISIT_SERVICES = frozenset({"hardship", "disability", "no_guardian", "vagrant", "psych"})
ALL_MIGRANTS_SERVICES = ("S06", "S07", "S16", "S17", "S18", "S19", "S22", "S23", "S24", "S25")


def birthday(birth: date, year: int) -> date:
    """The birthday in ``year``; one born on 29 February has it on 1 March in other years."""
    if birth.month == 2 and birth.day == 29 and not calendar.isleap(year):
        return date(year, 3, 1)
    return birth.replace(year=year)


def age_at(birth: date, day: date) -> int:
    """Age in whole years at ``day``."""
    years = day.year - birth.year
    return years if birthday(birth, day.year) <= day else years - 1


def months_before(day: date, months: int) -> date:
    """The same day of the month ``months`` calendar months earlier, or that month's last day."""
    index = day.year * 12 + (day.month - 1) - months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def pad(code: str) -> str:
    return code.ljust(CODE_LENGTH, "0")


@dataclass(frozen=True)
class Truth:
    child_id: str
    name: str
    sex: str
    birth_date: date
    id_number: str
    hukou_code: str
    residence_code: str
    residence_since: date | None
    is_resident: bool
    is_migrant: bool
    is_left_behind: bool
    key_care: tuple[str, ...]
    difficulty: tuple[str, ...]
    dropout_risk: str
    services: tuple[str, ...]
    scenario: str


class Policy:
    """policy.md at reference date ``as_of`` over a division table given as two lookups."""

    def __init__(
        self,
        *,
        as_of: date,
        is_central: Callable[[str], bool],
        city_of: Callable[[str], str],
    ) -> None:
        self.as_of = as_of
        self._is_central = is_central
        self._city_of = city_of
        self.migrant_cutoff = months_before(as_of, MIGRANT_MIN_MONTHS)
        self.away_cutoff = months_before(as_of, PARENT_AWAY_MIN_MONTHS)

    def classify(self, child: Child) -> Truth:
        records = child.records
        by_source: dict[str, list[Record]] = {}
        for record in records:
            by_source.setdefault(record.source, []).append(record)
        age = age_at(child.person.birth, self.as_of)
        current = [r for r in records if self.is_current(r)]
        resident = bool(current)
        since = residence_since(current)
        residence = residence_code(current)
        hukou = hukou_code(records) or child.hukou_code
        migrant = resident and self._migrant(age, hukou, residence, since)
        visit = latest(by_source.get("visit_survey", ()))
        left_behind = resident and self._left_behind(age, hukou, residence, visit)
        categories = self._current_categories(by_source.get("civil_status", ()))
        difficulty = self._difficulty(categories, disabled="disability_cert" in by_source)
        declarations = [r.values for r in by_source.get("self_declaration", ())]
        key_care = self._key_care(categories, declarations, visit, difficulty)
        edu = by_source.get("edu_migrant", [])
        dropout = self._dropout(age, edu, resident=resident, migrant=migrant)
        services = (
            self._services(
                age,
                edu=edu,
                declarations=declarations,
                categories=categories,
                difficulty=difficulty,
                key_care=key_care,
            )
            if migrant
            else ()
        )
        return Truth(
            child_id=child.child_id,
            name=child.person.name,
            sex=child.person.sex,
            birth_date=child.person.birth,
            id_number=child.person.id_number,
            hukou_code=hukou,
            residence_code=residence,
            residence_since=since,
            is_resident=resident,
            is_migrant=migrant,
            is_left_behind=left_behind,
            key_care=key_care,
            difficulty=difficulty,
            dropout_risk=dropout,
            services=services,
            scenario=child.scenario or child.change,
        )

    # §1
    def is_current(self, record: Record) -> bool:
        if record.source == "police_residence":
            return record.values.get("状态") != "注销"
        if record.source == "edu_migrant":
            return record.values.get("学籍状态") in CURRENT_EDU_STATUSES
        return record.source in ALWAYS_CURRENT

    # §2
    def _migrant(self, age: int, hukou: str, residence: str, since: date | None) -> bool:
        if age >= MIGRANT_AGE_LIMIT or not residence or since is None:
            return False
        hukou_county, residence_county = hukou[:COUNTY_DIGITS], residence[:COUNTY_DIGITS]
        if hukou_county == residence_county:
            return False
        if self._same_central_city(hukou_county, residence_county):
            return False
        return since <= self.migrant_cutoff

    def _same_central_city(self, county_a: str, county_b: str) -> bool:
        if not (self._is_central(county_a) and self._is_central(county_b)):
            return False
        return self._city_of(county_a) == self._city_of(county_b)

    # §3
    def _left_behind(self, age: int, hukou: str, residence: str, visit: Record | None) -> bool:
        if visit is None or age >= LEFT_BEHIND_AGE_LIMIT or not residence:
            return False
        county = residence[:COUNTY_DIGITS]
        if hukou[:COUNTY_DIGITS] != county:
            return False
        values = visit.values
        father_away = self._away(values, "父亲", county)
        mother_away = self._away(values, "母亲", county)
        if father_away and mother_away:
            return True
        if father_away:
            return values.get("母亲状况") in UNABLE_STATES
        if mother_away:
            return values.get("父亲状况") in UNABLE_STATES
        return False

    def _away(self, values: Mapping[str, object], parent: str, county: str) -> bool:
        if values.get(f"{parent}状况") != WORKING_AWAY:
            return False
        code = values.get(f"{parent}外出地区划代码")
        since = values.get(f"{parent}外出起始日期")
        if not isinstance(code, str) or not code or code[:COUNTY_DIGITS] == county:
            return False
        return isinstance(since, date) and since <= self.away_cutoff

    # §4
    def _difficulty(self, categories: set[str], *, disabled: bool) -> tuple[str, ...]:
        found = {DIFFICULTY_BY_CATEGORY[c] for c in categories if c in DIFFICULTY_BY_CATEGORY}
        if disabled:
            found.add("disabled")
        return tuple(code for code in DIFFICULTY_ORDER if code in found)

    def _current_categories(self, civil: Iterable[Record]) -> set[str]:
        """类别 of the civil_status records current at D (起始 ≤ D, 终止 empty or after D)."""
        categories = set()
        for record in civil:
            start, end = record.values.get("起始日期"), record.values.get("终止日期")
            started = isinstance(start, date) and start <= self.as_of
            if started and (end is None or (isinstance(end, date) and end > self.as_of)):
                categories.add(str(record.values["类别"]))
        return categories

    # §5
    def _key_care(
        self,
        categories: set[str],
        declarations: list[dict[str, Value]],
        visit: Record | None,
        difficulty: tuple[str, ...],
    ) -> tuple[str, ...]:
        visit_values: Mapping[str, object] = visit.values if visit else {}
        found = set()
        if HARDSHIP_CATEGORIES & categories or any(
            d.get("家庭生活困难") == YES for d in declarations
        ):
            found.add("hardship")
        if "disabled" in difficulty or visit_values.get("残疾") == YES:
            found.add("disability")
        if _no_guardian(visit_values) or {"orphan", "fuc"} & set(difficulty):
            found.add("no_guardian")
        if visit_values.get("流浪") == YES:
            found.add("vagrant")
        if visit_values.get("心理行为异常") == YES:
            found.add("psych")
        if any(str(d.get("求助需求") or "").strip() not in NO_NEED_ANSWERS for d in declarations):
            found.add("asks_help")
        return tuple(code for code in KEY_CARE_ORDER if code in found)

    # §6
    def _dropout(self, age: int, edu: list[Record], *, resident: bool, migrant: bool) -> str:
        if not resident or not SCHOOL_AGE_MIN <= age <= SCHOOL_AGE_MAX:
            return ""
        newest = latest(edu)
        if newest is not None and newest.values.get("学籍状态") == "辍学":
            return "dropped_out"
        if not migrant:
            return ""
        enrolled = any(r.values.get("学籍状态") in ENROLLED_STATUSES for r in edu)
        graduated = any(
            r.values.get("学籍状态") == "毕业" and r.values.get("学段") == "初中" for r in edu
        )
        return "" if enrolled or graduated else "not_enrolled"

    # §7
    def _services(
        self,
        age: int,
        *,
        edu: list[Record],
        declarations: list[dict[str, Value]],
        categories: set[str],
        difficulty: tuple[str, ...],
        key_care: tuple[str, ...],
    ) -> tuple[str, ...]:
        enrolled = latest(r for r in edu if r.values.get("学籍状态") in ENROLLED_STATUSES)
        stage = str(enrolled.values.get("学段") or "") if enrolled else ""
        codes = set(ALL_MIGRANTS_SERVICES)
        rules = (
            ("S01", age <= HEALTH_SERVICE_MAX_AGE),
            ("S02", PRESCHOOL_MIN_AGE <= age <= PRESCHOOL_MAX_AGE and stage in {"", "学前"}),
            ("S03", stage in {"小学", "初中"}
             or (SCHOOL_AGE_MIN <= age <= SCHOOL_AGE_MAX and not stage)),
            ("S04", stage == "高中"),
            ("S05", stage == "中职"),
            ("S09", any(d.get("住房困难") == YES for d in declarations)),
            ("S10", bool({"orphan", "hiv", "fuc"} & set(difficulty))),
            ("S11", "disabled" in difficulty),
            ("S12", "disabled" in difficulty),
            ("S13", "dibao" in difficulty),
            ("S14", "tekun" in difficulty),
            ("S15", TEMPORARY_RELIEF in categories),
            ("S20", bool(VISIT_SERVICES & set(key_care))),
            ("S21", bool(key_care)),
        )  # fmt: skip
        codes.update(code for code, applies in rules if applies)
        return tuple(sorted(codes))


def _no_guardian(visit: Mapping[str, object]) -> bool:
    if visit.get("监护类型") == NO_GUARDIAN_TYPE or visit.get("独自居住") == YES:
        return True
    return visit.get("父亲状况") in UNABLE_STATES and visit.get("母亲状况") in UNABLE_STATES


def record_date(record: Record) -> date | None:
    """The record's own date (policy.md, "latest")."""
    for column in SOURCE_BY_NAME[record.source].date_columns:
        value = record.values.get(column)
        if isinstance(value, date):
            return value
    return None


def latest(records: Iterable[Record]) -> Record | None:
    """The record with the newest own date; on a tie or no date, the later one read."""
    best: Record | None = None
    best_date = date.min
    for record in records:
        own = record_date(record) or date.min
        if best is None or own >= best_date:
            best, best_date = record, own
    return best


def residence_since(current: list[Record]) -> date | None:
    dates = [
        value
        for record in current
        for column in RESIDENCE_DATE_COLUMNS.get(record.source, ())
        if isinstance(value := record.values.get(column), date)
    ]
    return min(dates) if dates else None


def residence_code(current: list[Record]) -> str:
    stating = [
        r for r in current if isinstance(r.values.get(RESIDENCE_CODE_COLUMN.get(r.source, "")), str)
    ]
    stating = [r for r in stating if r.values.get(RESIDENCE_CODE_COLUMN[r.source])]
    newest = latest(stating)
    if newest is None:
        return ""
    return pad(str(newest.values[RESIDENCE_CODE_COLUMN[newest.source]]))


def hukou_code(records: list[Record]) -> str:
    """The hukou code most records state; ties go to the source listed first in feeds.md."""
    votes: dict[str, tuple[int, int]] = {}
    for record in records:
        value = record.values.get(HUKOU_CODE_COLUMN.get(record.source, ""))
        if not isinstance(value, str) or not value:
            continue
        code = pad(value)
        count, first = votes.get(code, (0, len(SOURCE_ORDER)))
        votes[code] = (count + 1, min(first, SOURCE_ORDER[record.source]))
    if not votes:
        return ""
    return min(votes, key=lambda code: (-votes[code][0], votes[code][1]))
