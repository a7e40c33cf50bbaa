"""Random families and children of the synthetic county, with the clean records each
department holds about them according to their true facts."""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import date, timedelta

import numpy as np

from tonghu.synth import names, schools
from tonghu.synth.draws import Dice, Sampler
from tonghu.synth.geo import COUNTY, HUKOU_GROUP_WEIGHTS, WORK_PROVINCES, Geography
from tonghu.synth.model import (
    AT_HOME,
    FEMALE,
    MALE,
    UNABLE_STATES,
    WORKING_AWAY,
    Child,
    Family,
    ParentState,
    Person,
)
from tonghu.synth.people import People, hukou_address, street_address
from tonghu.synth.records import DISABILITY_CATEGORIES, RecordMaker
from tonghu.synth.settings import DEFAULT_SETTINGS, NoiseSettings
from tonghu.synth.truth import age_at

# Share of children aged 0..17 (fewer recent births, as in the national statistics).
AGE_WEIGHTS = (0.55, 0.56, 0.58, 0.62, 0.72, 0.82, 0.88, 0.95, 1.0, 1.0, 0.97, 0.93,
               0.92, 0.92, 0.92, 0.9, 0.9, 0.9)  # fmt: skip
FAMILY_KINDS = (("local", 0.52), ("migrant", 0.44), ("left", 0.04))
CHILDREN_PER_FAMILY = ((1, 0.45), (2, 0.40), (3, 0.12), (4, 0.03))
# Parents of local families: (father, mother) situation.
LOCAL_PARENTS = (
    (("home", "home"), 0.58),
    (("away", "home"), 0.18),
    (("home", "away"), 0.03),
    (("away", "away"), 0.13),
    (("away", "unable"), 0.015),
    (("unable", "away"), 0.01),
    (("unable", "home"), 0.012),
    (("home", "unable"), 0.008),
    (("orphan", "orphan"), 0.003),
    (("fuc", "fuc"), 0.004),
)
NEED_TEXTS = (("", 4.0), ("无", 1.5), ("没有", 0.5), ("否", 0.3), ("希望申请助学金", 1.0),
              ("孩子上学需要资助", 1.0), ("需要心理辅导", 0.4), ("申请临时救助", 0.6),
              ("希望解决入学问题", 0.6), ("住房困难，希望申请公租房", 0.5))  # fmt: skip
INCOMES = (("务工收入", 6.0), ("务农收入", 2.0), ("经营收入", 1.0), ("低保金", 0.5),
           ("亲友资助", 0.3))  # fmt: skip
MAX_AGE = 17
NEWBORN_DAYS = 120  # a baby this young may still be registered under its mother's name
EARLY_RECORD_DAYS = 60  # a record made this soon after birth may predate the baby's name


def years_before(day: date, years: int) -> date:
    year = day.year - years
    if day.month == 2 and day.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return day.replace(year=year)


def days_before(day: date, days: int) -> date:
    return day - timedelta(days=days)


