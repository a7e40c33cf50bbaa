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
import multiprocessing
import os
import re
import resource
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection as Connection_
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from python_calamine import CalamineError, CalamineWorkbook, PasswordError

from tonghu.pipeline.duck import Connection, ident, quote, run
from tonghu.pipeline.sources import SOURCES, SOURCES_BY_NAME, Source

FEED_SUFFIXES = (".csv", ".xlsx")
HEADER_SCAN_ROWS = 10  # an XLSX may carry title rows above its header
_UNIT = re.compile(r"[(（\[【].*?[)）\]】]$")
# Spaces, ``*`` markers, and invisible characters (controls, BOMs, zero-width spaces).
_HEADER_NOISE = re.compile(r"[\s*\x00-\x1f\x7f\u200b-\u200f\u2060\ufeff]")
_CHUNK = 1 << 20
_LINE_END = re.compile(rb"\r\n?")
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")
MAX_OPEN_QUOTES = 20  # rows with a quote left open, each read past at the cost of a copy


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
    text = _HEADER_NOISE.sub("", text)
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
        try:
            return next(csv.reader(stream), [])
        except csv.Error:  # a quote left open, or a cell past the csv module's size limit
            raise FeedError("CSV 表头行无法解析（引号未闭合或单元格过长）") from None


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
    scan = _CsvScan(con, len(header), f"rejects_{order}", work_dir)
    try:
        table, bad = scan.rows(path)
    except duckdb.Error:
        # DuckDB's parser stops at line ends that change within the file (CRLF rows with LF
        # rows, or a lone CR): read a copy with LF line ends only.
        try:
            table, bad = scan.rows(_lf_copy(path, work_dir))
        except duckdb.Error:
            raise FeedError(
                "CSV 文件无法解析：请确认以逗号分隔、引号成对，并另存为 UTF-8 或 GB18030 编码的 CSV"
            ) from None
    if _has_nul(path):
        table = without_nul(table)
    for row, line in bad:
        result.unreadable.append(
            Unreadable(feed.source.name, feed.path.name, "", row, line.replace("\x00", ""))
        )
    _register_block(con, feed, sheet="", table=table, header=header, mapping=mapping, result=result)


def _has_nul(path: Path) -> bool:
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            if b"\x00" in chunk:
                return True
    return False


def without_nul(table: pa.Table) -> pa.Table:
    """Every text cell without NUL characters: no database text column can hold them."""
    for index, column in enumerate(table.columns):
        if pa.types.is_string(column.type) and pc.any(pc.match_substring(column, "\x00")).as_py():
            table = table.set_column(
                index, table.field(index), pc.replace_substring(column, "\x00", "")
            )
    return table


def _lf_copy(path: Path, work_dir: Path) -> Path:
    """A copy of a UTF-8 file with every CRLF and lone CR made LF (line numbers unchanged)."""
    target = Path(tempfile.mkstemp(suffix=".csv", dir=work_dir)[1])
    with path.open("rb") as source, target.open("wb") as sink:
        carry = b""
        while chunk := source.read(_CHUNK):
            chunk = carry + chunk
            carry = b"\r" if chunk.endswith(b"\r") else b""  # its LF may start the next chunk
            sink.write(_LINE_END.sub(b"\n", chunk[: len(chunk) - len(carry)]))
        sink.write(_LINE_END.sub(b"\n", carry))
    return target


@dataclass(frozen=True)
class _OpenQuote:
    """A row whose quote DuckDB found open to the end of the file (it swallows every row
    after it): its row number, and the byte positions of its line and of its quote."""

    row: int
    line_at: int
    quote_at: int


