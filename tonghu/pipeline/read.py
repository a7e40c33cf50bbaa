"""Step 1, read (feeds.md §1): which files are feeds, their headers, and their rows as text.

Each readable sheet or CSV becomes a *block*: a DuckDB view of text cells named by the
normalised field they hold, plus ``__row`` (the 1-based data row) and ``__raw`` (the row's
cells as they came, in column order, unknown extra columns included; the block keeps the
header that names them). Rows the
CSV parser cannot read become *unreadable* entries instead of disappearing.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import re
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
from python_calamine import (
    CalamineError,
    CalamineWorkbook,
    PasswordError,
    XmlError,
    ZipError,
)

from tonghu.pipeline.duck import Connection, ident, quote, run
from tonghu.pipeline.sources import SOURCES, Source

FEED_SUFFIXES = (".csv", ".xlsx")
HEADER_SCAN_ROWS = 10  # an XLSX may carry title rows above its header
_UNIT = re.compile(r"[(（\[【].*?[)）\]】]$")
_CHUNK = 1 << 20


class FeedError(Exception):
    """A file that cannot be read at all; the message is Chinese and names the file."""


@dataclass(frozen=True)
class FeedFile:
    path: Path
    source: Source


@dataclass(frozen=True)
class SkippedFile:
    name: str
    reason: str


@dataclass(frozen=True)
class Unreadable:
    source: str
    file: str
    sheet: str
    row: int
    raw: str


@dataclass
class Block:
    source: Source
    file: str
    sheet: str
    order: int
    view: str
    arrow: str  # the registered Arrow table behind ``view``
    fields: tuple[str, ...]
    rows: int
    header: tuple[str, ...]  # the file's own header cells, in column order


@dataclass
class ReadResult:
    blocks: list[Block] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)


def source_for_name(file_name: str) -> Source | None:
    """The source a file name starts with, followed by ``_``, ``-``, ``.`` or the extension."""
    if file_name.startswith(("~$", ".")):
        return None
    for source in SOURCES:
        if re.match(re.escape(source.name) + r"([_\-.]|$)", file_name):
            return source
    return None


def plan_folder(folder: Path) -> tuple[list[FeedFile], list[SkippedFile]]:
    """The feed files of a round's folder in name order, and the files skipped and why."""
    feeds: list[FeedFile] = []
    skipped: list[SkippedFile] = []
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if not path.is_file():
            continue
        reason = _skip_reason(path)
        source = source_for_name(path.name)
        if reason is None and source is not None:
            feeds.append(FeedFile(path, source))
        else:
            skipped.append(SkippedFile(path.name, reason or "文件名不以任何数据来源名开头"))
    return feeds, skipped


def _skip_reason(path: Path) -> str | None:
    if path.name.startswith("~$"):
        return "编辑器临时锁文件"
    if path.suffix.lower() not in FEED_SUFFIXES:
        return "不是 CSV 或 XLSX 文件"
    return None


def normalise_header(cell: str) -> str:
    """Header cells match after folding widths and dropping spaces, ``*`` and a trailing unit."""
    text = unicodedata.normalize("NFKC", cell).strip()
    text = re.sub(r"[\s*]", "", text)
    return _UNIT.sub("", text)


def match_header(cells: list[str], source: Source) -> dict[int, str] | None:
    """Column index → field for a header row of ``source``, or None if it is not one."""
    by_header: dict[str, str] = {}
    for column in source.columns:
        for header in (column.header, *column.aliases):
            by_header.setdefault(normalise_header(header), column.field)
    mapping: dict[int, str] = {}
    for index, cell in enumerate(cells):
        field_name = by_header.get(normalise_header(cell))
        if field_name is not None and field_name not in mapping.values():
            mapping[index] = field_name
    needed = {source.key, "name"}
    return mapping if needed <= set(mapping.values()) else None


def read_files(con: Connection, files: list[FeedFile], *, work_dir: Path) -> ReadResult:
    """Read every file in order into blocks; a file that cannot be read at all is skipped."""
    result = ReadResult()
    for feed in files:
        try:
            if feed.path.suffix.lower() == ".xlsx":
                _read_xlsx(con, feed, result)
            else:
                _read_csv(con, feed, result, work_dir=work_dir)
        except FeedError as exc:
            result.skipped.append(SkippedFile(feed.path.name, str(exc)))
    return result


