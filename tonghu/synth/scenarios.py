"""Boundary cases of every rule in policy.md, built as explicit children with exact dates.

Each child carries a ``scenario`` code (in truth/children.csv) naming the case. Their rows get
only noise that keeps every value recoverable, so that the truth is reachable exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta

from tonghu.synth import schools
from tonghu.synth.geo import COUNTY
from tonghu.synth.model import (
    AT_HOME,
    UNABLE_STATES,
    WORKING_AWAY,
    Child,
    Family,
    ParentState,
    Person,
)
from tonghu.synth.population import Population, years_before
from tonghu.synth.records import Schooling
from tonghu.synth.truth import age_at, birthday, months_before

OTHER_CITY = "410102"  # 郑州市中原区: same province, other city
SAME_CITY = "410421"  # 宝丰县: same city, not central urban
SAME_CITY_OTHER = "410422"  # 叶县
CENTRAL_WEIDONG = "410403"  # 卫东区: central urban, like the deployment county
CENTRAL_ZHANHE = "410411"  # 湛河区: central urban
NON_CENTRAL_DISTRICT = "410404"  # 石龙区: a district of the same city, not central urban
TIANJIN_CENTRAL = "120101"  # 天津市和平区: central urban of another city
XINJIANG = "650102"  # 乌鲁木齐市天山区
WORK_AWAY = "440305"  # 深圳市南山区
CIVIL_TOWN_VISITOR = "儿童主任"


def shift(day: date, days: int) -> date:
    return day + timedelta(days=days)


def birth_for_birthday(day: date, years: int) -> date | None:
    """A birth date whose ``years``-th birthday is exactly ``day`` (None if there is none)."""
    try:
        candidate = day.replace(year=day.year - years)
    except ValueError:
        return None
    return candidate if birthday(candidate, day.year) == day else None


class Scenarios:
    """Builds the boundary-case families; ordinals start at 1."""

    def __init__(self, population: Population, *, as_of: date) -> None:
        self.pop = population
        self.make = population.make
        self.dice = population.dice
        self.as_of = as_of
        self.m6 = months_before(as_of, 6)
        self.m3 = months_before(as_of, 3)
        self._ordinal = 0

    def families(self) -> Iterator[list[Child]]:
        builders: tuple[Callable[[], list[Child]], ...] = (
            self.age_boundaries,
            self.february_29,
            self.residence_months,
            self.central_urban,
            self.left_behind,
            self.unable_parents,
            self.latest_visit,
            self.visit_flags,
            self.civil_dates,
            self.civil_categories,
            self.disability,
            self.declarations,
            self.dropout,
            self.residence,
            self.hukou_votes,
            self.identities,
        )
        for build in builders:
            for child in build():
                yield [child]

    @property
    def count(self) -> int:
        return self._ordinal

    # Helpers --------------------------------------------------------------------------------
    def _age(self, years: int, days_past: int | None = None) -> date:
        """A birth date giving age ``years`` at D, ``days_past`` (default: 20 to 340) days
        after the birthday."""
        past = self.dice.between(20, 340) if days_past is None else days_past
        return shift(years_before(self.as_of, years), -past)

    def _family(self, kind: str, county: str, birth: date, arrival: date | None = None) -> Family:
        family = self.pop.family(kind, birth, county=county, uyghur=county == XINJIANG or None)
        family.civil = []
        family.hardship = False
        family.father_state = ParentState(AT_HOME)
        family.mother_state = ParentState(AT_HOME)
        family.guardian_type = "父母监护"
        family.carer = None
        family.arrival = arrival
        family.left_on = None
        return family

    def _child(
        self, family: Family, birth: date, scenario: str, *, male: bool | None = None
    ) -> Child:
        self._ordinal += 1
        male = self.dice.chance(0.5) if male is None else male
        person = self.pop.child_person(family, birth, male=male, used=set())
        if not person.id_number:
            person.id_number = self.pop.people.issue_id(family.hukou_county, birth, male=male)
        return Child(self._ordinal, person, family.hukou_code, family, scenario)

    def _finish(self, child: Child) -> Child:
        for record in child.records:
            record.derive_extras = False
        self.pop.insurance_records(child)
        for record in child.records:
            record.derive_extras = False
        return child

    def _schooling(
        self, child: Child, status: str, enrolled: date, index: int | None = None
    ) -> Schooling | None:
        grade = schools.grade_index(child.person.birth, self.as_of) if index is None else index
        found = schools.stage_of(grade)
        if found is None:
            return None
        stage, grade_name, _ = found
        school = schools.school_name(stage, child.family.village, self.dice)
        return Schooling(stage, grade_name, school, enrolled, status)

    def migrant(
        self,
        scenario: str,
        birth: date,
        *,
        county: str = SAME_CITY,
        since: date | None = None,
        school: bool = True,
        police: bool = True,
    ) -> Child:
        """A migrant child living here since ``since``: one police record stating that date
        and, at school age, a current enrolment entered ten days later."""
        since = since or shift(self.as_of, -3 * 365)
        since = max(since, birth)
        family = self._family("migrant", county, birth, arrival=since)
        child = self._child(family, birth, scenario)
        if police:
            child.records.append(
                self.make.police(
                    child, registered=since, arrived=since, residence_code=family.village.code
                )
            )
        age = age_at(birth, self.as_of)
        if school and age >= 3:
            enrolled = min(shift(since, 10), self.as_of)
            found = self._schooling(child, "在读", enrolled)
            if found is not None:
                child.records.append(self.make.edu(child, found))
        return child

    def local(
        self,
        scenario: str,
        birth: date,
        *,
        father: ParentState | None = None,
        mother: ParentState | None = None,
        visited: date | None = None,
        guardian_type: str | None = None,
        flags: dict[str, bool] | None = None,
    ) -> Child:
        """A child of the county with one visit record stating where its parents are."""
        family = self._family("local", COUNTY, birth)
        family.father_state = father or ParentState(AT_HOME)
        family.mother_state = mother or ParentState(AT_HOME)
        for state in (family.father_state, family.mother_state):
            if state.away_code:
                self.pop.geo.used_counties.add(state.away_code[:6])
        if AT_HOME not in {family.father_state.status, family.mother_state.status}:
            self.pop.add_carer(family)
            family.guardian_type = "祖辈监护"
        child = self._child(family, birth, scenario)
        child.records.append(
            self.make.visit(
                child,
                visited=visited or shift(self.as_of, -20),
                guardian_type=guardian_type,
                flags=flags,
                visitor=CIVIL_TOWN_VISITOR,
            )
        )
        return child

    def away(self, since: date, code: str = WORK_AWAY) -> ParentState:
        return ParentState(WORKING_AWAY, code, since)

    # Scenarios ------------------------------------------------------------------------------
    def age_boundaries(self) -> list[Child]:
        children = []
        for scenario, offset in (
            ("age16_birthday_day_before", -1),
            ("age16_birthday_on_D", 0),
            ("age16_birthday_day_after", 1),
        ):
            birth = birth_for_birthday(shift(self.as_of, offset), 16)
            if birth is not None:
                children.append(self._finish(self.migrant(scenario, birth)))
        birth = birth_for_birthday(self.as_of, 7)
        if birth is not None:
            children.append(
                self._finish(self.migrant("age7_birthday_on_D_not_enrolled", birth, school=False))
            )
        birth = birth_for_birthday(shift(self.as_of, 1), 7)
        if birth is not None:
            children.append(
                self._finish(
                    self.migrant("age7_birthday_day_after_not_enrolled", birth, school=False)
                )
            )
        children.append(self._finish(self.migrant("age17", self._age(17))))
        return children

    def february_29(self) -> list[Child]:
        children = []
        for scenario, years in (("born_feb29_age_about_16", 16), ("born_feb29_age_about_9", 9)):
            year = self.as_of.year - years
            while not _is_leap(year):
                year -= 1
            birth = date(year, 2, 29)
            if birth <= self.as_of:
                children.append(self._finish(self.migrant(scenario, birth, school=False)))
        return children

    def residence_months(self) -> list[Child]:
        cases = (
            ("since_exactly_6_months_before_D", self.m6),
            ("since_6_months_minus_1_day", shift(self.m6, 1)),
            ("since_6_months_plus_1_day", shift(self.m6, -1)),
            ("since_180_days_before_D", shift(self.as_of, -180)),
            ("since_184_days_before_D", shift(self.as_of, -184)),
            ("since_month_end_6_months_before", _month_end(self.m6)),
            ("since_30_days_before_D", shift(self.as_of, -30)),
        )
        return [
            self._finish(self.migrant(scenario, self._age(10), county=OTHER_CITY, since=since))
            for scenario, since in cases
        ]

    def central_urban(self) -> list[Child]:
        cases = (
            ("hukou_weidong_central_same_city", CENTRAL_WEIDONG),
            ("hukou_zhanhe_central_same_city", CENTRAL_ZHANHE),
            ("hukou_shilong_same_city_not_central", NON_CENTRAL_DISTRICT),
            ("hukou_baofeng_same_city_county", SAME_CITY),
            ("hukou_other_city_same_province", OTHER_CITY),
            ("hukou_tianjin_central_other_city", TIANJIN_CENTRAL),
        )
        children = [self._finish(self.migrant(s, self._age(9), county=c)) for s, c in cases]
        local = self.local("hukou_local_resident", self._age(9))
        children.append(self._finish(local))
        town = self.migrant("residence_code_town_level", self._age(8), police=False)
        town.records.append(
            self.make.police(
                town,
                registered=shift(self.as_of, -900),
                arrived=shift(self.as_of, -900),
                residence_code=town.family.village.town_code[:9],
            )
        )
        children.append(self._finish(town))
        return children

    def left_behind(self) -> list[Child]:
        long_ago = shift(self.as_of, -730)
        same_county = f"{COUNTY}100"
        cases = (
            ("lb_both_away", self.away(long_ago), self.away(long_ago)),
            ("lb_both_away_exactly_3_months", self.away(self.m3), self.away(self.m3)),
            (
                "lb_mother_away_3_months_minus_1_day",
                self.away(long_ago),
                self.away(shift(self.m3, 1)),
            ),
            (
                "lb_mother_away_3_months_plus_1_day",
                self.away(long_ago),
                self.away(shift(self.m3, -1)),
            ),
            ("lb_father_away_within_county", self.away(long_ago, same_county), self.away(long_ago)),
            (
                "lb_both_away_same_city_other_county",
                self.away(long_ago, CENTRAL_ZHANHE),
                self.away(long_ago, CENTRAL_ZHANHE + "001000"),
            ),
            ("lb_father_away_code_empty", self.away(long_ago, ""), self.away(long_ago)),
            ("lb_father_away_mother_home", self.away(long_ago), ParentState(AT_HOME)),
        )
        children = [
            self._finish(self.local(scenario, self._age(9), father=father, mother=mother))
            for scenario, father, mother in cases
        ]
        birth = birth_for_birthday(self.as_of, 16)
        if birth is not None:
            children.append(
                self._finish(
                    self.local(
                        "lb_both_away_age16_on_D",
                        birth,
                        father=self.away(long_ago),
                        mother=self.away(long_ago),
                    )
                )
            )
        migrant = self.migrant(
            "lb_both_away_but_hukou_elsewhere", self._age(9), county=SAME_CITY_OTHER
        )
        migrant.family.father_state = self.away(long_ago)
        migrant.family.mother_state = self.away(long_ago)
        migrant.records.append(
            self.make.visit(migrant, visited=shift(self.as_of, -15), visitor=CIVIL_TOWN_VISITOR)
        )
        children.append(self._finish(migrant))
        return children

    def unable_parents(self) -> list[Child]:
        long_ago = shift(self.as_of, -400)
        children = [
            self._finish(
                self.local(
                    f"lb_father_away_mother_{state}",
                    self._age(8),
                    father=self.away(long_ago),
                    mother=ParentState(state),
                )
            )
            for state in UNABLE_STATES
        ]
        children.append(
            self._finish(
                self.local(
                    "both_parents_unable_no_guardian",
                    self._age(11),
                    father=ParentState("死亡"),
                    mother=ParentState("服刑在押"),
                    guardian_type="祖辈监护",
                )
            )
        )
        return children

    def latest_visit(self) -> list[Child]:
        long_ago = shift(self.as_of, -700)
        children = []
        home = self.local(
            "lb_latest_visit_mother_returned", self._age(10), visited=shift(self.as_of, -10)
        )
        home.records.insert(
            0,
            self.make.visit(
                home,
                visited=shift(self.as_of, -200),
                father_state=self.away(long_ago),
                mother_state=self.away(long_ago),
                visitor=CIVIL_TOWN_VISITOR,
            ),
        )
        home.family.father_state = self.away(long_ago)
        home.records[-1].values.update(
            {
                "父亲状况": WORKING_AWAY,
                "父亲外出地区划代码": WORK_AWAY,
                "父亲外出起始日期": long_ago,
            }
        )
        children.append(self._finish(home))
        away = self.local(
            "lb_latest_visit_both_left",
            self._age(10),
            father=self.away(long_ago),
            mother=self.away(long_ago),
            visited=shift(self.as_of, -10),
        )
        away.records.insert(
            0,
            self.make.visit(
                away,
                visited=shift(self.as_of, -900),
                father_state=ParentState(AT_HOME),
                mother_state=ParentState(AT_HOME),
                visitor=CIVIL_TOWN_VISITOR,
            ),
        )
        children.append(self._finish(away))
        return children

    def visit_flags(self) -> list[Child]:
        long_ago = shift(self.as_of, -500)
        return [
            self._finish(
                self.local(
                    "visit_no_guardian_type",
                    self._age(12),
                    father=self.away(long_ago),
                    mother=self.away(long_ago),
                    guardian_type="无人监护",
                )
            ),
            self._finish(self.local("visit_lives_alone", self._age(14), flags={"alone": True})),
            self._finish(self.local("visit_vagrant", self._age(13), flags={"vagrant": True})),
            self._finish(self.local("visit_psych", self._age(11), flags={"psych": True})),
            self._finish(
                self.local("visit_disabled_without_cert", self._age(6), flags={"disabled": True})
            ),
        ]

    def civil_dates(self) -> list[Child]:
        start = shift(self.as_of, -400)
        cases = (
            ("dibao_ended_day_before_D", start, shift(self.as_of, -1)),
            ("dibao_ends_on_D", start, self.as_of),
            ("dibao_ends_day_after_D", start, shift(self.as_of, 1)),
            ("dibao_starts_on_D", self.as_of, None),
            ("dibao_starts_day_after_D", shift(self.as_of, 1), None),
        )
        children = []
        for scenario, first, end in cases:
            child = self.local(scenario, self._age(7))
            child.records.append(self.make.civil(child, category="低保", start=first, end=end))
            children.append(self._finish(child))
        return children

    def civil_categories(self) -> list[Child]:
        start = shift(self.as_of, -600)
        children = []
        for scenario, category in (
            ("civil_dibao_edge", "低保边缘"),
            ("civil_tekun", "特困"),
            ("civil_orphan", "孤儿"),
            ("civil_fuc", "事实无人抚养"),
            ("civil_hiv", "艾滋病病毒感染"),
        ):
            child = self.local(scenario, self._age(10))
            child.records.append(self.make.civil(child, category=category, start=start, end=None))
            children.append(self._finish(child))
        relief = self.migrant("civil_temporary_relief_migrant", self._age(8), county=OTHER_CITY)
        relief.records.append(self.make.civil(relief, category="临时救助", start=start, end=None))
        children.append(self._finish(relief))
        return children

    def disability(self) -> list[Child]:
        child = self.migrant("disability_cert_migrant", self._age(9), county=SAME_CITY)
        child.records.append(
            self.make.disability(child, category=4, grade=2, issued=shift(self.as_of, -500))
        )
        return [self._finish(child)]

    def declarations(self) -> list[Child]:
        children = []
        cases = (
            ("declares_need_text", False, False, "孩子上学需要资助"),
            ("declares_need_none_无", False, False, "无"),
            ("declares_need_none_没有", False, False, "没有"),
            ("declares_need_none_否", False, False, "否"),
            ("declares_hardship", True, False, ""),
            ("declares_housing_migrant", False, True, ""),
        )
        for scenario, hardship, housing, need in cases:
            child = self.migrant(scenario, self._age(10), county=OTHER_CITY)
            child.records.append(
                self.make.self_declaration(
                    child,
                    declared=shift(self.as_of, -40),
                    arrived=child.family.arrival,
                    hardship=hardship,
                    housing=housing,
                    need=need,
                )
            )
            children.append(self._finish(child))
        return children

    def dropout(self) -> list[Child]:
        children = []
        dropped = self.migrant("dropout_latest_record", self._age(13), school=False)
        self._edu(dropped, "在读", shift(self.as_of, -700), index=5)
        self._edu(dropped, "辍学", shift(self.as_of, -90))
        children.append(self._finish(dropped))
        back = self.migrant("dropout_then_reenrolled", self._age(12), school=False)
        self._edu(back, "辍学", shift(self.as_of, -400), index=5)
        self._edu(back, "在读", shift(self.as_of, -60))
        children.append(self._finish(back))
        children.append(self._finish(self.migrant("not_enrolled_age9", self._age(9), school=False)))
        children.append(self._finish(self.migrant("not_enrolled_age6", self._age(6), school=False)))
        children.append(
            self._finish(self.migrant("not_enrolled_age16", self._age(16), school=False))
        )
        graduate = self.migrant("graduated_junior_age15", self._age(15, 20), school=False)
        self._edu(graduate, "毕业", shift(self.as_of, -1000), index=9)
        children.append(self._finish(graduate))
        paused = self.migrant("suspended_休学", self._age(11), school=False)
        self._edu(paused, "休学", shift(self.as_of, -800))
        children.append(self._finish(paused))
        moved = self.migrant("transferred_out_still_resident", self._age(10), school=False)
        self._edu(moved, "转出", shift(self.as_of, -800))
        children.append(self._finish(moved))
        central = self.migrant(
            "dropout_not_migrant_central", self._age(12), county=CENTRAL_WEIDONG, school=False
        )
        self._edu(central, "辍学", shift(self.as_of, -300))
        children.append(self._finish(central))
        return children

    def _edu(self, child: Child, status: str, enrolled: date, index: int | None = None) -> None:
        found = self._schooling(child, status, enrolled, index)
        if found is not None:
            child.records.append(self.make.edu(child, found))
            if (
                child.records[-1].key.startswith("G")
                and sum(r.source == "edu_migrant" for r in child.records) > 1
            ):
                child.records[-1].key = child.records[-1].key.replace("G", "L", 1)
                child.records[-1].values["学籍号"] = child.records[-1].key

    def residence(self) -> list[Child]:
        children = []
        left = self.migrant("left_permit_cancelled", self._age(10), police=False, school=False)
        left.records.append(
            self.make.police(
                left,
                registered=shift(self.as_of, -900),
                arrived=shift(self.as_of, -900),
                status="注销",
            )
        )
        self._edu(left, "转出", shift(self.as_of, -700))
        children.append(self._finish(left))
        moved = self.migrant("moved_within_county", self._age(10), school=False)
        moved.family.village = self.pop.geo.villages[-1]
        moved.records.append(
            self.make.visit(moved, visited=shift(self.as_of, -5), visitor=CIVIL_TOWN_VISITOR)
        )
        children.append(self._finish(moved))
        return children

    def hukou_votes(self) -> list[Child]:
        children = []
        majority = self.migrant(
            "hukou_majority_of_records", self._age(4), county=SAME_CITY, school=False
        )
        family = majority.family
        arrival = family.arrival or self.as_of
        majority.records.append(
            self.make.cdc(majority, first=shift(arrival, 5), last=shift(arrival, 40), with_id=True)
        )
        health = self.make.health(majority, created=shift(arrival, 3))
        health.values["户籍地区划代码"] = family.village.code
        majority.records.append(health)
        children.append(self._finish(majority))
        tie = self.migrant("hukou_tie_source_order", self._age(4), county=SAME_CITY, school=False)
        tie_health = self.make.health(tie, created=shift(tie.family.arrival or self.as_of, 3))
        tie_health.values["户籍地区划代码"] = SAME_CITY_OTHER
        tie.records.append(tie_health)
        children.append(self._finish(tie))
        return children

    def identities(self) -> list[Child]:
        children = []
        twins_birth = self._age(8, 40)
        first = self.migrant("twins", twins_birth, county=OTHER_CITY)
        second = self._child(first.family, twins_birth, "twins", male=not first.person.male)
        while second.person.name == first.person.name:
            second.person.name = second.person.name + "二"
        since = first.family.arrival or self.as_of
        second.records.append(
            self.make.police(
                second, registered=since, arrived=since, residence_code=first.family.village.code
            )
        )
        children += [self._finish(first), self._finish(second)]
        birth = self._age(10, 77)
        one = self.migrant("namesake_same_birth_migrant", birth, county=SAME_CITY)
        other = self.local("namesake_same_birth_local", birth)
        other.person.name = one.person.name
        other.person.sex = one.person.sex
        for record in other.records:
            for column in ("儿童姓名", "姓名", "性别"):
                if column in record.values:
                    record.values[column] = one.person.name if column != "性别" else one.person.sex
        other.person.id_number = self.pop.people.issue_id(COUNTY, birth, male=one.person.male)
        for record in other.records:
            if "身份证号" in record.values:
                record.values["身份证号"] = other.person.id_number
        children += [self._finish(one), self._finish(other)]
        children.append(self._finish(self.newborn()))
        children.append(
            self._finish(self.migrant("minority_name_xinjiang", self._age(9), county=XINJIANG))
        )
        conflict = self.migrant("stated_birth_contradicts_id", self._age(11), county=OTHER_CITY)
        for record in conflict.records:
            if record.source == "police_residence":
                record.values["出生日期"] = shift(conflict.person.birth, 1)
        children.append(self._finish(conflict))
        return children

    def newborn(self) -> Child:
        birth = shift(self.as_of, -30)
        family = self._family("migrant", OTHER_CITY, birth, arrival=shift(self.as_of, -400))
        self._ordinal += 1
        male = self.dice.chance(0.5)
        person = self.pop.child_person(family, birth, male=male, used=set())
        person.id_number = ""
        child = Child(
            self._ordinal, person, family.hukou_code, family, "newborn_placeholder_name_no_id"
        )
        mother = family.mother or Person("", "女", birth)
        child.records.append(
            self.make.health(
                child,
                created=shift(birth, 3),
                name=mother.name + ("之子" if male else "之女"),
                with_id=False,
            )
        )
        child.records.append(
            self.make.cdc(child, first=shift(birth, 1), last=shift(birth, 28), with_id=False)
        )
        return child


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _month_end(day: date) -> date:
    following = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return following - timedelta(days=1)