class _CsvScan:
    """All rows of one CSV as text columns c0..cN plus ``__row``, and the rows that cannot
    be read, as (row, line).

    A row DuckDB cannot parse (an unterminated quote, more cells than the header) is
    unreadable; short rows are padded. A quote left open to the end of the file would make
    every later row part of one cell: that row's line alone is unreadable and the rest of
    the file is read again after it, so that no row after it is lost.
    """

    def __init__(self, con: Connection, width: int, name: str, work_dir: Path) -> None:
        self.con = con
        self.width = width
        self.name = name
        self.work_dir = work_dir
        self.scans = 0

    def rows(self, path: Path) -> tuple[pa.Table, list[tuple[int, str]]]:
        tables: list[pa.Table] = []
        bad: list[tuple[int, str]] = []
        offset = 0  # data rows before the part being read
        part, header = path, True
        for _ in range(MAX_OPEN_QUOTES + 1):
            table, rejected, open_quote = self._part(part, header=header)
            numbers = _data_row_numbers(table.num_rows, [row for row, _ in rejected])
            tables.append(table.append_column("__row", pc.add(numbers, offset)))
            bad += [(row + offset, line) for row, line in rejected]
            if open_quote is None:
                return pa.concat_tables(tables), bad
            line, rest = _cut_line(part, open_quote, self.work_dir)
            bad.append((open_quote.row + offset, line))
            offset += open_quote.row
            if rest is None:
                return pa.concat_tables(tables), bad
            part, header = rest, False
        raise FeedError(f"文件中引号未闭合的行超过 {MAX_OPEN_QUOTES} 处，无法可靠地分行")

    def _part(
        self, path: Path, *, header: bool
    ) -> tuple[pa.Table, list[tuple[int, str]], _OpenQuote | None]:
        """The rows of one part of the file: up to a quote left open, if there is one."""
        try:
            table, rejects = self._read(path, header=header, parallel=True)
        except duckdb.Error:
            # Padding short rows and quoted line breaks together need the single-threaded
            # reader (DuckDB says so, or stops at a row with a quoted line break and too many
            # cells). That reader ends a row at a quote left open without a word: a parallel
            # pass without padding finds such a quote first, and only the rows before it are
            # read. Any other error comes again from the single-threaded reader.
            probe, probe_rejects = self._read(path, header=header, parallel=True, padding=False)
            found = self._open_quote(probe, probe_rejects, header=header)
            if found is not None:
                head = _copy_range(path, 0, _line_start(path, found.line_at), self.work_dir)
                table, rejects = self._read(head, header=header, parallel=False)
                return table, self._rejected(rejects, header=header), found
            table, rejects = self._read(path, header=header, parallel=False)
            return table, self._rejected(rejects, header=header), None
        found = self._open_quote(table, rejects, header=header)
        rejected = self._rejected(rejects, header=header)
        if found is not None:
            rejected = [(row, line) for row, line in rejected if row != found.row]
        return table, rejected, found

    def _read(
        self, path: Path, *, header: bool, parallel: bool, padding: bool = True
    ) -> tuple[pa.Table, str]:
        self.scans += 1
        rejects = f"{self.name}_{self.scans}"
        columns = "{" + ", ".join(f"'c{index}': 'VARCHAR'" for index in range(self.width)) + "}"
        options = f"""auto_detect = false, header = {str(header).lower()},
            columns = {columns}, delim = ',', quote = '"', escape = '"',
            null_padding = {str(padding).lower()}, parallel = {str(parallel).lower()},
            ignore_errors = true, store_rejects = true, rejects_table = {quote(rejects)},
            rejects_scan = {quote(rejects + "_scan")}"""
        sql = f"SELECT * FROM read_csv($1, {options})"
        table: pa.Table = self.con.sql(sql, params=[str(path)]).to_arrow_table()
        return table, rejects

    def _rejected(self, rejects: str, *, header: bool) -> list[tuple[int, str]]:
        skip = 1 if header else 0
        found = run(
            self.con, f"SELECT DISTINCT line - {skip} AS row, csv_line FROM {rejects} ORDER BY row"
        ).fetchall()
        return [(int(row), str(line).strip("\r\n")) for row, line in found]

    def _open_quote(self, table: pa.Table, rejects: str, *, header: bool) -> _OpenQuote | None:
        """The row with a quote left open to the end of the file, if any: DuckDB reads no
        row after it."""
        skip = 1 if header else 0
        found = run(
            self.con,
            f"""SELECT line - {skip}, line_byte_position, byte_position,
                    (SELECT count(DISTINCT line) FROM {rejects})
                FROM {rejects}
                WHERE error_type = 'UNQUOTED VALUE'
                    AND contains(error_message, 'unterminated quote')
                ORDER BY line DESC LIMIT 1""",
        ).fetchall()
        if not found:
            return None
        row, line_at, quote_at, bad_rows = (int(value) for value in found[0])
        if row < table.num_rows + bad_rows:
            return None  # rows after it were read: DuckDB found the row's end itself
        return _OpenQuote(row=row, line_at=line_at, quote_at=quote_at)


