"""Which files each source is written to, and how each file looks: its name, format,
encoding, header spellings, column order and value style (feeds.md §1).

A source may be split over several parts (files, or sheets of one workbook), by child order,
by town or by category. Every row of one child goes to one part, and a derived row (a repeat
or a duplicate key) is written right after its original in the same part, or in the overflow
CSV of a full workbook, whose name sorts after the workbook's. So "the first row read" of a
duplicated key (files in name order, rows in order) is always the original.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tonghu.synth.columns import SOURCE_BY_NAME, Column, Source
from tonghu.synth.noise import FileStyle

XLSX_ROW_CAP = 50_000


@dataclass(frozen=True)
class Part:
    """One place rows of a source are written to: a CSV file, or a sheet of a workbook."""

    file: str
    sheet: str = ""  # empty for CSV
    encoding: str = "utf-8"
    newline: str = "\n"
    # Header spelling per canonical column; missing entries use the canonical name.
    headers: dict[str, str] = field(default_factory=dict)
    order: tuple[str, ...] = ()  # column order; empty means canonical order
    omit: frozenset[str] = frozenset()  # optional columns this export lacks
    extra: tuple[tuple[int, str], ...] = ()  # (position, header) of unknown extra columns
    style: FileStyle = field(default_factory=FileStyle)

    @property
    def is_xlsx(self) -> bool:
        return self.file.endswith(".xlsx")

    def columns(self, source: Source) -> tuple[Column, ...]:
        names = self.order or source.column_names
        return tuple(source.column(name) for name in names if name not in self.omit)

    def header_row(self, source: Source) -> list[str]:
        header = [self.headers.get(column.name, column.name) for column in self.columns(source)]
        for position, name in self.extra:
            header.insert(position, name)
        return header


@dataclass(frozen=True)
class SourcePlan:
    source: Source
    parts: tuple[Part, ...]
    route: str = "single"  # "single", "ordinal" (split by child order) or "town" or "category"
    notes_sheet: bool = False  # add a 填表说明 sheet to the workbook


XLSX_STYLE = FileStyle(
    date_format="iso", date_mix=0.08, xlsx=True, date_cells=0.55, serial_dates=0.12
)

PLANS: tuple[SourcePlan, ...] = (
    SourcePlan(
        SOURCE_BY_NAME["police_residence"],
        (
            Part(
                "police_residence_2025H1.csv",
                encoding="utf-8-sig",
                newline="\r\n",
                headers={
                    "姓名": "*姓名",
                    "出生日期": "出生日期(YYYY-MM-DD)",
                    "联系电话": " 联系电话 ",
                    "居住地区划代码": "居住地区划代码（12位）",
                },
                extra=((0, "序号"),),
                style=FileStyle(date_format="iso", date_mix=0.06, sex_style="text"),
            ),
            Part(
                "police_residence_2025H1_补充.csv",
                encoding="gb18030",
                newline="\r\n",
                headers={
                    "居住证编号": "证件编号",
                    "姓名": "儿童姓名",
                    "公民身份号码": "身份证号码",
                    "户籍地区划代码": "户籍地代码",
                    "居住地区划代码": "现居住地代码",
                    "居住地址": "现居住地址",
                    "居住登记日期": "登记日期",
                    "来本地日期": "来本地居住日期",
                    "监护人身份号码": "监护人身份证号",
                    "监护人关系": "与儿童关系",
                    "联系电话": "监护人电话",
                    "状态": "证件状态",
                },
                omit=frozenset({"户籍地址"}),
                style=FileStyle(date_format="slash", date_mix=0.1, sex_style="code"),
            ),
        ),
        route="ordinal",
    ),
    SourcePlan(
        SOURCE_BY_NAME["edu_migrant"],
        (
            Part(
                "edu_migrant.xlsx",
                sheet="随迁子女名单",
                headers={
                    "学籍号": "*全国学籍号",
                    "姓名": "*学生姓名",
                    "出生日期": "出生日期（YYYY-MM-DD）",
                    "户籍地区划代码": "户口所在地代码",
                    "户籍所在地": "户口所在地",
                    "现住址区划代码": "现住址区划代码（12位）",
                    "现住址": "家庭住址",
                    "家长电话": "联系电话",
                    "入学日期": "转入日期",
                    "学籍状态": "*学籍状态",
                },
                extra=((17, "备注"),),
                style=XLSX_STYLE,
            ),
        ),
        notes_sheet=True,
    ),
    SourcePlan(
        SOURCE_BY_NAME["health_child"],
        (
            Part(
                "health_child-城区.csv",
                style=FileStyle(date_format="compact", date_mix=0.08, sex_style="text"),
            ),
            Part(
                "health_child-乡镇.csv",
                headers={
                    "健康档案编号": "档案编号",
                    "姓名": "儿童姓名",
                    "身份证号": "公民身份号码",
                },
                style=FileStyle(date_format="slash_padded", date_mix=0.08, sex_style="code"),
            ),
        ),
        route="town",
    ),
    SourcePlan(
        SOURCE_BY_NAME["cdc_vaccination"],
        (
            Part(
                "cdc_vaccination-本区.csv",
                headers={
                    "接种档案编号": "受种者编码",
                    "姓名": "受种者姓名",
                    "监护人姓名": "母亲姓名",
                    "现居住地区划代码": "现住址区划代码",
                    "现居住地址": "现住址",
                    "本地首次接种日期": "首次接种日期",
                },
                order=(
                    "接种档案编号",
                    "姓名",
                    "出生日期",
                    "性别",
                    "身份证号",
                    "监护人姓名",
                    "联系电话",
                    "现居住地区划代码",
                    "现居住地址",
                    "户籍地区划代码",
                    "户籍地址",
                    "最近接种日期",
                    "本地首次接种日期",
                ),
                style=FileStyle(date_format="dotted", date_mix=0.1, sex_style="letter"),
            ),
        ),
    ),
    SourcePlan(
        SOURCE_BY_NAME["self_declaration"],
        (
            Part(
                "self_declaration.csv",
                encoding="utf-8-sig",
                headers={
                    "儿童姓名": "儿童\u3000姓名*",
                    "身份证号": "身份证号 ",
                    "监护人电话": "监护人电话(手机)",
                    "求助需求": "求助需求（可多项）",
                },
                extra=((17, "提交渠道"),),
                style=FileStyle(date_format="chinese", date_mix=0.1, sex_style="text"),
            ),
        ),
    ),
    SourcePlan(
        SOURCE_BY_NAME["visit_survey"],
        (
            Part(
                "visit_survey.xlsx",
                sheet="第一批",
                headers={
                    "父亲外出地区划代码": "父亲外出地区划代码（６位或１２位）",
                    "母亲外出地区划代码": "母亲外出地区划代码（６位或１２位）",
                    "走访日期": "走访日期＊",
                    "儿童姓名": "儿童姓名＊",
                },
                style=XLSX_STYLE,
            ),
            Part(
                "visit_survey.xlsx",
                sheet="第二批",
                headers={
                    "父亲外出地区划代码": "父亲外出地区划代码（６位或１２位）",
                    "母亲外出地区划代码": "母亲外出地区划代码（６位或１２位）",
                    "走访日期": "走访日期＊",
                    "儿童姓名": "儿童姓名＊",
                },
                style=XLSX_STYLE,
            ),
        ),
        route="ordinal",
    ),
    SourcePlan(
        SOURCE_BY_NAME["civil_status"],
        (
            Part("civil_status.xlsx", sheet="低保特困", style=XLSX_STYLE),
            Part("civil_status.xlsx", sheet="孤儿及其他", style=XLSX_STYLE),
        ),
        route="category",
        notes_sheet=True,
    ),
    SourcePlan(
        SOURCE_BY_NAME["disability_cert"],
        (Part("disability_cert.csv", style=FileStyle(date_format="iso", date_mix=0.05)),),
    ),
    SourcePlan(
        SOURCE_BY_NAME["medical_insurance"],
        (
            Part(
                "medical_insurance_1.csv",
                style=FileStyle(date_format="compact", date_mix=0.03),
            ),
            Part(
                "medical_insurance_2.csv",
                extra=((7, "险种类型"),),
                style=FileStyle(date_format="compact", date_mix=0.03),
            ),
        ),
        route="ordinal",
    ),
)
PLAN_BY_SOURCE = {plan.source.name: plan for plan in PLANS}

NOTES = (
    ("填表说明",),
    ("1. 带*号的列为必填项。",),
    ("2. 日期请按YYYY-MM-DD格式填写，不详的请填“不详”。",),
    ("3. 身份证号请填写18位公民身份号码，末位X请大写。",),
    ("4. 区划代码请填写12位统计用区划代码。",),
)
EXTRA_VALUES: dict[str, str | tuple[str, ...]] = {
    "序号": "row_number",
    "备注": "",
    "提交渠道": ("微信小程序", "线下窗口", "村（社区）代填"),
    "险种类型": ("城乡居民基本医疗保险",),
}
# Files in the folder that belong to no source and that a round must skip.
LOCK_FILE = "~$edu_migrant.xlsx"
README_FILE = "说明.txt"
OTHER_FILE = "other_data.csv"
