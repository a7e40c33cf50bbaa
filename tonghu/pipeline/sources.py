"""The feed contract (feeds.md §2) as data: each source, its columns, aliases and value kinds.

Every normalised field has one English name across sources (``name``, ``id_number``,
``hukou_code`` ...), so later steps read one wide table whatever the source.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """How a column's values are read and normalised."""

    TEXT = "text"
    NAME = "name"  # a person's name: widths folded, inner spaces dropped, one middle dot
    ID = "id"  # GB 11643 citizen ID number
    DATE = "date"
    SEX = "sex"
    PHONE = "phone"
    DIVISION = "division"  # statistical division code, 6/9/12 digits
    BOOL = "bool"  # 是 / 否
    ENUM = "enum"  # one of a fixed list of values


@dataclass(frozen=True)
class Column:
    header: str  # canonical header (feeds.md)
    field: str  # normalised field name
    kind: Kind = Kind.TEXT
    aliases: tuple[str, ...] = ()
    values: tuple[str, ...] = ()  # for ENUM


@dataclass(frozen=True)
class Source:
    name: str
    label: str
    key: str  # field of the record key
    columns: tuple[Column, ...]
    # The record key is a number the agency gives each person once (医保个人编号,
    # 残疾人证号): two records of the source under different keys are two children, even
    # twins of one name (杨子轩/杨梓轩) that nothing else tells apart.
    one_per_person: bool = False
    # Where the record key holds its holder's ID number: SQL over ``raw_record_key`` (a
    # disability certificate's number is the ID plus two digits; a 全国学籍号 is often "G"
    # and the ID). It gives the record's ID where the row states none or a broken one.
    id_in_key: str | None = None

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(column.field for column in self.columns)

    def column(self, field: str) -> Column:
        return next(column for column in self.columns if column.field == field)


YES_NO = ("是", "否")
PARENT_STATES = (
    "在家",
    "外出务工",
    "重残",
    "重病",
    "服刑在押",
    "强制隔离戒毒",
    "失联",
    "死亡",
    "被撤销监护资格",
    "无监护能力",
)
GUARDIANSHIP_TYPES = (
    "父母监护",
    "单亲监护",
    "祖辈监护",
    "亲属监护",
    "委托监护",
    "机构监护",
    "无人监护",
)
STAGES = ("学前", "小学", "初中", "高中", "中职")
CIVIL_CATEGORIES = (
    "低保",
    "低保边缘",
    "特困",
    "孤儿",
    "事实无人抚养",
    "艾滋病病毒感染",
    "临时救助",
)


def _c(header: str, field: str, kind: Kind = Kind.TEXT, *aliases: str) -> Column:
    return Column(header, field, kind, aliases)


def _enum(header: str, field: str, values: tuple[str, ...], *aliases: str) -> Column:
    return Column(header, field, Kind.ENUM, aliases, values)