# --- CSV -----------------------------------------------------------------------------------


def detect_encoding(path: Path) -> str:
    """``utf-8`` (with or without BOM) or ``gb18030``, decided by a strict UTF-8 pass."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    with path.open("rb") as stream:
        try:
            while chunk := stream.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8"


def _utf8_copy(path: Path, work_dir: Path) -> Path:
    """DuckDB reads UTF-8 only: GB18030 files are transcoded to a temporary copy."""
    target = Path(tempfile.mkstemp(suffix=".csv", dir=work_dir)[1])
    decoder = codecs.getincrementaldecoder("gb18030")("strict")
    try:
        with path.open("rb") as source, target.open("w", encoding="utf-8") as sink:
            while chunk := source.read(_CHUNK):
                sink.write(decoder.decode(chunk))
            sink.write(decoder.decode(b"", final=True))
    except UnicodeDecodeError:
        raise FeedError("文件编码无法识别：应为 UTF-8 或 GB18030（GBK）") from None
    return target


def _csv_header(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return next(csv.reader(stream), [])


def _read_csv(con: Connection, feed: FeedFile, result: ReadResult, *, work_dir: Path) -> None:
    path = feed.path
    if path.stat().st_size == 0:
        raise FeedError("文件为空")
    if detect_encoding(path) == "gb18030":
        path = _utf8_copy(path, work_dir)
    header = _csv_header(path)
    mapping = match_header(header, feed.source)
    if mapping is None:
        raise FeedError(f"表头与数据来源 {feed.source.name} 的列不符（缺少编号列或姓名列）")
    order = len(result.blocks)
    rejects = f"rejects_{order}"
    table = _scan_csv(con, path, len(header), rejects)
    bad = run(
        con, f"SELECT DISTINCT line - 1 AS row, csv_line FROM {rejects} ORDER BY row"
    ).fetchall()
    rows = _data_row_numbers(table.num_rows, [int(row) for row, _ in bad])
    for row, line in bad:
        result.unreadable.append(
            Unreadable(feed.source.name, feed.path.name, "", int(row), str(line).strip("\r\n"))
        )
    _register_block(
        con,
        feed,
        sheet="",
        table=table.append_column("__row", rows),
        header=header,
        mapping=mapping,
        result=result,
    )


def _scan_csv(con: Connection, path: Path, width: int, rejects: str) -> pa.Table:
    """All rows as text columns c0..cN; a row DuckDB cannot parse (an unterminated quote,
    more cells than the header) goes to ``rejects`` with its line, short rows are padded."""
    columns = "{" + ", ".join(f"'c{index}': 'VARCHAR'" for index in range(width)) + "}"
    options = f"""auto_detect = false, header = true, columns = {columns}, delim = ',',
        quote = '"', escape = '"', null_padding = true, ignore_errors = true,
        store_rejects = true, rejects_table = {quote(rejects)},
        rejects_scan = {quote(rejects + "_scan")}"""
    sql = f"SELECT * FROM read_csv($1, {options})"
    table: pa.Table
    try:
        table = con.sql(sql, params=[str(path)]).to_arrow_table()
    except duckdb.Error as exc:
        # Padding short rows and quoted line breaks together need the single-threaded reader.
        if "parallel=false" not in str(exc):
            raise FeedError(f"CSV 文件无法解析（{str(exc).splitlines()[0]}）") from None
        sql = f"SELECT * FROM read_csv($1, {options}, parallel = false)"
        table = con.sql(sql, params=[str(path)]).to_arrow_table()
    return table


def _data_row_numbers(good: int, bad_rows: list[int]) -> pa.Int64Array:
    """Data-row numbers of the rows read, skipping the numbers of the unreadable ones."""
    candidates = np.arange(1, good + len(bad_rows) + 1, dtype=np.int64)
    numbers = np.setdiff1d(candidates, np.asarray(bad_rows, dtype=np.int64))[:good]
    return pa.array(numbers, type=pa.int64())


# --- XLSX ----------------------------------------------------------------------------------


def _read_xlsx(con: Connection, feed: FeedFile, result: ReadResult) -> None:
    try:
        workbook = CalamineWorkbook.from_path(str(feed.path))
    except (CalamineError, PasswordError, XmlError, ZipError, OSError, ValueError) as exc:
        raise FeedError(f"无法作为 XLSX 文件打开（{type(exc).__name__}）") from None
    matched = False
    for sheet_name in workbook.sheet_names:
        rows = workbook.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
        found = _find_header(rows, feed.source)
        if found is None:
            continue  # notes, instructions: not this source's data
        matched = True
        header_index, mapping = found
        header = [_cell_text(cell) or "" for cell in rows[header_index]]
        table = _sheet_table(rows[header_index + 1 :], len(header))
        _register_block(
            con,
            feed,
            sheet=sheet_name,
            table=table,
            header=header,
            mapping=mapping,
            result=result,
        )
    if not matched:
        raise FeedError(f"没有任何工作表的表头与数据来源 {feed.source.name} 的列相符")


def _find_header(
    rows: Sequence[Sequence[object]], source: Source
) -> tuple[int, dict[int, str]] | None:
    for index, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        mapping = match_header([_cell_text(cell) or "" for cell in row], source)
        if mapping is not None:
            return index, mapping
    return None


def _sheet_table(rows: Sequence[Sequence[object]], width: int) -> pa.Table:
    """Text columns c0..cN and ``__row``; wholly empty rows are not data."""
    numbered = [
        (number, row)
        for number, row in enumerate(rows, start=1)
        if any(cell not in (None, "") for cell in row)
    ]
    columns: dict[str, pa.Array[Any]] = {
        f"c{index}": pa.array(
            [_cell_text(row[index]) if index < len(row) else None for _, row in numbered],
            type=pa.string(),
        )
        for index in range(width)
    }
    columns["__row"] = pa.array([number for number, _ in numbered], type=pa.int64())
    return pa.table(columns)


def _cell_text(cell: object) -> str | None:
    """An XLSX cell as the text a person would read in it."""
    if cell is None or cell == "":
        return None
    if isinstance(cell, bool):
        return "是" if cell else "否"
    if isinstance(cell, float):
        return str(int(cell)) if cell.is_integer() else repr(cell)
    if isinstance(cell, dt.datetime):
        return cell.date().isoformat() if cell.time() == dt.time() else cell.isoformat(" ")
    if isinstance(cell, dt.date):
        return cell.isoformat()
    return str(cell)


# --- blocks --------------------------------------------------------------------------------


def _register_block(
    con: Connection,
    feed: FeedFile,
    *,
    sheet: str,
    table: pa.Table,
    header: list[str],
    mapping: dict[int, str],
    result: ReadResult,
) -> None:
    order = len(result.blocks)
    arrow_name = f"arrow_{order}"
    width = sum(1 for name in table.column_names if name != "__row")
    con.register(arrow_name, table)
    cells = ", ".join(f"c{index}" for index in range(width))
    fields = ", ".join(f"c{index} AS {ident(name)}" for index, name in mapping.items())
    view = f"block_{order}"
    run(
        con,
        f"""CREATE OR REPLACE TEMP VIEW {view} AS
            SELECT __row, [{cells}]::VARCHAR[] AS __raw, {fields}
            FROM {arrow_name}""",
    )
    result.blocks.append(
        Block(
            source=feed.source,
            file=feed.path.name,
            sheet=sheet,
            order=order,
            view=view,
            arrow=arrow_name,
            fields=tuple(mapping.values()),
            rows=table.num_rows,
            header=tuple(_column_names(header, width)),
        )
    )


def _column_names(header: list[str], width: int) -> list[str]:
    """Each column's header, never empty (第N列 for a blank cell or a column past the header)."""
    cells = header + [""] * (width - len(header))
    return [cell.strip() or f"第{index}列" for index, cell in enumerate(cells, start=1)]
