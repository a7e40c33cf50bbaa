"""The standard statistical tables (分类统计分析): 规模, 年龄结构, 分布区域, 健康状况, 学业状况,
监护情况, 参保情况. One row per division below the jurisdiction plus a 合计 row; two header
rows whose upper cells span their columns (merged in the XLSX, as bureaus expect).
"""

from __future__ import annotations

import io
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from tonghu.stats import selectors
from tonghu.stats.dashboard import Figures, health_ages
from tonghu.stats.labels import (
    DROPOUT_LABELS,
    FAMILY_DOCTOR_LABELS,
    GRADE_LABELS,
    GROUP_LABELS,
    GUARDIANSHIP_LABELS,
    INSURANCE_LABELS,
    ORIGIN_SCOPES,
    STAGE_LABELS,
    VACCINATION_LABELS,
)
from tonghu.stats.models import Measure
from tonghu.stats.selectors import Jurisdiction
from tonghu.stats.suppression import shown_text
from tonghu.web.exports import safe_cell

TOTAL = "合计"
UNKNOWN_LABEL = "不详"
Figure = tuple[str, str, str]  # group, dimension, category


@dataclass(frozen=True)
class Column:
    label: str
    figure: Figure  # what the cell counts; ("", "rate", ...) cells are worked out
    rate_of: tuple[Figure, Figure] | None = None  # a rate: numerator, denominator


@dataclass(frozen=True)
class ColumnGroup:
    label: str
    columns: tuple[Column, ...]
    total: Figure | None = None  # the figure the other columns add up to, if they do
    summed: bool = False  # the total is not a stored figure but the sum of the others


@dataclass(frozen=True)
class TableSpec:
    title: str
    groups: tuple[ColumnGroup, ...]


@dataclass
class Table:
    title: str
    groups: tuple[ColumnGroup, ...]
    rows: list[tuple[str, str, list[int | str]]]  # area code ("" for 合计), name, cells
    note: str

    @property
    def width(self) -> int:
        return 1 + sum(len(group.columns) for group in self.groups)


def _partition(
    group: str, dimension: str, labels: dict[str, str], *, unknown: str | None = "unknown"
) -> ColumnGroup:
    """A group's total, then one column per category (and 不详 where a value may be missing)."""
    total = (group, "total", "")
    columns = [Column(TOTAL, total)]
    columns += [Column(label, (group, dimension, code)) for code, label in labels.items()]
    if unknown:
        columns.append(Column(UNKNOWN_LABEL, (group, dimension, unknown)))
    return ColumnGroup(GROUP_LABELS[group], tuple(columns), total=total)


def _counts(label: str, group: str, dimension: str, labels: dict[str, str]) -> ColumnGroup:
    """Counts per category that need not add up to anything shown."""
    return ColumnGroup(
        label, tuple(Column(text, (group, dimension, code)) for code, text in labels.items())
    )


def _health_total(dimension: str, labels: dict[str, str], *, ages: str) -> ColumnGroup:
    """The children of the ages health counts (their categories summed), then each one."""
    total = ("all", f"{dimension}_total", "")
    columns = [Column(f"{ages}儿童", total)]
    columns += [Column(text, ("all", dimension, code)) for code, text in labels.items()]
    return ColumnGroup(
        "家庭医生签约" if dimension == "family_doctor" else "本地预防接种",
        tuple(columns),
        total=total,
        summed=True,
    )


def specs(place: Jurisdiction) -> list[TableSpec]:
    ages = {band.label: band.label for band in place.policy.age_bands}
    sex = {"男": "男", "女": "女"}
    return [
        TableSpec(
            "表1 规模",
            tuple(_partition(group, "sex", sex) for group in GROUP_LABELS),
        ),
        TableSpec(
            "表2 年龄结构",
            tuple(
                _partition(group, "age", ages) for group in ("migrant", "left_behind", "difficulty")
            ),
        ),
        TableSpec(
            "表3 分布区域",
            (
                ColumnGroup(
                    "流动儿童（按户籍地）",
                    _partition("migrant", "origin_scope", ORIGIN_SCOPES).columns,
                    total=("migrant", "total", ""),
                ),
                ColumnGroup(
                    "其他各类儿童",
                    tuple(
                        Column(GROUP_LABELS[group], (group, "total", ""))
                        for group in ("left_behind", "difficulty", "key_care")
                    ),
                ),
            ),
        ),
        TableSpec(
            "表4 健康状况",
            (
                _health_total("family_doctor", FAMILY_DOCTOR_LABELS, ages=health_ages(place)),
                _health_total("vaccination", VACCINATION_LABELS, ages=health_ages(place)),
                ColumnGroup(
                    "残疾与心理",
                    (
                        Column("残疾儿童", ("all", "key_care", "disability")),
                        Column("心理和行为异常", ("all", "key_care", "psych")),
                    ),
                ),
            ),
        ),
        TableSpec(
            "表5 学业状况",
            (
                *(
                    _partition(group, "stage", STAGE_LABELS, unknown=None)
                    for group in ("migrant", "left_behind", "difficulty")
                ),
                _counts("控辍保学", "all", "dropout", DROPOUT_LABELS),
            ),
        ),
        TableSpec(
            "表6 监护情况",
            (
                *(
                    _partition(group, "guardianship", GUARDIANSHIP_LABELS)
                    for group in ("left_behind", "difficulty", "migrant")
                ),
                ColumnGroup(
                    "家庭监护能力评估（最近一次）",
                    tuple(
                        Column(label, ("daily", Measure.ASSESSMENT_GRADE, grade))
                        for grade, label in GRADE_LABELS.items()
                    ),
                ),
            ),
        ),
        TableSpec(
            "表7 参保情况",
            tuple(
                ColumnGroup(
                    GROUP_LABELS[group],
                    (
                        *_partition(group, "insurance", INSURANCE_LABELS, unknown=None).columns,
                        Column(
                            "参保率",
                            ("", "rate", ""),
                            rate_of=((group, "insurance", "参保缴费"), (group, "total", "")),
                        ),
                    ),
                    total=(group, "total", ""),
                )
                for group in ("all", "migrant", "left_behind", "difficulty")
            ),
        ),
    ]