def _line_start(path: Path, near: int) -> int:
    """Where the line holding byte ``near`` starts (DuckDB gives a line's position give or
    take one byte: the line starts after the last line end before it)."""
    near = min(near, path.stat().st_size)
    back = max(0, near - _CHUNK)
    with path.open("rb") as stream:
        stream.seek(back)
        before = stream.read(near - back)
    cut = max(before.rfind(b"\n"), before.rfind(b"\r"))
    return back + cut + 1 if cut >= 0 else back


def _cut_line(path: Path, found: _OpenQuote, work_dir: Path) -> tuple[str, Path | None]:
    """The open-quoted row's text (from its line's start to the end of the quote's line)
    and a copy of the rest of the file after it (None when nothing follows)."""
    size = path.stat().st_size
    start = _line_start(path, found.line_at)
    text = b""
    end = size
    with path.open("rb") as stream:
        stream.seek(start)
        while chunk := stream.read(_CHUNK):
            at = _LINE_BREAK.search(chunk, max(0, found.quote_at - 1 - start - len(text)))
            if at is not None:
                end = start + len(text) + at.end()
                text += chunk[: at.start()]
                break
            text += chunk
    line = text.decode("utf-8", errors="replace").strip("\r\n")
    return line, (_copy_range(path, end, size, work_dir) if end < size else None)


def _copy_range(path: Path, start: int, end: int, work_dir: Path) -> Path:
    target = Path(tempfile.mkstemp(suffix=".csv", dir=work_dir)[1])
    with path.open("rb") as source, target.open("wb") as sink:
        source.seek(start)
        left = end - start
        while left > 0 and (chunk := source.read(min(_CHUNK, left))):
            sink.write(chunk)
            left -= len(chunk)
    return target


def _data_row_numbers(good: int, bad_rows: list[int]) -> pa.Int64Array:
    """Data-row numbers of the rows read, skipping the numbers of the unreadable ones."""
    candidates = np.arange(1, good + len(bad_rows) + 1, dtype=np.int64)
    numbers = np.setdiff1d(candidates, np.asarray(bad_rows, dtype=np.int64))[:good]
    return pa.array(numbers, type=pa.int64())


# --- XLSX ----------------------------------------------------------------------------------


# What reading one workbook may take, on top of the reader process itself: a sheet of a
# million rows by twenty columns fits; a dimension bomb does not.
XLSX_MEMORY_BYTES = 4 << 30
XLSX_SECONDS = 30 * 60  # CPU seconds for one workbook
XLSX_BROKEN = "XLSX 文件无法读取：工作表的单元格范围过大或文件已损坏（读取时超出内存或时间上限）"


@dataclass(frozen=True)
class _Sheet:
    name: str
    header: list[str]
    mapping: dict[int, str]
    table: pa.Table


def _read_xlsx(con: Connection, feed: FeedFile, result: ReadResult) -> None:
    for sheet in _sheets_apart(feed.path, feed.source):
        _register_block(
            con,
            feed,
            sheet=sheet.name,
            table=sheet.table,
            header=sheet.header,
            mapping=sheet.mapping,
            result=result,
        )


