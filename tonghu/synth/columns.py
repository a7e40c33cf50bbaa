"""The nine feed sources and their columns, transcribed from feeds.md §2.

Canonical column name first, then the aliases a department may use instead. The first
column of every source is its record key. ``Kind`` says what sort of value a column holds,
which decides how the noise layer may disturb it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    KEY = "key"
    NAME = "name"  # the child's name (required)
    PERSON = "person"  # another person's name: parent, guardian, visitor
    ID = "id"  # the child's ID number
    PARENT_ID = "parent_id"  # a parent's or guardian's ID number
    BIRTH = "birth"  # the child's birth date
    DATE = "date"
    SEX = "sex"
    PHONE = "phone"
    CODE = "code"  # a division code
    TEXT = "text"  # free text such as an address
    ENUM = "enum"  # one of a fixed set of words (状态, 学段, 是/否 ...)


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    aliases: tuple[str, ...] = ()
    required: bool = False


@dataclass(frozen=True)
class Source:
    name: str
    label: str
    columns: tuple[Column, ...]
    # The record's own date (policy.md "latest"), in order of preference.
    date_columns: tuple[str, ...]

    @property
    def key(self) -> str:
        return self.columns[0].name

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)


def _c(name: str, kind: Kind, *aliases: str, required: bool = False) -> Column:
    return Column(name=name, kind=kind, aliases=aliases, required=required)


K = Kind
POLICE = Source(
    "police_residence",
    "公安·居住证/居住登记",
    (
        _c("居住证编号", K.KEY, "证件编号", "居住登记编号"),
        _c("姓名", K.NAME, "儿童姓名", required=True),
        _c("性别", K.SEX),
        _c("公民身份号码", K.ID, "身份证号", "身份证号码", "证件号码"),
        _c("出生日期", K.BIRTH),
        _c("户籍地区划代码", K.CODE, "户籍地代码"),
        _c("户籍地址", K.TEXT, "户籍地详址"),
        _c("居住地区划代码", K.CODE, "现居住地代码"),
        _c("居住地址", K.TEXT, "现居住地址"),
        _c("居住登记日期", K.DATE, "登记日期"),
        _c("来本地日期", K.DATE, "来本地居住日期"),
        _c("监护人姓名", K.PERSON),
        _c("监护人身份号码", K.PARENT_ID, "监护人身份证号"),
        _c("监护人关系", K.ENUM, "与儿童关系"),
        _c("联系电话", K.PHONE, "监护人电话"),
        _c("状态", K.ENUM, "证件状态"),
    ),
    ("居住登记日期",),
)
EDU = Source(
    "edu_migrant",
    "教育·随迁子女在读名单",
    (
        _c("学籍号", K.KEY, "全国学籍号"),
        _c("姓名", K.NAME, "学生姓名", required=True),
        _c("性别", K.SEX),
        _c("身份证件号", K.ID, "身份证号", "公民身份号码"),
        _c("出生日期", K.BIRTH),
        _c("学校名称", K.TEXT),
        _c("学段", K.ENUM),
        _c("年级", K.ENUM),
        _c("户籍地区划代码", K.CODE, "户口所在地代码"),
        _c("户籍所在地", K.TEXT, "户口所在地"),
        _c("现住址区划代码", K.CODE),
        _c("现住址", K.TEXT, "家庭住址"),
        _c("家长姓名", K.PERSON, "监护人姓名"),
        _c("家长身份证号", K.PARENT_ID, "监护人身份证号"),
        _c("家长电话", K.PHONE, "联系电话"),
        _c("入学日期", K.DATE, "转入日期"),
        _c("学籍状态", K.ENUM),
    ),
    ("入学日期",),
)
HEALTH = Source(
    "health_child",
    "卫健·0-6岁儿童健康管理",
    (
        _c("健康档案编号", K.KEY, "档案编号"),
        _c("姓名", K.NAME, "儿童姓名", required=True),
        _c("性别", K.SEX),
        _c("出生日期", K.BIRTH),
        _c("身份证号", K.ID, "公民身份号码"),
        _c("母亲姓名", K.PERSON),
        _c("母亲身份证号", K.PARENT_ID),
        _c("父亲姓名", K.PERSON),
        _c("联系电话", K.PHONE),
        _c("户籍地区划代码", K.CODE),
        _c("户籍地址", K.TEXT),
        _c("现住址区划代码", K.CODE),
        _c("现住址", K.TEXT),
        _c("建档日期", K.DATE),
        _c("家庭医生签约", K.ENUM),
    ),
    ("建档日期",),
)
CDC = Source(
    "cdc_vaccination",
    "疾控·外县(市、区)儿童本地接种",
    (
        _c("接种档案编号", K.KEY, "受种者编码"),
        _c("姓名", K.NAME, "受种者姓名", required=True),
        _c("性别", K.SEX),
        _c("出生日期", K.BIRTH),
        _c("身份证号", K.ID),
        _c("监护人姓名", K.PERSON, "母亲姓名"),
        _c("联系电话", K.PHONE),
        _c("户籍地区划代码", K.CODE),
        _c("户籍地址", K.TEXT),
        _c("现居住地区划代码", K.CODE, "现住址区划代码"),
        _c("现居住地址", K.TEXT, "现住址"),
        _c("本地首次接种日期", K.DATE, "首次接种日期"),
        _c("最近接种日期", K.DATE),
    ),
    ("最近接种日期", "本地首次接种日期"),
)
SELF = Source(
    "self_declaration",
    "自主申报",
    (
        _c("申报编号", K.KEY),
        _c("儿童姓名", K.NAME, required=True),
        _c("性别", K.SEX),
        _c("身份证号", K.ID),
        _c("出生日期", K.BIRTH),
        _c("户籍地区划代码", K.CODE),
        _c("户籍地址", K.TEXT),
        _c("现住址区划代码", K.CODE),
        _c("现住址", K.TEXT),
        _c("来本地日期", K.DATE),
        _c("监护人姓名", K.PERSON),
        _c("监护人身份证号", K.PARENT_ID),
        _c("监护人电话", K.PHONE),
        _c("家庭生活困难", K.ENUM),
        _c("住房困难", K.ENUM),
        _c("求助需求", K.TEXT),
        _c("申报日期", K.DATE),
    ),
    ("申报日期",),
)
VISIT = Source(
    "visit_survey",
    "入户走访登记",
    (
        _c("走访编号", K.KEY),
        _c("儿童姓名", K.NAME, required=True),
        _c("性别", K.SEX),
        _c("身份证号", K.ID),
        _c("出生日期", K.BIRTH),
        _c("现住址区划代码", K.CODE),
        _c("户籍地区划代码", K.CODE),
        _c("父亲姓名", K.PERSON),
        _c("父亲身份证号", K.PARENT_ID),
        _c("父亲状况", K.ENUM),
        _c("父亲外出地区划代码", K.CODE),
        _c("父亲外出起始日期", K.DATE),
        _c("母亲姓名", K.PERSON),
        _c("母亲身份证号", K.PARENT_ID),
        _c("母亲状况", K.ENUM),
        _c("母亲外出地区划代码", K.CODE),
        _c("母亲外出起始日期", K.DATE),
        _c("实际监护人", K.PERSON),
        _c("监护类型", K.ENUM),
        _c("委托照护人", K.PERSON),
        _c("家庭经济来源", K.ENUM),
        _c("残疾", K.ENUM),
        _c("心理行为异常", K.ENUM),
        _c("流浪", K.ENUM),
        _c("独自居住", K.ENUM),
        _c("走访日期", K.DATE),
        _c("走访人", K.PERSON),
    ),
    ("走访日期",),
)
CIVIL = Source(
    "civil_status",
    "民政·救助保障名册",
    (
        _c("名册编号", K.KEY),
        _c("姓名", K.NAME, required=True),
        _c("身份证号", K.ID),
        _c("出生日期", K.BIRTH),
        _c("类别", K.ENUM),
        _c("起始日期", K.DATE),
        _c("终止日期", K.DATE),
    ),
    (),
)
DISABILITY = Source(
    "disability_cert",
    "残联·残疾人证",
    (
        _c("残疾人证号", K.KEY),
        _c("姓名", K.NAME, required=True),
        _c("残疾类别", K.ENUM),
        _c("残疾等级", K.ENUM),
        _c("发证日期", K.DATE),
    ),
    (),
)
INSURANCE = Source(
    "medical_insurance",
    "医保·参保信息",
    (
        _c("个人编号", K.KEY),
        _c("姓名", K.NAME, required=True),
        _c("身份证号", K.ID),
        _c("出生日期", K.BIRTH),
        _c("参保地区划代码", K.CODE),
        _c("参保状态", K.ENUM),
        _c("参保日期", K.DATE),
    ),
    (),
)

# In feeds.md §2 order, which is also the tie-break order of policy.md.
SOURCES: tuple[Source, ...] = (
    POLICE, EDU, HEALTH, CDC, SELF, VISIT, CIVIL, DISABILITY, INSURANCE,
)  # fmt: skip
SOURCE_BY_NAME: dict[str, Source] = {source.name: source for source in SOURCES}
SOURCE_ORDER: dict[str, int] = {source.name: index for index, source in enumerate(SOURCES)}

_BRACKET_SUFFIX = re.compile(r"[(\[][^()\[\]]*[)\]]$")


def normalise_header(cell: str) -> str:
    """A header cell as feeds.md §1 says to compare it: half-width, no spaces, no ``*``
    markers and no trailing unit in brackets."""
    text = unicodedata.normalize("NFKC", cell)
    text = "".join(text.split()).replace("*", "")
    previous = None
    while previous != text:
        previous = text
        text = _BRACKET_SUFFIX.sub("", text)
    return text


def header_map(source: Source) -> dict[str, str]:
    """Every accepted spelling of ``source``'s columns, mapped to the canonical name."""
    mapping: dict[str, str] = {}
    for column in source.columns:
        mapping[column.name] = column.name
        for alias in column.aliases:
            mapping.setdefault(alias, column.name)
    return mapping


def source_of_file(filename: str) -> Source | None:
    """The source a feed file belongs to by feeds.md §1, or None (to be skipped)."""
    for source in sorted(SOURCES, key=lambda s: -len(s.name)):
        if filename.startswith(source.name):
            rest = filename[len(source.name) :]
            if rest[:1] in {"_", "-", "."}:
                return source
    return None
