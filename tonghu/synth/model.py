"""The true facts of the synthetic county: people, families, children and the clean records
each department holds about them (before any noise is added)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from tonghu.synth.geo import Village

Value = str | date | None

MALE = "男"
FEMALE = "女"

# 父亲状况/母亲状况 values (feeds.md §2 visit_survey).
AT_HOME = "在家"
WORKING_AWAY = "外出务工"
UNABLE_STATES = (
    "重残", "重病", "服刑在押", "强制隔离戒毒", "失联", "死亡", "被撤销监护资格", "无监护能力",
)  # fmt: skip


@dataclass(slots=True)
class Person:
    name: str
    sex: str
    birth: date
    id_number: str = ""
    phone: str = ""
    old_phone: str = ""  # an earlier number some departments still hold

    @property
    def male(self) -> bool:
        return self.sex == MALE


@dataclass(slots=True)
class ParentState:
    status: str = AT_HOME
    away_code: str = ""
    away_since: date | None = None


@dataclass(slots=True)
class Family:
    kind: str  # "local", "migrant" or "left" (a migrant family that has moved away)
    hukou_code: str  # 12 digits
    hukou_address: str
    village: Village
    address: str
    arrival: date | None = None
    left_on: date | None = None
    father: Person | None = None
    mother: Person | None = None
    father_state: ParentState = field(default_factory=ParentState)
    mother_state: ParentState = field(default_factory=ParentState)
    carer: Person | None = None  # grandparent or relative who looks after the children
    carer_relation: str = ""
    guardian_type: str = "父母监护"
    income: str = "务工收入"
    # Family-level civil-affairs statuses: (类别, 起始日期, 终止日期).
    civil: list[tuple[str, date, date | None]] = field(default_factory=list)
    hardship: bool = False

    @property
    def hukou_county(self) -> str:
        return self.hukou_code[:6]


@dataclass(slots=True)
class Record:
    """One row a department holds, with clean values keyed by canonical column name."""

    source: str
    key: str
    values: dict[str, Value]
    # Extra derived rows (repeats, duplicate keys, rejected copies) may be made from it.
    derive_extras: bool = True


@dataclass(slots=True)
class Child:
    ordinal: int
    person: Person
    hukou_code: str
    family: Family
    scenario: str = ""  # a boundary case of policy.md (its rows get only lossless noise)
    records: list[Record] = field(default_factory=list)
    change: str = ""  # in a later round: moved_away, arrived or born since the previous round

    @property
    def child_id(self) -> str:
        return f"T{self.ordinal:07d}"