def _sheets_apart(path: Path, source: Source) -> list[_Sheet]:
    """The workbook's data sheets, read in a child process with capped memory and time.

    The XLSX reader (calamine) allocates one slot for every cell from A1 to the farthest
    cell holding a value, and aborts the whole process when the allocation fails: a file of
    a few KB with one value in XFD1048576 asks for 512 GB. In the child such a file (or a
    shared-strings bomb) ends the child only, and the file is refused.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])  # children start with this module loaded
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_sheets_child, args=(sender, str(path), source.name), daemon=True
    )
    child.start()
    sender.close()
    outcome: list[_Sheet] | str | None = None
    try:
        if receiver.poll(XLSX_SECONDS + 60):
            outcome = receiver.recv()
    except EOFError:
        outcome = None  # the child ended without an answer (out of memory, crashed)
    finally:
        receiver.close()
        child.join(timeout=10)
        if child.is_alive():
            child.kill()
            child.join()
    if outcome is None:
        raise FeedError(XLSX_BROKEN)
    if isinstance(outcome, str):
        raise FeedError(outcome)
    return outcome


def _sheets_child(sender: Connection_, path: str, source_name: str) -> None:
    """In the child: cap memory and CPU time, read the workbook, send its sheets back (or
    the Chinese reason it cannot be read)."""
    _cap_resources()
    outcome: list[_Sheet] | str
    try:
        outcome = workbook_sheets(Path(path), SOURCES_BY_NAME[source_name])
    except FeedError as exc:
        outcome = str(exc)
    sender.send(outcome)
    sender.close()


def _cap_resources() -> None:
    os.environ["RUST_BACKTRACE"] = "0"  # a failed allocation says so in one line, no trace
    try:
        pages = Path("/proc/self/statm").read_text(encoding="ascii").split()[0]
        own = int(pages) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return  # not Linux: no cap
    for limit, soft in (
        (resource.RLIMIT_AS, own + XLSX_MEMORY_BYTES),
        (resource.RLIMIT_CPU, XLSX_SECONDS),
    ):
        _, hard = resource.getrlimit(limit)
        capped = soft if hard == resource.RLIM_INFINITY else min(soft, hard)
        resource.setrlimit(limit, (capped, hard))


def workbook_sheets(path: Path, source: Source) -> list[_Sheet]:
    """Every sheet of the workbook whose header row matches ``source`` (run it in a process
    that may die: see ``_sheets_apart``)."""
    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except PasswordError:
        raise FeedError("XLSX 文件设有密码，请取消密码保护后重新导出") from None
    except (CalamineError, OSError, ValueError) as exc:
        raise FeedError(f"无法作为 XLSX 文件打开（{type(exc).__name__}）") from None
    sheets: list[_Sheet] = []
    for sheet_name in workbook.sheet_names:
        try:
            rows = workbook.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
        except (CalamineError, OSError, ValueError) as exc:
            # A sheet that cannot be read may hold data: refuse the file rather than skip it.
            raise FeedError(
                f"工作表“{sheet_name}”无法读取（{type(exc).__name__}），文件可能已损坏"
            ) from None
        found = _find_header(rows, source)
        if found is None:
            continue  # notes, instructions: not this source's data
        header_index, mapping = found
        header = [_cell_text(cell) or "" for cell in rows[header_index]]
        table = without_nul(_sheet_table(rows[header_index + 1 :], len(header)))
        sheets.append(_Sheet(sheet_name, header, mapping, table))
    if not sheets:
        raise FeedError(f"没有任何工作表的表头与数据来源 {source.name} 的列相符")
    return sheets


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
    cells = [cell.replace("\x00", "") for cell in header] + [""] * (width - len(header))
    return [cell.strip() or f"第{index}列" for index, cell in enumerate(cells, start=1)]