def standard_tables(place: Jurisdiction) -> list[Table]:
    """The seven tables, with small cells protected where the jurisdiction asks for it."""
    figures = Figures(threshold=place.threshold, protected=place.protected)
    names = selectors.areas(place)
    by_area = selectors.round_by_area(place)
    daily_by_area = selectors.daily_by_area(place, measure=Measure.ASSESSMENT_GRADE)
    areas = sorted({key[0] for key in by_area} | {key[0] for key in daily_by_area} | set(names))
    rows = ["", *areas]
    for (area, group, dimension, category), n in by_area.items():
        figures.put((area, group, dimension, category), n)
    for key, n in selectors.round_totals(place).items():
        figures.put(("", *key), n)
    for (area, category), n in daily_by_area.items():
        figures.put((area, "daily", Measure.ASSESSMENT_GRADE, category), n)
        total_key = ("", "daily", Measure.ASSESSMENT_GRADE, category)
        figures.put(total_key, figures.values.get(total_key, 0) + n)
    all_specs = specs(place)
    for spec in all_specs:
        _declare_lines(figures, spec, rows)
    area_rows = [("", TOTAL), *((code, names.get(code, "未明确下级区划")) for code in areas)]
    if not areas:
        area_rows = [("", place.division.name)]
    note = _note(place)
    return [
        Table(
            spec.title,
            spec.groups,
            [(code, name, _cells(figures, spec, code)) for code, name in area_rows],
            note,
        )
        for spec in all_specs
    ]


def _declare_lines(figures: Figures, spec: TableSpec, rows: list[str]) -> None:
    """Each row's groups add up to their totals; each column adds up over the areas."""
    for group in spec.groups:
        members = [column.figure for column in group.columns if column.rate_of is None]
        if group.total is not None:
            parts = [figure for figure in members if figure != group.total]
            for row in rows:
                if group.summed:
                    figures.put(
                        (row, *group.total),
                        sum(figures.values.get((row, *figure), 0) for figure in parts),
                    )
                figures.line((row, *group.total), [(row, *figure) for figure in parts])
        for figure in members:
            figures.line(("", *figure), [(row, *figure) for row in rows if row])


def _cells(figures: Figures, spec: TableSpec, row: str) -> list[int | str]:
    cells: list[int | str] = []
    for group in spec.groups:
        for column in group.columns:
            if column.rate_of is not None:
                numerator, denominator = (figures.get((row, *f)) for f in column.rate_of)
                cells.append(
                    f"{numerator / denominator:.1%}"
                    if numerator is not None and denominator
                    else "—"
                )
                continue
            value = figures.get((row, *column.figure))
            cells.append(shown_text(None, threshold=figures.threshold) if value is None else value)
    return cells


def _note(place: Jurisdiction) -> str:
    as_of = place.as_of
    parts = [
        f"统计范围：{place.division.name}",
        f"摸排基准日：{as_of:%Y年%m月%d日}" if as_of else "尚未完成监测摸排",
        "单位：人",
    ]
    if place.protected:
        parts.append(
            f"小数保护：少于{place.threshold}人的格及可据以推算的格显示为“<{place.threshold}”"
        )
    return "；".join(parts) + "。"


THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
CENTRE = Alignment(horizontal="center", vertical="center", wrap_text=True)


def tables_xlsx(tables: Sequence[Table]) -> bytes:
    """One sheet per table: title, note, two header rows merged over their columns, data."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for table in tables:
        sheet = book.create_sheet(table.title.split(" ", 1)[-1])
        width = table.width
        sheet.append([table.title])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
        sheet.append([table.note])
        sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
        upper: list[Hashable] = ["区划"]
        lower: list[Hashable] = [""]
        for group in table.groups:
            upper += [group.label] + [""] * (len(group.columns) - 1)
            lower += [column.label for column in group.columns]
        sheet.append(upper)
        sheet.append(lower)
        sheet.merge_cells(start_row=3, start_column=1, end_row=4, end_column=1)
        column = 2
        for group in table.groups:
            span = len(group.columns)
            if span > 1:
                sheet.merge_cells(
                    start_row=3, start_column=column, end_row=3, end_column=column + span - 1
                )
            column += span
        for _, name, cells in table.rows:
            sheet.append([safe_cell(name), *(safe_cell(cell) for cell in cells)])
        _style(sheet, width, len(table.rows))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _style(sheet: Worksheet, width: int, rows: int) -> None:
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = CENTRE
    for row in sheet.iter_rows(min_row=3, max_row=4 + rows, max_col=width):
        for cell in row:
            cell.border = BOX
            cell.alignment = CENTRE
    for row in sheet.iter_rows(min_row=3, max_row=4, max_col=width):
        for cell in row:
            cell.font = Font(bold=True)
    sheet.column_dimensions["A"].width = 18
    for index in range(2, width + 1):
        sheet.column_dimensions[get_column_letter(index)].width = 10
    sheet.freeze_panes = "B5"
