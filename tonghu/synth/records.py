"""Building the clean record each department holds about a child (feeds.md §2 columns)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from tonghu.synth.draws import Dice
from tonghu.synth.geo import COUNTY
from tonghu.synth.model import AT_HOME, Child, Family, ParentState, Person, Record, Value

YES, NO = "是", "否"
DISABILITY_CATEGORIES = (
    (1, "视力残疾"), (2, "听力残疾"), (3, "言语残疾"), (4, "肢体残疾"),
    (5, "智力残疾"), (6, "精神残疾"), (7, "多重残疾"),
)  # fmt: skip
DISABILITY_GRADES = ((1, "一级"), (2, "二级"), (3, "三级"), (4, "四级"))
VISITORS = ("儿童主任", "网格员", "儿童督导员")


@dataclass(frozen=True)
class Schooling:
    stage: str
    grade: str
    school: str
    enrolled: date
    status: str


class Keys:
    """Record keys, unique within each source. Shards interleave their serial numbers
    (shard ``k`` of ``n`` takes k+1, k+1+n, ...), so that keys never collide. A later round
    starts each source's count where the earlier rounds' counts ended (``counts``, the
    largest over the shards), so its new keys never repeat an earlier round's."""

    def __init__(
        self, *, shard: int = 0, shards: int = 1, counts: Mapping[str, int] | None = None
    ) -> None:
        self._next: dict[str, int] = dict(counts or {})
        self._shard = shard
        self._shards = shards

    @property
    def counts(self) -> dict[str, int]:
        """How many serial numbers each source has taken in this shard (a later round's
        starting point)."""
        return dict(self._next)

    def next(self, source: str) -> int:
        count = self._next.get(source, 0)
        self._next[source] = count + 1
        return count * self._shards + self._shard + 1

    def police(self, registered: date) -> str:
        return f"{COUNTY}{registered.year}{self.next('police_residence'):07d}"

    def edu(self, child: Person) -> str:
        number = self.next("edu_migrant")
        if child.id_number:
            return "G" + child.id_number
        return f"L{child.birth:%Y%m%d}{number:06d}"

    def health(self, town_code: str) -> str:
        return f"{town_code[:9]}{self.next('health_child'):08d}"

    def cdc(self) -> str:
        return f"{COUNTY}00{self.next('cdc_vaccination'):010d}"

    def self_declaration(self, declared: date) -> str:
        return f"SB{declared:%Y%m%d}{self.next('self_declaration'):06d}"

    def visit(self, visited: date) -> str:
        return f"ZF{visited.year}{self.next('visit_survey'):07d}"

    def civil(self, category_number: int) -> str:
        return f"MZ{COUNTY}{category_number:02d}{self.next('civil_status'):07d}"

    def insurance(self) -> str:
        return f"{COUNTY[:4]}00{self.next('medical_insurance'):010d}"

    def fresh(self, record: Record, fallback: date) -> str:
        """A new key in the style of ``record``'s source (for a derived row)."""
        values = record.values
        own_date = next((v for v in values.values() if isinstance(v, date)), fallback)
        makers: dict[str, Callable[[], str]] = {
            "police_residence": lambda: self.police(own_date),
            "edu_migrant": lambda: f"L{self.next('edu_migrant'):012d}",
            "health_child": lambda: self.health(
                str(values.get("现住址区划代码") or COUNTY + "000")
            ),
            "cdc_vaccination": self.cdc,
            "self_declaration": lambda: self.self_declaration(own_date),
            "visit_survey": lambda: self.visit(own_date),
            "civil_status": lambda: self.civil(int(record.key[8:10])),
            "disability_cert": lambda: (
                f"{record.key[:18]}{int(record.key[18]) % 7 + 1}{record.key[19:]}"
            ),
            "medical_insurance": self.insurance,
        }
        return makers[record.source]()


