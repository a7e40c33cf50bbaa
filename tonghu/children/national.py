"""Export for entry into the national child-welfare information system (全国儿童福利信息系统):
one row per child, the fields it collects, grouped as it groups them. The column order is
documented in the README (导出到全国儿童福利信息系统)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from django.db.models import F, Prefetch, QuerySet

from tonghu.children.models import Child, ChildRecord
from tonghu.policy.rules import DIFFICULTY_LABELS, KEY_CARE_LABELS

BATCH = 2_000


@dataclass(frozen=True)
class Column:
    group: str  # the system's information group
    header: str
    child_field: str = ""  # a field of the child's file, or...
    record_field: str = ""  # ...a value of its newest record that states it
    source: str = ""  # ...of this source only (e.g. the 居住证 number)


COLUMNS: tuple[Column, ...] = (
    Column("基本信息", "儿童编号", child_field="child_id"),
    Column("基本信息", "姓名", child_field="name"),
    Column("基本信息", "性别", child_field="sex"),
    Column("基本信息", "出生日期", child_field="birth_date"),
    Column("基本信息", "公民身份号码", child_field="id_number"),
    Column("基本信息", "户籍地区划代码", child_field="hukou_code"),
    Column("基本信息", "户籍地址", record_field="hukou_address"),
    Column("基本信息", "现居住地区划代码", child_field="residence_code"),
    Column("基本信息", "现居住地址", record_field="residence_address"),
    Column("基本信息", "来本地居住日期", child_field="residence_since"),
    Column("基本信息", "儿童类别", child_field="categories"),
    Column("基本信息", "困境/保障情形", child_field="difficulty"),
    Column("基本信息", "重点关爱情形", child_field="key_care"),
    Column("家庭或监护人信息", "监护人姓名", record_field="guardian_name"),
    Column("家庭或监护人信息", "监护人身份证号", record_field="guardian_id_number"),
    Column("家庭或监护人信息", "与儿童关系", record_field="guardian_relation"),
    Column("家庭或监护人信息", "联系电话", record_field="phone"),
    Column("家庭或监护人信息", "父亲姓名", record_field="father_name"),
    Column("家庭或监护人信息", "父亲状况", record_field="father_status"),
    Column("家庭或监护人信息", "母亲姓名", record_field="mother_name"),
    Column("家庭或监护人信息", "母亲状况", record_field="mother_status"),
    Column("家庭或监护人信息", "实际监护人", record_field="actual_guardian"),
    Column("家庭或监护人信息", "监护类型", record_field="guardianship_type"),
    Column("家庭或监护人信息", "委托照护人", record_field="entrusted_carer"),
    Column("居住证", "居住证编号", record_field="record_key", source="police_residence"),
    Column("居住证", "居住登记日期", record_field="registered_on"),
    Column("居住证", "证件状态", record_field="permit_status"),
    Column("在校在园", "学籍号", record_field="record_key", source="edu_migrant"),
    Column("在校在园", "学校名称", record_field="school"),
    Column("在校在园", "学段", record_field="stage"),
    Column("在校在园", "年级", record_field="grade"),
    Column("在校在园", "学籍状态", record_field="school_status"),
    Column("健康管理", "健康档案编号", record_field="record_key", source="health_child"),
    Column("健康管理", "家庭医生签约", record_field="family_doctor"),
    Column("健康管理", "最近接种日期", record_field="last_vaccinated_on"),
    Column("参保", "参保状态", record_field="insurance_status"),
    Column("参保", "参保地区划代码", record_field="insured_code"),
    Column("残疾", "残疾类别", record_field="disability_category"),
    Column("残疾", "残疾等级", record_field="disability_grade"),
)
HEADER = tuple(f"{column.group}·{column.header}" for column in COLUMNS)


def national_rows(children: QuerySet[Child]) -> Iterator[Sequence[object]]:
    """One row per child (in batches: a county's million children never sit in memory)."""
    latest = Prefetch(
        "records",
        queryset=ChildRecord.objects.filter(round_id=F("child__last_round_id")).order_by(
            "-record_date", "-id"
        ),
        to_attr="national_records",
    )
    ordered = children.order_by("child_id")
    for child in ordered.prefetch_related(latest).iterator(chunk_size=BATCH):
        yield [_value(column, child, child.national_records) for column in COLUMNS]


def _value(column: Column, child: Child, records: list[ChildRecord]) -> object:
    if column.child_field:
        return _child_value(child, column.child_field)
    for record in records:
        if column.source and record.source != column.source:
            continue
        if column.record_field == "record_key":
            return record.record_key
        value = record.values.get(column.record_field)
        if value is not None:
            return "是" if value is True else "否" if value is False else value
    return ""


def _child_value(child: Child, name: str) -> object:
    if name == "categories":
        kinds = ((child.is_migrant, "流动儿童"), (child.is_left_behind, "留守儿童"),
                 (child.in_difficulty, "困境儿童"))  # fmt: skip
        return "、".join(label for applies, label in kinds if applies)
    if name == "difficulty":
        return "、".join(DIFFICULTY_LABELS.get(code, code) for code in child.difficulty)
    if name == "key_care":
        return "、".join(KEY_CARE_LABELS.get(code, code) for code in child.key_care)
    value = getattr(child, name)
    return "" if value is None else value
