"""Loading the jurisdiction tree (feeds.md §5): the whole file or nothing."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from tonghu.divisions.codes import Level, is_code, level_of, prefix
from tonghu.divisions.models import Division

COLUMNS = ("code", "name", "level", "parent_code", "central_urban")
NATIONAL_FILE = Path(__file__).resolve().parent / "data" / "gbt2260_counties.csv"
DEMO_COUNTY_FILE = Path(__file__).resolve().parent / "data" / "demo_county.csv"


@dataclass(frozen=True)
class DivisionRow:
    line: int
    code: str
    name: str
    level: Level
    parent_code: str
    central_urban: bool


@dataclass(frozen=True)
class LoadResult:
    created: int
    updated: int
    unchanged: int


class DivisionFileError(Exception):
    """The file was refused whole; ``problems`` names each bad line in Chinese."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def divisions_load(*, path: Path) -> LoadResult:
    """Validate every line of ``path`` and, only if all are good, upsert them in one transaction."""
    rows = _parse(_read_text(path))
    existing = {division.code: division for division in Division.objects.all()}
    _check_tree(rows, existing)
    with transaction.atomic():
        return _upsert(rows, existing)


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DivisionFileError([f"无法读取文件 {path}：{exc.strerror}"]) from None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DivisionFileError(["文件编码无法识别：应为 UTF-8 或 GB18030"])


def _parse(text: str) -> list[DivisionRow]:
    reader = csv.reader(io.StringIO(text))
    header = [cell.strip() for cell in next(reader, [])]
    if tuple(header) != COLUMNS:
        raise DivisionFileError([f"表头应为 {','.join(COLUMNS)}，实为 {','.join(header) or '空'}"])
    rows: list[DivisionRow] = []
    problems: list[str] = []
    for line, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        row, row_problems = _parse_row(line, cells)
        problems.extend(row_problems)
        if row is not None:
            rows.append(row)
    problems.extend(_duplicates(rows))
    if problems:
        raise DivisionFileError(problems)
    if not rows:
        raise DivisionFileError(["文件中没有区划数据"])
    return rows


def _parse_row(line: int, cells: list[str]) -> tuple[DivisionRow | None, list[str]]:
    if len(cells) != len(COLUMNS):
        return None, [f"第{line}行：应有{len(COLUMNS)}列，实有{len(cells)}列"]
    code, name, level_text, parent_code, central = (cell.strip() for cell in cells)
    problems = []
    if not is_code(code):
        problems.append(f"第{line}行：区划代码 {code!r} 应为12位数字")
    if not name:
        problems.append(f"第{line}行：名称为空")
    if level_text not in Level.__members__.values():
        problems.append(f"第{line}行：层级 {level_text!r} 应为 {'、'.join(Level)} 之一")
    if central not in ("0", "1"):
        problems.append(f"第{line}行：central_urban 应为 0 或 1，实为 {central!r}")
    if parent_code and not is_code(parent_code):
        problems.append(f"第{line}行：上级代码 {parent_code!r} 应为12位数字")
    if problems:
        return None, problems
    level = Level(level_text)
    if level_of(code) != level:
        problems.append(f"第{line}行：代码 {code} 的结构与层级 {level} 不符")
    row = DivisionRow(line, code, name, level, parent_code, central == "1")
    return (None if problems else row), problems


def _duplicates(rows: Iterable[DivisionRow]) -> list[str]:
    first_line: dict[str, int] = {}
    problems = []
    for row in rows:
        if row.code in first_line:
            problems.append(f"第{row.line}行：区划代码 {row.code} 与第{first_line[row.code]}行重复")
        else:
            first_line[row.code] = row.line
    return problems


def _check_tree(rows: list[DivisionRow], existing: dict[str, Division]) -> None:
    levels = {code: Level(division.level) for code, division in existing.items()}
    levels.update({row.code: row.level for row in rows})
    problems = [problem for row in rows if (problem := _tree_problem(row, levels))]
    if problems:
        raise DivisionFileError(problems)


def _tree_problem(row: DivisionRow, levels: dict[str, Level]) -> str | None:
    expected_parent_level = row.level.parent
    if expected_parent_level is None:
        return f"第{row.line}行：省级区划不应有上级" if row.parent_code else None
    if not row.parent_code:
        return f"第{row.line}行：{row.level.label}区划 {row.code} 缺少上级代码"
    parent_level = levels.get(row.parent_code)
    if parent_level is None:
        return f"第{row.line}行：上级代码 {row.parent_code} 不存在"
    if parent_level != expected_parent_level:
        return (
            f"第{row.line}行：层级顺序错误，{row.level.label}区划的上级应为"
            f"{expected_parent_level.label}，而 {row.parent_code} 为{parent_level.label}"
        )
    if prefix(row.code, expected_parent_level) != prefix(row.parent_code, expected_parent_level):
        return f"第{row.line}行：代码 {row.code} 不在上级 {row.parent_code} 的代码范围内"
    return None


def _upsert(rows: list[DivisionRow], existing: dict[str, Division]) -> LoadResult:
    created = updated = unchanged = 0
    ordered = sorted(rows, key=lambda row: (row.level.prefix_length, row.code))
    to_create: list[Division] = []
    to_update: list[Division] = []
    for row in ordered:
        fields = {
            "name": row.name,
            "level": row.level.value,
            "parent_id": row.parent_code or None,
            "central_urban": row.central_urban,
        }
        current = existing.get(row.code)
        if current is None:
            to_create.append(Division(code=row.code, **fields))
            created += 1
        elif any(getattr(current, key) != value for key, value in fields.items()):
            for key, value in fields.items():
                setattr(current, key, value)
            to_update.append(current)
            updated += 1
        else:
            unchanged += 1
    Division.objects.bulk_create(to_create, batch_size=1000)
    Division.objects.bulk_update(
        to_update, ["name", "level", "parent", "central_urban"], batch_size=1000
    )
    return LoadResult(created=created, updated=updated, unchanged=unchanged)