class RecordMaker:
    """One method per source; every value is the clean value the department holds."""

    def __init__(self, *, dice: Dice, keys: Keys, as_of: date) -> None:
        self.dice = dice
        self.keys = keys
        self.as_of = as_of

    # Column helpers -------------------------------------------------------------------
    def hukou_stated(self, child: Child, *, allow_county_only: bool = True) -> str:
        """The hukou code as a department states it: 12 digits, or 6 for a county."""
        code = child.hukou_code
        if code[6:] == "000000" and allow_county_only and self.dice.chance(0.5):
            return code[:6]
        return code

    def residence_stated(self, family: Family, *, town_only: float = 0.0) -> str:
        village = family.village
        if town_only and self.dice.chance(town_only):
            return village.town_code[:9]
        return village.code

    def guardian(self, family: Family) -> tuple[Person | None, str]:
        """Who a department lists as guardian: a parent at home, else the carer."""
        for parent, relation, state in (
            (family.mother, "母亲", family.mother_state),
            (family.father, "父亲", family.father_state),
        ):
            if parent is not None and state.status == AT_HOME:
                return parent, relation
        if family.carer is not None:
            return family.carer, family.carer_relation or "祖父母"
        parent = family.mother or family.father
        return parent, ("母亲" if parent is family.mother else "父亲")

    def phone_of(self, person: Person | None, *, old: bool = False) -> str | None:
        if person is None:
            return None
        if old and person.old_phone:
            return person.old_phone
        return person.phone

    # Sources ----------------------------------------------------------------------------
    def police(
        self,
        child: Child,
        *,
        registered: date,
        arrived: date | None,
        status: str = "有效",
        residence_code: str | None = None,
    ) -> Record:
        family = child.family
        guardian, relation = self.guardian(family)
        values: dict[str, Value] = {
            "居住证编号": self.keys.police(registered),
            "姓名": child.person.name,
            "性别": child.person.sex,
            "公民身份号码": child.person.id_number or None,
            "出生日期": child.person.birth,
            "户籍地区划代码": self.hukou_stated(child),
            "户籍地址": family.hukou_address,
            "居住地区划代码": residence_code or self.residence_stated(family, town_only=0.2),
            "居住地址": family.address,
            "居住登记日期": registered,
            "来本地日期": arrived,
            "监护人姓名": guardian.name if guardian else None,
            "监护人身份号码": guardian.id_number if guardian else None,
            "监护人关系": relation if guardian else None,
            "联系电话": self.phone_of(guardian, old=self.dice.chance(0.5)),
            "状态": status,
        }
        return Record("police_residence", str(values["居住证编号"]), values)

    def edu(self, child: Child, schooling: Schooling) -> Record:
        family = child.family
        parent = family.mother if self.dice.chance(0.5) else family.father
        parent = parent or family.mother or family.father or family.carer
        values: dict[str, Value] = {
            "学籍号": self.keys.edu(child.person),
            "姓名": child.person.name,
            "性别": child.person.sex,
            "身份证件号": child.person.id_number or None,
            "出生日期": child.person.birth,
            "学校名称": schooling.school,
            "学段": schooling.stage,
            "年级": schooling.grade,
            "户籍地区划代码": self.hukou_stated(child),
            "户籍所在地": family.hukou_address,
            "现住址区划代码": self.residence_stated(family),
            "现住址": family.address,
            "家长姓名": parent.name if parent else None,
            "家长身份证号": parent.id_number if parent else None,
            "家长电话": self.phone_of(parent),
            "入学日期": schooling.enrolled,
            "学籍状态": schooling.status,
        }
        return Record("edu_migrant", str(values["学籍号"]), values)

    def health(
        self, child: Child, *, created: date, name: str | None = None, with_id: bool = True
    ) -> Record:
        family = child.family
        mother, father = family.mother, family.father
        values: dict[str, Value] = {
            "健康档案编号": self.keys.health(family.village.town_code),
            "姓名": name or child.person.name,
            "性别": child.person.sex,
            "出生日期": child.person.birth,
            "身份证号": (child.person.id_number or None) if with_id else None,
            "母亲姓名": mother.name if mother else None,
            "母亲身份证号": mother.id_number if mother else None,
            "父亲姓名": father.name if father else None,
            "联系电话": self.phone_of(mother or father),
            "户籍地区划代码": self.hukou_stated(child),
            "户籍地址": family.hukou_address,
            "现住址区划代码": self.residence_stated(family),
            "现住址": family.address,
            "建档日期": created,
            "家庭医生签约": YES if self.dice.chance(0.6) else NO,
        }
        return Record("health_child", str(values["健康档案编号"]), values)

    def cdc(
        self, child: Child, *, first: date, last: date, with_id: bool, name: str | None = None
    ) -> Record:
        family = child.family
        carer = family.mother or family.carer or family.father
        values: dict[str, Value] = {
            "接种档案编号": self.keys.cdc(),
            "姓名": name or child.person.name,
            "性别": child.person.sex,
            "出生日期": child.person.birth,
            "身份证号": (child.person.id_number or None) if with_id else None,
            "监护人姓名": carer.name if carer else None,
            "联系电话": self.phone_of(carer, old=self.dice.chance(0.3)),
            "户籍地区划代码": self.hukou_stated(child),
            "户籍地址": family.hukou_address,
            "现居住地区划代码": self.residence_stated(family),
            "现居住地址": family.address,
            "本地首次接种日期": first,
            "最近接种日期": last,
        }
        return Record("cdc_vaccination", str(values["接种档案编号"]), values)

    def self_declaration(
        self,
        child: Child,
        *,
        declared: date,
        arrived: date | None,
        hardship: bool,
        housing: bool,
        need: str,
    ) -> Record:
        family = child.family
        guardian, _ = self.guardian(family)
        values: dict[str, Value] = {
            "申报编号": self.keys.self_declaration(declared),
            "儿童姓名": child.person.name,
            "性别": child.person.sex,
            "身份证号": child.person.id_number or None,
            "出生日期": child.person.birth,
            "户籍地区划代码": self.hukou_stated(child),
            "户籍地址": family.hukou_address,
            "现住址区划代码": self.residence_stated(family),
            "现住址": family.address,
            "来本地日期": arrived,
            "监护人姓名": guardian.name if guardian else None,
            "监护人身份证号": guardian.id_number if guardian else None,
            "监护人电话": self.phone_of(guardian),
            "家庭生活困难": YES if hardship else NO,
            "住房困难": YES if housing else NO,
            "求助需求": need or None,
            "申报日期": declared,
        }
        return Record("self_declaration", str(values["申报编号"]), values)

    def visit(
        self,
        child: Child,
        *,
        visited: date,
        father_state: ParentState | None = None,
        mother_state: ParentState | None = None,
        guardian_type: str | None = None,
        flags: dict[str, bool] | None = None,
        visitor: str,
    ) -> Record:
        family = child.family
        father_state = father_state or family.father_state
        mother_state = mother_state or family.mother_state
        flags = flags or {}
        father, mother = family.father, family.mother
        guardian, _ = self.guardian(family)
        entrusted = guardian_type == "委托监护" or family.guardian_type == "委托监护"
        values: dict[str, Value] = {
            "走访编号": self.keys.visit(visited),
            "儿童姓名": child.person.name,
            "性别": child.person.sex,
            "身份证号": child.person.id_number or None,
            "出生日期": child.person.birth,
            "现住址区划代码": self.residence_stated(family),
            "户籍地区划代码": self.hukou_stated(child),
            "父亲姓名": father.name if father else None,
            "父亲身份证号": father.id_number if father else None,
            "父亲状况": father_state.status,
            "父亲外出地区划代码": father_state.away_code or None,
            "父亲外出起始日期": father_state.away_since,
            "母亲姓名": mother.name if mother else None,
            "母亲身份证号": mother.id_number if mother else None,
            "母亲状况": mother_state.status,
            "母亲外出地区划代码": mother_state.away_code or None,
            "母亲外出起始日期": mother_state.away_since,
            "实际监护人": guardian.name if guardian else None,
            "监护类型": guardian_type or family.guardian_type,
            "委托照护人": family.carer.name if entrusted and family.carer else None,
            "家庭经济来源": family.income,
            "残疾": YES if flags.get("disabled") else NO,
            "心理行为异常": YES if flags.get("psych") else NO,
            "流浪": YES if flags.get("vagrant") else NO,
            "独自居住": YES if flags.get("alone") else NO,
            "走访日期": visited,
            "走访人": visitor,
        }
        return Record("visit_survey", str(values["走访编号"]), values)

    def civil(self, child: Child, *, category: str, start: date, end: date | None) -> Record:
        number = {"低保": 1, "低保边缘": 2, "特困": 3, "孤儿": 4, "事实无人抚养": 5,
                  "艾滋病病毒感染": 6, "临时救助": 7}[category]  # fmt: skip
        values: dict[str, Value] = {
            "名册编号": self.keys.civil(number),
            "姓名": child.person.name,
            "身份证号": child.person.id_number or None,
            "出生日期": child.person.birth,
            "类别": category,
            "起始日期": start,
            "终止日期": end,
        }
        return Record("civil_status", str(values["名册编号"]), values)

    def disability(self, child: Child, *, category: int, grade: int, issued: date) -> Record:
        number = child.person.id_number
        if number.endswith("X") and self.dice.chance(0.3):
            number = number[:17] + "x"  # as some certificates were typed
        key = f"{number}{category}{grade}"
        values: dict[str, Value] = {
            "残疾人证号": key,
            "姓名": child.person.name,
            "残疾类别": dict(DISABILITY_CATEGORIES)[category],
            "残疾等级": dict(DISABILITY_GRADES)[grade],
            "发证日期": issued,
        }
        return Record("disability_cert", key, values)

    def insurance(self, child: Child, *, place: str, status: str, since: date) -> Record:
        values: dict[str, Value] = {
            "个人编号": self.keys.insurance(),
            "姓名": child.person.name,
            "身份证号": child.person.id_number or None,
            "出生日期": child.person.birth,
            "参保地区划代码": place,
            "参保状态": status,
            "参保日期": since,
        }
        return Record("medical_insurance", str(values["个人编号"]), values)


def clamp(day: date, first: date, last: date) -> date:
    return max(first, min(day, last))


def plus_days(day: date, days: int) -> date:
    return day + timedelta(days=days)