SOURCES: tuple[Source, ...] = (
    Source(
        "police_residence",
        "公安·居住证/居住登记",
        "record_key",
        (
            _c("居住证编号", "record_key", Kind.TEXT, "证件编号", "居住登记编号"),
            _c("姓名", "name", Kind.NAME, "儿童姓名"),
            _c("性别", "sex", Kind.SEX),
            _c("公民身份号码", "id_number", Kind.ID, "身份证号", "身份证号码", "证件号码"),
            _c("出生日期", "birth_date", Kind.DATE),
            _c("户籍地区划代码", "hukou_code", Kind.DIVISION, "户籍地代码"),
            _c("户籍地址", "hukou_address", Kind.TEXT, "户籍地详址"),
            _c("居住地区划代码", "residence_code", Kind.DIVISION, "现居住地代码"),
            _c("居住地址", "residence_address", Kind.TEXT, "现居住地址"),
            _c("居住登记日期", "registered_on", Kind.DATE, "登记日期"),
            _c("来本地日期", "arrived_on", Kind.DATE, "来本地居住日期"),
            _c("监护人姓名", "guardian_name", Kind.NAME),
            _c("监护人身份号码", "guardian_id_number", Kind.ID, "监护人身份证号"),
            _enum(
                "监护人关系",
                "guardian_relation",
                ("父亲", "母亲", "祖父母", "外祖父母", "其他亲属", "其他"),
                "与儿童关系",
            ),
            _c("联系电话", "phone", Kind.PHONE, "监护人电话"),
            _enum("状态", "permit_status", ("有效", "注销"), "证件状态"),
        ),
    ),
    Source(
        "edu_migrant",
        "教育·随迁子女在读名单",
        "record_key",
        (
            _c("学籍号", "record_key", Kind.TEXT, "全国学籍号"),
            _c("姓名", "name", Kind.NAME, "学生姓名"),
            _c("性别", "sex", Kind.SEX),
            _c("身份证件号", "id_number", Kind.ID, "身份证号", "公民身份号码"),
            _c("出生日期", "birth_date", Kind.DATE),
            _c("学校名称", "school", Kind.TEXT),
            _enum("学段", "stage", STAGES),
            _c("年级", "grade", Kind.TEXT),
            _c("户籍地区划代码", "hukou_code", Kind.DIVISION, "户口所在地代码"),
            _c("户籍所在地", "hukou_address", Kind.TEXT, "户口所在地"),
            _c("现住址区划代码", "residence_code", Kind.DIVISION),
            _c("现住址", "residence_address", Kind.TEXT, "家庭住址"),
            _c("家长姓名", "guardian_name", Kind.NAME, "监护人姓名"),
            _c("家长身份证号", "guardian_id_number", Kind.ID, "监护人身份证号"),
            _c("家长电话", "phone", Kind.PHONE, "联系电话"),
            _c("入学日期", "enrolled_on", Kind.DATE, "转入日期"),
            _enum("学籍状态", "school_status", ("在读", "休学", "转出", "辍学", "毕业")),
        ),
        id_in_key="CASE WHEN upper(raw_record_key[1]) = 'G' THEN raw_record_key[2:19] END",
    ),
    Source(
        "health_child",
        "卫健·0-6岁儿童健康管理",
        "record_key",
        (
            _c("健康档案编号", "record_key", Kind.TEXT, "档案编号"),
            _c("姓名", "name", Kind.NAME, "儿童姓名"),
            _c("性别", "sex", Kind.SEX),
            _c("出生日期", "birth_date", Kind.DATE),
            _c("身份证号", "id_number", Kind.ID, "公民身份号码"),
            _c("母亲姓名", "mother_name", Kind.NAME),
            _c("母亲身份证号", "mother_id_number", Kind.ID),
            _c("父亲姓名", "father_name", Kind.NAME),
            _c("联系电话", "phone", Kind.PHONE),
            _c("户籍地区划代码", "hukou_code", Kind.DIVISION),
            _c("户籍地址", "hukou_address", Kind.TEXT),
            _c("现住址区划代码", "residence_code", Kind.DIVISION),
            _c("现住址", "residence_address", Kind.TEXT),
            _c("建档日期", "filed_on", Kind.DATE),
            _c("家庭医生签约", "family_doctor", Kind.BOOL),
        ),
    ),
    Source(
        "cdc_vaccination",
        "疾控·外县(市、区)儿童本地接种",
        "record_key",
        (
            _c("接种档案编号", "record_key", Kind.TEXT, "受种者编码"),
            _c("姓名", "name", Kind.NAME, "受种者姓名"),
            _c("性别", "sex", Kind.SEX),
            _c("出生日期", "birth_date", Kind.DATE),
            _c("身份证号", "id_number", Kind.ID),
            _c("监护人姓名", "guardian_name", Kind.NAME, "母亲姓名"),
            _c("联系电话", "phone", Kind.PHONE),
            _c("户籍地区划代码", "hukou_code", Kind.DIVISION),
            _c("户籍地址", "hukou_address", Kind.TEXT),
            _c("现居住地区划代码", "residence_code", Kind.DIVISION, "现住址区划代码"),
            _c("现居住地址", "residence_address", Kind.TEXT, "现住址"),
            _c("本地首次接种日期", "first_vaccinated_on", Kind.DATE, "首次接种日期"),
            _c("最近接种日期", "last_vaccinated_on", Kind.DATE),
        ),
    ),
    Source(
        "self_declaration",
        "自主申报",
        "record_key",
        (
            _c("申报编号", "record_key"),
            _c("儿童姓名", "name", Kind.NAME),
            _c("性别", "sex", Kind.SEX),
            _c("身份证号", "id_number", Kind.ID),
            _c("出生日期", "birth_date", Kind.DATE),
            _c("户籍地区划代码", "hukou_code", Kind.DIVISION),
            _c("户籍地址", "hukou_address"),
            _c("现住址区划代码", "residence_code", Kind.DIVISION),
            _c("现住址", "residence_address"),
            _c("来本地日期", "arrived_on", Kind.DATE),
            _c("监护人姓名", "guardian_name", Kind.NAME),
            _c("监护人身份证号", "guardian_id_number", Kind.ID),
            _c("监护人电话", "phone", Kind.PHONE),
            _c("家庭生活困难", "hardship", Kind.BOOL),
            _c("住房困难", "housing_hardship", Kind.BOOL),
            _c("求助需求", "help_needs"),
            _c("申报日期", "declared_on", Kind.DATE),
        ),
    ),
    Source(
        "visit_survey",
        "入户走访登记",
        "record_key",
        (
            _c("走访编号", "record_key"),
            _c("儿童姓名", "name", Kind.NAME),
            _c("性别", "sex", Kind.SEX),
            _c("身份证号", "id_number", Kind.ID),
            _c("出生日期", "birth_date", Kind.DATE),
            _c("现住址区划代码", "residence_code", Kind.DIVISION),
            _c("户籍地区划代码", "hukou_code", Kind.DIVISION),
            _c("父亲姓名", "father_name", Kind.NAME),
            _c("父亲身份证号", "father_id_number", Kind.ID),
            _enum("父亲状况", "father_status", PARENT_STATES),
            _c("父亲外出地区划代码", "father_away_code", Kind.DIVISION),
            _c("父亲外出起始日期", "father_away_since", Kind.DATE),
            _c("母亲姓名", "mother_name", Kind.NAME),
            _c("母亲身份证号", "mother_id_number", Kind.ID),
            _enum("母亲状况", "mother_status", PARENT_STATES),
            _c("母亲外出地区划代码", "mother_away_code", Kind.DIVISION),
            _c("母亲外出起始日期", "mother_away_since", Kind.DATE),
            _c("实际监护人", "actual_guardian"),
            _enum("监护类型", "guardianship_type", GUARDIANSHIP_TYPES),
            _c("委托照护人", "entrusted_carer", Kind.NAME),
            _c("家庭经济来源", "income_source"),
            _c("残疾", "disabled", Kind.BOOL),
            _c("心理行为异常", "psych", Kind.BOOL),
            _c("流浪", "vagrant", Kind.BOOL),
            _c("独自居住", "lives_alone", Kind.BOOL),
            _c("走访日期", "visited_on", Kind.DATE),
            _c("走访人", "visitor", Kind.NAME),
        ),
    ),
    Source(
        "civil_status",
        "民政·救助保障名册",
        "record_key",
        (
            _c("名册编号", "record_key"),
            _c("姓名", "name", Kind.NAME),
            _c("身份证号", "id_number", Kind.ID),
            _c("出生日期", "birth_date", Kind.DATE),
            _enum("类别", "category", CIVIL_CATEGORIES),
            _c("起始日期", "starts_on", Kind.DATE),
            _c("终止日期", "ends_on", Kind.DATE),
        ),
    ),
    Source(
        "disability_cert",
        "残联·残疾人证",
        "record_key",
        (
            _c("残疾人证号", "record_key"),
            _c("姓名", "name", Kind.NAME),
            _c("残疾类别", "disability_category"),
            _c("残疾等级", "disability_grade"),
            _c("发证日期", "issued_on", Kind.DATE),
        ),
        one_per_person=True,
        id_in_key="raw_record_key[1:18]",
    ),
    Source(
        "medical_insurance",
        "医保·参保信息",
        "record_key",
        (
            _c("个人编号", "record_key"),
            _c("姓名", "name", Kind.NAME),
            _c("身份证号", "id_number", Kind.ID),
            _c("出生日期", "birth_date", Kind.DATE),
            _c("参保地区划代码", "insured_code", Kind.DIVISION),
            _enum("参保状态", "insurance_status", ("参保缴费", "暂停", "终止")),
            _c("参保日期", "insured_on", Kind.DATE),
        ),
        one_per_person=True,
    ),
)
SOURCES_BY_NAME = {source.name: source for source in SOURCES}


def all_fields() -> dict[str, Kind]:
    """Every normalised field of every source with its kind (the wide table's columns)."""
    fields: dict[str, Kind] = {}
    for source in SOURCES:
        for column in source.columns:
            fields.setdefault(column.field, column.kind)
    return fields