class Population:
    """Random families, their children and the children's records."""

    def __init__(
        self,
        *,
        geo: Geography,
        people: People,
        records: RecordMaker,
        dice: Dice,
        generator: np.random.Generator,
        as_of: date,
        settings: NoiseSettings = DEFAULT_SETTINGS,
    ) -> None:
        self.settings = settings
        self.geo = geo
        self.people = people
        self.make = records
        self.dice = dice
        self.as_of = as_of
        self._age = Sampler(generator, range(MAX_AGE + 1), AGE_WEIGHTS)
        self._group = Sampler(
            generator, [g for g, _ in HUKOU_GROUP_WEIGHTS], [w for _, w in HUKOU_GROUP_WEIGHTS]
        )
        self._village = Sampler(
            generator, geo.villages, [3.0 if v.is_community else 1.0 for v in geo.villages]
        )
        self._work = Sampler(
            generator, [p for p, _ in WORK_PROVINCES], [w for _, w in WORK_PROVINCES]
        )

    # Families ---------------------------------------------------------------------------
    def families(self, *, first_ordinal: int, last_ordinal: int) -> Iterator[list[Child]]:
        """Random families until ``last_ordinal`` children exist, each with its records."""
        ordinal = first_ordinal
        while ordinal <= last_ordinal:
            kind = self.dice.weighted(FAMILY_KINDS)
            wanted = min(self.dice.weighted(CHILDREN_PER_FAMILY), last_ordinal - ordinal + 1)
            births = self.sibling_births(wanted)
            family = self.family(kind, births[0])
            children = self.children(family, births, ordinal)
            for child in children:
                self.add_records(child)
            ordinal += len(children)
            yield children

    def sibling_births(self, count: int) -> list[date]:
        age = self._age.draw()
        eldest = self.dice.day_between(
            years_before(self.as_of, age + 1) + timedelta(days=1), years_before(self.as_of, age)
        )
        births = [eldest]
        while len(births) < count:
            if self.dice.chance(self.settings.twins):
                births.append(births[-1])
                continue
            following = births[-1] + timedelta(days=self.dice.between(330, 2900))
            if following > self.as_of:
                break
            births.append(following)
        return births

    def hukou_county(self, kind: str) -> str:
        if kind == "local":
            return COUNTY
        group = self.geo.hukou_groups[self._group.draw()]
        return self.dice.pick(group)

    def family(
        self,
        kind: str,
        eldest_birth: date,
        *,
        county: str | None = None,
        uyghur: bool | None = None,
    ) -> Family:
        county = county or self.hukou_county(kind)
        self.geo.used_counties.add(county)
        village = self._village.draw()
        local = county == COUNTY
        hukou_village = village
        if local and self.dice.chance(0.15):
            hukou_village = self._village.draw()
        family = Family(
            kind=kind,
            hukou_code=hukou_village.code if local else county + "000000",
            hukou_address=hukou_address(
                self.geo, county, hukou_village if local else None, self.dice
            ),
            village=village,
            address=street_address(village, self.dice),
            income=self.dice.weighted(INCOMES),
        )
        self.parents(family, eldest_birth, uyghur=uyghur)
        if kind != "local":
            self.migration(family, eldest_birth)
        self.situation(family, "local" if kind == "local" else kind)
        self.civil_statuses(family)
        return family

    def parents(self, family: Family, eldest_birth: date, *, uyghur: bool | None = None) -> None:
        county = family.hukou_county
        if uyghur is None:
            uyghur = county[:2] == "65" and self.dice.chance(0.85)
        mother_birth = days_before(eldest_birth, self.dice.between(20 * 365, 36 * 365))
        father_birth = days_before(mother_birth, self.dice.between(-2 * 365, 6 * 365))
        surname = self.people.surname()
        family.father = self.people.adult(
            male=True, birth=father_birth, area=self.people.id_area(county), surname=surname,
            uyghur=uyghur,
        )  # fmt: skip
        family.mother = self.people.adult(
            male=False, birth=mother_birth, area=self.people.id_area(county), uyghur=uyghur
        )

    def migration(self, family: Family, eldest_birth: date) -> None:
        as_of = self.as_of
        if family.kind == "left":
            arrival = self.dice.day_between(days_before(as_of, 2500), days_before(as_of, 400))
            family.arrival = arrival
            family.left_on = self.dice.day_between(
                arrival + timedelta(days=180), days_before(as_of, 10)
            )
            return
        if self.dice.chance(0.1):
            arrival = self.dice.day_between(days_before(as_of, 200), as_of)
        else:
            arrival = self.dice.day_between(days_before(as_of, 3650), days_before(as_of, 200))
        family.arrival = max(arrival, days_before(eldest_birth, 365 * 3))

    def situation(self, family: Family, kind: str) -> None:
        """Where the parents are, who cares for the children and the guardianship type."""
        if kind == "local":
            father, mother = self.dice.weighted(LOCAL_PARENTS)
        else:
            father, mother = ("away" if self.dice.chance(0.08) else "home"), "home"
        if (father, mother) == ("orphan", "orphan"):
            family.father_state = ParentState("死亡")
            family.mother_state = ParentState("死亡")
        elif (father, mother) == ("fuc", "fuc"):
            family.father_state = ParentState(self.dice.pick(("服刑在押", "死亡", "强制隔离戒毒")))
            family.mother_state = ParentState(self.dice.pick(("失联", "重残", "无监护能力")))
        else:
            family.father_state = self.parent_state(father)
            family.mother_state = self.parent_state(mother)
        statuses = (family.father_state.status, family.mother_state.status)
        if AT_HOME in statuses:
            family.guardian_type = (
                "父母监护" if not set(statuses) & set(UNABLE_STATES) else "单亲监护"
            )
            return
        self.add_carer(family)
        family.guardian_type = self.dice.weighted(
            (("祖辈监护", 0.8), ("亲属监护", 0.08), ("委托监护", 0.1), ("无人监护", 0.02))
        )

    def add_carer(self, family: Family) -> None:
        """A grandparent who looks after the children while no parent is at home."""
        father = family.father
        if father is None:
            return
        paternal = self.dice.chance(0.75)
        family.carer = self.people.adult(
            male=self.dice.chance(0.3),
            birth=days_before(father.birth, self.dice.between(22 * 365, 32 * 365)),
            area=family.hukou_county,
            surname=(names.split_name(father.name)[0] or None) if paternal else None,
            elder=True,
        )
        family.carer_relation = "祖父母" if paternal else "外祖父母"

    def parent_state(self, situation: str) -> ParentState:
        if situation == "home":
            return ParentState(AT_HOME)
        if situation == "unable":
            return ParentState(self.dice.pick(UNABLE_STATES))
        since = self.dice.day_between(days_before(self.as_of, 8 * 365), days_before(self.as_of, 20))
        return ParentState(WORKING_AWAY, self.away_code(), since)

    def away_code(self) -> str:
        roll = self.dice.rng.random()
        if roll < 0.04:
            return ""
        if roll < 0.07:
            village = self._village.draw()
            return village.code if self.dice.chance(0.5) else village.code[:9]
        if roll < 0.15:
            county = self.dice.pick(self.geo.hukou_groups["same_city"])
        else:
            county = self.dice.pick(self.geo.work_counties[self._work.draw()])
        self.geo.used_counties.add(county)
        return county if self.dice.chance(0.6) else county + "000000"

    def civil_statuses(self, family: Family) -> None:
        local = family.hukou_county == COUNTY
        table = (
            (("低保", 0.05), ("低保边缘", 0.02), ("临时救助", 0.012))
            if local
            else (("低保", 0.004), ("临时救助", 0.01))
        )
        for category, probability in table:
            if self.dice.chance(probability):
                family.civil.append((category, *self.civil_period()))
        family.hardship = any(c in {"低保", "低保边缘"} for c, _, _ in family.civil)
        if family.hardship and family.income == "务工收入":
            family.income = "低保金"

    def civil_period(self) -> tuple[date, date | None]:
        as_of = self.as_of
        roll = self.dice.rng.random()
        if roll < 0.03:  # approved, starts after the reference date
            return self.dice.day_between(
                as_of + timedelta(days=1), as_of + timedelta(days=60)
            ), None
        start = self.dice.day_between(days_before(as_of, 2000), days_before(as_of, 15))
        if roll < 0.15:  # ended before the reference date
            return start, self.dice.day_between(start, days_before(as_of, 1))
        if roll < 0.25:  # ends later
            return start, self.dice.day_between(
                as_of + timedelta(days=30), as_of + timedelta(days=365)
            )
        return start, None

    # Children ---------------------------------------------------------------------------
    def children(self, family: Family, births: list[date], first_ordinal: int) -> list[Child]:
        children: list[Child] = []
        used: set[str] = set()
        similar = self.settings.twin_similar_names
        for offset, birth in enumerate(births):
            male = self.dice.chance(0.52)
            twin_of = None
            if similar and offset and births[offset - 1] == birth and self.dice.chance(similar):
                twin_of = children[-1].person
            person = self.child_person(family, birth, male=male, used=used, twin_of=twin_of)
            children.append(Child(first_ordinal + offset, person, family.hukou_code, family))
        return children

    def child_person(
        self,
        family: Family,
        birth: date,
        *,
        male: bool,
        used: set[str],
        twin_of: Person | None = None,
    ) -> Person:
        father, mother = family.father, family.mother
        if father is None or mother is None:
            msg = "a family gets its parents before its children"
            raise RuntimeError(msg)
        if names.MIDDLE_DOT in father.name:
            pool = names.UYGHUR_MAN_NAMES if male else names.UYGHUR_WOMAN_NAMES
            own = self.dice.pick([n for n in pool if n not in used] or pool)
            used.add(own)
            name = names.uyghur_name(own, father.name.split(names.MIDDLE_DOT)[0])
        else:
            parent = father if self.dice.chance(0.92) else mother
            surname = names.split_name(parent.name)[0]
            if twin_of is not None and names.MIDDLE_DOT not in twin_of.name:
                surname, twin_given = names.split_name(twin_of.name)
                given = names.similar_given(
                    twin_given, names.BOY_NAMES if male else names.GIRL_NAMES, self.dice.rng
                )
            else:
                given = self.people.child_given(male=male, avoid=used)
            used.add(given)
            name = surname + given
        age = (self.as_of - birth).days
        has_id = age > 365 or self.dice.chance(0.65)
        id_number = (
            self.people.issue_id(self.people.id_area(family.hukou_county), birth, male=male)
            if has_id
            else ""
        )
        return Person(name=name, sex=MALE if male else FEMALE, birth=birth, id_number=id_number)

    # Records ------------------------------------------------------------------------------
    def add_records(self, child: Child) -> None:
        family = child.family
        age = age_at(child.person.birth, self.as_of)
        if family.kind == "left":
            self.left_records(child, age)
        else:
            arrival = self.child_arrival(child)
            self.resident_records(child, age, arrival)
        self.civil_records(child, age)
        self.disability_records(child, age)
        self.insurance_records(child)

    def child_arrival(self, child: Child) -> date | None:
        arrival = child.family.arrival
        return None if arrival is None else max(arrival, child.person.birth)

    def resident_records(self, child: Child, age: int, arrival: date | None) -> None:
        family, dice, make = child.family, self.dice, self.make
        migrant_family = family.kind == "migrant"
        lived_from = arrival or child.person.birth
        if migrant_family and arrival is not None and dice.chance(0.72):
            registered = dice.day_between(arrival, min(self.as_of, arrival + timedelta(days=120)))
            stated_arrival = arrival if dice.chance(0.85) else None
            child.records.append(make.police(child, registered=registered, arrived=stated_arrival))
        if migrant_family and arrival is not None:
            self.edu_records(child, arrival)
        if age <= 6 and dice.chance(0.85 if not migrant_family else 0.75):
            self.health_record(child, lived_from)
        if age <= 6 and family.hukou_county != COUNTY and dice.chance(0.8):
            first = dice.day_between(lived_from, min(self.as_of, lived_from + timedelta(days=30)))
            last = dice.day_between(first, self.as_of)
            with_id = bool(child.person.id_number) and dice.chance(self.settings.cdc_id)
            name = self.early_placeholder(child, first)
            child.records.append(
                make.cdc(child, first=first, last=last, with_id=with_id and name is None, name=name)
            )
        self.visit_records(child, age)
        self.self_declaration_records(child, arrival if migrant_family else None)

    def health_record(self, child: Child, lived_from: date) -> None:
        created = self.dice.day_between(
            lived_from, min(self.as_of, lived_from + timedelta(days=60))
        )
        name = None
        mother = child.family.mother
        newborn = (self.as_of - child.person.birth).days < NEWBORN_DAYS
        if newborn and mother and self.dice.chance(self.settings.newborn_placeholder):
            name = names.newborn_placeholder(mother.name, male=child.person.male)
        early = None if newborn else self.early_placeholder(child, created)
        with_id = self.dice.chance(self.settings.health_id) and early is None
        child.records.append(
            self.make.health(child, created=created, name=name or early, with_id=with_id)
        )

    def early_placeholder(self, child: Child, made: date) -> str | None:
        """The newborn placeholder name on a record made soon after birth of a child now past
        the newborn age (its later records name it), or None."""
        chance = self.settings.early_placeholder
        mother = child.family.mother
        if not chance or mother is None or names.MIDDLE_DOT in mother.name:
            return None
        if (made - child.person.birth).days > EARLY_RECORD_DAYS:
            return None
        if (self.as_of - child.person.birth).days < NEWBORN_DAYS or not self.dice.chance(chance):
            return None
        return names.newborn_placeholder(mother.name, male=child.person.male)

    def edu_records(self, child: Child, arrival: date) -> None:
        dice = self.dice
        birth = child.person.birth
        index = schools.grade_index(birth, self.as_of)
        if index < -2 or (index <= 0 and not dice.chance(0.6)):
            return
        if 1 <= index <= 9 and dice.chance(0.04):
            return  # not enrolled anywhere (控辍保学 not_enrolled)
        if index >= 10 and dice.chance(0.35):
            # Finished 初中 here and did not go on.
            self._schooling(child, arrival, "毕业", index=9)
            return
        status = "在读"
        roll = dice.rng.random()
        if roll < 0.008:
            status = "休学"
        elif roll < 0.025 and index >= 5:
            status = "辍学"
        self._schooling(child, arrival, status, vocational=dice.chance(0.3))

    def _schooling(
        self,
        child: Child,
        arrival: date,
        status: str,
        *,
        index: int | None = None,
        vocational: bool = False,
    ) -> None:
        found = schools.schooling(
            child.person.birth,
            day=self.as_of,
            arrival=arrival,
            status=status,
            village=child.family.village,
            dice=self.dice,
            vocational=vocational,
            index=index,
        )
        if found is not None:
            child.records.append(self.make.edu(child, found))

    def visit_records(self, child: Child, age: int) -> None:
        family, dice = child.family, self.dice
        statuses = {family.father_state.status, family.mother_state.status}
        needs_visit = statuses != {AT_HOME} or family.hardship
        probability = 0.95 if needs_visit else 0.12
        if family.kind == "migrant":
            probability = 0.3 if family.hardship else 0.05
        if not dice.chance(probability):
            return
        flags = {
            "disabled": False,
            "psych": dice.chance(0.01),
            "vagrant": dice.chance(0.001) and age >= 8,
            "alone": dice.chance(0.004) and age >= 10,
        }
        newest_away = max(
            (s.away_since for s in (family.father_state, family.mother_state) if s.away_since),
            default=days_before(self.as_of, 300),
        )
        first_day = max(days_before(self.as_of, 300), newest_away, child.person.birth)
        visited = dice.day_between(first_day, self.as_of)
        if dice.chance(0.15):
            earlier = dice.day_between(days_before(visited, 400), days_before(visited, 30))
            if earlier >= child.person.birth:
                child.records.append(
                    self.make.visit(child, visited=earlier, visitor=self.visitor(), flags=flags)
                )
        child.records.append(
            self.make.visit(child, visited=visited, visitor=self.visitor(), flags=flags)
        )

    def visitor(self) -> str:
        """Who made a visit: a 儿童主任 or grid worker of the village."""
        return self.people.surname() + self.people.given(self.dice.pick(("man", "woman")))

    def need(self) -> str:
        """What a self-declaration asks for (often nothing)."""
        return self.dice.weighted(NEED_TEXTS)

    def self_declaration_records(self, child: Child, arrival: date | None) -> None:
        family, dice = child.family, self.dice
        if not dice.chance(0.3 if family.hardship else 0.035):
            return
        declared = dice.day_between(days_before(self.as_of, 180), self.as_of)
        child.records.append(
            self.make.self_declaration(
                child,
                declared=max(declared, child.person.birth),
                arrived=arrival,
                hardship=family.hardship or dice.chance(0.2),
                housing=dice.chance(0.15),
                need=dice.weighted(NEED_TEXTS),
            )
        )

    def left_records(self, child: Child, age: int) -> None:
        family, dice = child.family, self.dice
        arrival = self.child_arrival(child)
        if arrival is None or family.left_on is None or arrival >= family.left_on:
            return
        registered = dice.day_between(arrival, min(family.left_on, arrival + timedelta(days=120)))
        child.records.append(
            self.make.police(child, registered=registered, arrived=arrival, status="注销")
        )
        if age >= 7 and dice.chance(0.6):
            found = schools.schooling(
                child.person.birth,
                day=family.left_on,
                arrival=arrival,
                status="转出",
                village=family.village,
                dice=dice,
            )
            if found is not None:
                child.records.append(self.make.edu(child, found))

    def civil_records(self, child: Child, age: int) -> None:
        family, dice = child.family, self.dice
        for category, start, end in family.civil:
            child.records.append(
                self.make.civil(
                    child, category=category, start=max(start, child.person.birth), end=end
                )
            )
        statuses = (family.father_state.status, family.mother_state.status)
        if statuses == ("死亡", "死亡"):
            start = dice.day_between(child.person.birth, days_before(self.as_of, 30))
            child.records.append(self.make.civil(child, category="孤儿", start=start, end=None))
        elif all(s in UNABLE_STATES for s in statuses):
            start = dice.day_between(child.person.birth, days_before(self.as_of, 30))
            child.records.append(
                self.make.civil(child, category="事实无人抚养", start=start, end=None)
            )
        if family.hukou_county == COUNTY and dice.chance(0.0004) and age >= 1:
            start = dice.day_between(child.person.birth, days_before(self.as_of, 30))
            child.records.append(
                self.make.civil(child, category="艾滋病病毒感染", start=start, end=None)
            )

    def disability_records(self, child: Child, age: int) -> None:
        dice = self.dice
        if not child.person.id_number or age < 1 or not dice.chance(0.008):
            return
        category = dice.pick(DISABILITY_CATEGORIES)[0]
        grade = dice.between(1, 4)
        issued = dice.day_between(child.person.birth + timedelta(days=365), self.as_of)
        child.records.append(
            self.make.disability(child, category=category, grade=grade, issued=issued)
        )
        for record in child.records:
            if record.source == "visit_survey":
                record.values["残疾"] = "是"

    def insurance_records(self, child: Child) -> None:
        family, dice = child.family, self.dice
        if not child.person.id_number or not dice.chance(0.92):
            return
        local_place = family.hukou_county == COUNTY or (family.kind != "local" and dice.chance(0.6))
        county = COUNTY if local_place else family.hukou_county
        place = county if dice.chance(0.5) else county + "000000"
        status = dice.weighted((("参保缴费", 0.95), ("暂停", 0.03), ("终止", 0.02)))
        since = dice.day_between(child.person.birth, self.as_of)
        child.records.append(self.make.insurance(child, place=place, status=status, since=since))
