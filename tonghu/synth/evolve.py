"""The same county half a year (or any time) later: what changes between two rounds.

A later round is not read back from the earlier round's files: the generator is deterministic,
so each shard regenerates the earlier rounds' families (same children, same records, same
keys) and then applies the changes of each later round in turn, with that round's own random
streams. ``Evolution`` is one such step, from the previous reference date to ``spec.as_of``:

- leavers: a share of the families moves away. Their residence permits are cancelled (注销,
  same key), current school records become 转出 (same key), and the records that only exist
  while a child lives here (health_child, cdc_vaccination, self_declaration, visit_survey) are
  gone; civil-status, disability and insurance records stay. They are not resident any more.
- staying children: a year older at each new school year (grade, stage and school follow;
  初中 leavers and 高中 graduates finish), babies get their ID number and the departments that
  hold the ID record it, newborn placeholders (王芳之子) get the real name, health records end
  at age 7, vaccination dates move on, new visits and declarations are made, and a few parents
  leave to work or come back.
- newborns: babies born since the previous round into resident families.
- arrivals: new migrant families that came since the previous round.
- keys: sources in ``spec.reissue`` give every record a new key each round (a new export
  system); the others keep their keys (居住证编号, 学籍号, 个人编号 … are permanent).

Children keep their ordinal, so the true child id is stable across rounds; newborns and
arrivals get new ordinals after the previous round's last one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from tonghu.synth import names, schools
from tonghu.synth.columns import SOURCE_BY_NAME
from tonghu.synth.model import (
    AT_HOME,
    UNABLE_STATES,
    WORKING_AWAY,
    Child,
    Family,
    ParentState,
    Record,
    Value,
)
from tonghu.synth.population import CHILDREN_PER_FAMILY, Population
from tonghu.synth.records import YES, Keys
from tonghu.synth.settings import DEFAULT_SETTINGS, NoiseSettings
from tonghu.synth.truth import ALWAYS_CURRENT, CURRENT_EDU_STATUSES, ENROLLED_STATUSES, age_at

# Records that exist only while the child lives here: gone when the family moves away.
WHILE_RESIDENT = frozenset({"health_child", "cdc_vaccination", "self_declaration", "visit_survey"})
# Where each source holds the child's ID number (health and cdc state it only sometimes).
ID_COLUMN = {
    "police_residence": "公民身份号码", "edu_migrant": "身份证件号", "civil_status": "身份证号",
    "medical_insurance": "身份证号",
}  # fmt: skip
HEALTH_MAX_AGE = 6  # health_child manages children aged 0-6
ID_BY_AGE_DAYS = 365  # every child older than this has an ID number by now
ID_LATER_CHANCE = 0.5  # a younger baby without one gets it in a round with this chance
VACCINATED_AGAIN = 0.6  # a child under 7 had a vaccination since the previous round
STOP_AFTER_JUNIOR = 0.35  # share of 初中 finishers who leave school
ENROL_LATE = 0.3  # a school-age migrant child without a school record enrols this round
PARENT_CHANGE = 0.04  # a local family whose father leaves to work or comes back this round
MOTHER_AGES = (20, 42)
DEFAULT_REISSUE = ("health_child", "cdc_vaccination")
# truth/children.csv ``scenario`` of a later round: what happened since the previous one.
MOVED_AWAY = "moved_away"
ARRIVED = "arrived"
BORN = "born"
VISIT_FLAGS = {"残疾": "disabled", "心理行为异常": "psych", "流浪": "vagrant", "独自居住": "alone"}


@dataclass(frozen=True)
class RoundSpec:
    """One round of a synthetic county. The first round's children are ``ShardSpec.children``;
    a later round's changes are the shares here, and its starting points (``arrivals``,
    ``key_counts``, ``first_ordinal``) come from the rounds before it."""

    as_of: date
    seed: int
    noise: NoiseSettings = DEFAULT_SETTINGS
    leave_share: float = 0.0
    arrive_share: float = 0.0
    birth_share: float = 0.0
    reissue: tuple[str, ...] = ()
    arrivals: int = 0  # arriving children in the whole county
    key_counts: Mapping[str, int] = field(default_factory=dict)  # where each source's keys go on
    first_ordinal: int = 0  # the previous round's last ordinal; new children come after it


class Evolution:
    """One step from ``previous`` to ``spec.as_of`` in one shard; ``population`` holds this
    round's random streams, record maker (with this round's keys) and ID allocator."""

    def __init__(
        self,
        *,
        population: Population,
        keys: Keys,
        spec: RoundSpec,
        previous: date,
        shard: int,
        shards: int,
    ) -> None:
        self.pop = population
        self.make = population.make
        self.dice = population.dice
        self.keys = keys
        self.spec = spec
        self.as_of = spec.as_of
        self.previous = previous
        self.reissue = frozenset(spec.reissue)
        self._shard = shard
        self._shards = shards
        self._newborns = 0
        self._newborn_base = spec.first_ordinal + spec.arrivals
        self.last_ordinal = spec.first_ordinal  # the largest ordinal of the county so far

    # Families that were here before ----------------------------------------------------------
    def evolve(self, family: list[Child]) -> None:
        """Move one family (its children, in place) from the previous round to this one."""
        facts = family[0].family
        for child in family:
            child.scenario = ""  # boundary cases of the first round are ordinary children now
            child.change = ""
        left_now = facts.left_on is not None and facts.left_on > self.previous
        if not left_now and facts.kind != "left" and self.dice.chance(self.spec.leave_share):
            facts.kind = "left"
            facts.left_on = self.dice.day_between(
                self.previous + timedelta(days=1), self.as_of - timedelta(days=1)
            )
            left_now = True
        if left_now:
            for child in family:
                self._departed(child)
                child.change = MOVED_AWAY
        elif facts.kind != "left":
            self._parents(facts)
            for child in family:
                self._stay(child)
            self._births(family, facts)
        for child in family:
            self._reissue(child)

    def _departed(self, child: Child) -> None:
        kept = []
        for record in child.records:
            values = record.values
            if record.source in WHILE_RESIDENT:
                continue
            if record.source == "police_residence":
                values["状态"] = "注销"
            elif record.source == "edu_migrant" and values.get("学籍状态") in CURRENT_EDU_STATUSES:
                values["学籍状态"] = "转出"
            kept.append(record)
        child.records = kept

    def _stay(self, child: Child) -> None:
        person = child.person
        settings = self.spec.noise
        newly = False
        if not person.id_number and (
            (self.as_of - person.birth).days > ID_BY_AGE_DAYS or self.dice.chance(ID_LATER_CHANCE)
        ):
            people = self.pop.people
            area = people.id_area(child.family.hukou_county)
            person.id_number = people.issue_id(area, person.birth, male=person.male)
            newly = True
        age = age_at(person.birth, self.as_of)
        kept = []
        for record in child.records:
            values = record.values
            source = record.source
            if source in {"health_child", "cdc_vaccination"}:
                name = values.get("姓名")
                if isinstance(name, str) and name.endswith(names.PLACEHOLDER_ENDINGS):
                    values["姓名"] = person.name  # the baby has been named
                share = settings.health_id if source == "health_child" else settings.cdc_id
                if newly and not values.get("身份证号") and self.dice.chance(share):
                    values["身份证号"] = person.id_number
            if source == "health_child" and age > HEALTH_MAX_AGE:
                continue
            if source == "cdc_vaccination" and age <= HEALTH_MAX_AGE:
                self._vaccinated(values)
            elif source == "edu_migrant":
                self._school_year(child, values)
            elif newly and source in ID_COLUMN:
                values[ID_COLUMN[source]] = person.id_number
            kept.append(record)
        child.records = kept
        self._new_records(child, age, newly=newly)

    def _vaccinated(self, values: dict[str, Value]) -> None:
        first = values.get("本地首次接种日期")
        if not isinstance(first, date) or not self.dice.chance(VACCINATED_AGAIN):
            return
        start = max(first, self.previous + timedelta(days=1))
        values["最近接种日期"] = self.dice.day_between(start, self.as_of)

    def _school_year(self, child: Child, values: dict[str, Value]) -> None:
        """A current enrolment follows the child into the next grade, stage and school."""
        if values.get("学籍状态") not in ENROLLED_STATUSES:
            return
        birth = child.person.birth
        before = schools.grade_index(birth, self.previous)
        now = schools.grade_index(birth, self.as_of)
        if now == before:
            return
        stage = values.get("学段")
        vocational = stage == "中职"
        if stage == "初中" and now >= 10:
            if self.dice.chance(STOP_AFTER_JUNIOR):
                values["学籍状态"] = "毕业"
                values["年级"] = schools.JUNIOR_GRADES[-1]
                return
            vocational = self.dice.chance(0.3)
        found = schools.stage_of(now, vocational=vocational)
        if found is None:
            values["学籍状态"] = "毕业"
            return
        new_stage, grade, _ = found
        if new_stage != stage:
            values["学校名称"] = schools.school_name(new_stage, child.family.village, self.dice)
        values["学段"] = new_stage
        values["年级"] = grade

    def _new_records(self, child: Child, age: int, *, newly: bool) -> None:
        family = child.family
        sources = {record.source for record in child.records}
        if newly and "medical_insurance" not in sources:
            self.pop.insurance_records(child)
        if (
            family.kind == "migrant"
            and "edu_migrant" not in sources
            and -2 <= schools.grade_index(child.person.birth, self.as_of) <= 9
            and self.dice.chance(ENROL_LATE)
        ):
            found = schools.schooling(
                child.person.birth,
                day=self.as_of,
                arrival=self.previous + timedelta(days=1),
                status="在读",
                village=family.village,
                dice=self.dice,
            )
            if found is not None:
                child.records.append(self.make.edu(child, found))
        self._visit(child, age)
        self._declaration(child)

    def _visit(self, child: Child, age: int) -> None:
        family = child.family
        statuses = {family.father_state.status, family.mother_state.status}
        needs_visit = statuses != {AT_HOME} or family.hardship
        chance = 0.95 if needs_visit else 0.12
        if family.kind == "migrant":
            chance = 0.3 if family.hardship else 0.05
        if not self.dice.chance(chance):
            return
        earlier = [r for r in child.records if r.source == "visit_survey"]
        if earlier:
            last = earlier[-1].values
            flags = {flag: last.get(column) == YES for column, flag in VISIT_FLAGS.items()}
        else:
            flags = {
                "disabled": any(r.source == "disability_cert" for r in child.records),
                "psych": self.dice.chance(0.01),
                "vagrant": self.dice.chance(0.001) and age >= 8,
                "alone": self.dice.chance(0.004) and age >= 10,
            }
        first = max(self.previous + timedelta(days=1), child.person.birth)
        visited = self.dice.day_between(first, self.as_of)
        child.records.append(
            self.make.visit(child, visited=visited, visitor=self.pop.visitor(), flags=flags)
        )

    def _declaration(self, child: Child) -> None:
        family = child.family
        if not self.dice.chance(0.3 if family.hardship else 0.035):
            return
        first = max(self.previous + timedelta(days=1), child.person.birth)
        child.records.append(
            self.make.self_declaration(
                child,
                declared=self.dice.day_between(first, self.as_of),
                arrived=family.arrival if family.kind == "migrant" else None,
                hardship=family.hardship or self.dice.chance(0.2),
                housing=self.dice.chance(0.15),
                need=self.pop.need(),
            )
        )

    def _parents(self, family: Family) -> None:
        """Now and then a local family's father leaves to work or comes back."""
        if family.kind != "local" or not self.dice.chance(PARENT_CHANGE):
            return
        father, mother = family.father_state, family.mother_state
        if father.status == WORKING_AWAY:
            family.father_state = ParentState(AT_HOME)
        elif father.status == AT_HOME and mother.status == AT_HOME:
            since = self.dice.day_between(self.previous + timedelta(days=1), self.as_of)
            family.father_state = ParentState(WORKING_AWAY, self.pop.away_code(), since)
        else:
            return
        statuses = (family.father_state.status, family.mother_state.status)
        if AT_HOME in statuses:
            unable = bool(set(statuses) & set(UNABLE_STATES))
            family.guardian_type = "单亲监护" if unable else "父母监护"

    def _births(self, family: list[Child], facts: Family) -> None:
        mother = facts.mother
        if mother is None or not self.spec.birth_share:
            return
        low, high = MOTHER_AGES
        if not low <= age_at(mother.birth, self.as_of) <= high:
            return
        if not self.dice.chance(self.spec.birth_share):
            return
        birth = self.dice.day_between(self.previous + timedelta(days=1), self.as_of)
        births = [birth, birth] if self.dice.chance(self.spec.noise.twins) else [birth]
        used = {names.split_name(child.person.name)[1] for child in family}
        for day in births:
            person = self.pop.child_person(facts, day, male=self.dice.chance(0.52), used=used)
            used.add(names.split_name(person.name)[1])
            child = Child(self._newborn_ordinal(), person, facts.hukou_code, facts, change=BORN)
            self.pop.add_records(child)
            family.append(child)

    def _newborn_ordinal(self) -> int:
        ordinal = self._newborn_base + self._newborns * self._shards + self._shard + 1
        self._newborns += 1
        self.last_ordinal = max(self.last_ordinal, ordinal)
        return ordinal

    def _reissue(self, child: Child) -> None:
        if not self.reissue:
            return
        for record in child.records:
            if record.source in self.reissue:
                key = self.keys.fresh(record, self.as_of)
                record.values[SOURCE_BY_NAME[record.source].key] = key
                record.key = key

    # New families ----------------------------------------------------------------------------
    def arrivals(self, first_ordinal: int, last_ordinal: int) -> Iterator[list[Child]]:
        """Migrant families that came since the previous round: children ``first_ordinal`` to
        ``last_ordinal``, each with its records."""
        pop = self.pop
        ordinal = first_ordinal
        while ordinal <= last_ordinal:
            wanted = min(self.dice.weighted(CHILDREN_PER_FAMILY), last_ordinal - ordinal + 1)
            births = pop.sibling_births(wanted)
            family = pop.family("migrant", births[0])
            family.arrival = self.dice.day_between(self.previous + timedelta(days=1), self.as_of)
            children = pop.children(family, births, ordinal)
            for child in children:
                child.change = ARRIVED
                pop.add_records(child)
                if not any(_current(record) for record in child.records):
                    # Every arrival has come to some department's notice: at least a
                    # residence registration.
                    arrived = max(family.arrival, child.person.birth)
                    registered = self.dice.day_between(arrived, self.as_of)
                    child.records.insert(
                        0, self.make.police(child, registered=registered, arrived=arrived)
                    )
            ordinal += len(children)
            self.last_ordinal = max(self.last_ordinal, ordinal - 1)
            yield children


def _current(record: Record) -> bool:
    """policy.md §1: a record that shows the child living here."""
    if record.source == "police_residence":
        return record.values.get("状态") != "注销"
    if record.source == "edu_migrant":
        return record.values.get("学籍状态") in CURRENT_EDU_STATUSES
    return record.source in ALWAYS_CURRENT
