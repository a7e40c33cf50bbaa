"""Hostile feed files never crash intake and never lose an accepted row (issue 10, point 3).

A valid police_residence feed, as CSV and as XLSX, is mutated the way files from the field
go wrong (bytes inserted or cut off, broken encodings, BOMs, NULs, CR line ends, stray
quotes, short and long rows, duplicated headers, 1 MB cells, formula-looking text, bad
dates, 19-digit IDs, emoji, full-width digits; for XLSX corrupt packages, foreign sheets,
formulas, error cells, far-away cells and shared-strings bombs). Whatever the mutation,
``ingest`` either

- takes the file: every row it read is accounted for (accepted + rejected + repeated), the
  number of rows is the file's when the mutation kept the rows apart, and every row the
  mutation did not touch is accepted with exactly the values it had before; or
- refuses the whole file with one short Chinese reason,

and never raises anything else. The last test runs whole rounds with values the database
columns cannot hold as they come (NUL, over-long names and keys, values off a list).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tonghu.pipeline.ingest import IngestResult, NothingToIngestError, ingest
from tonghu.pipeline.read import FeedFile
from tonghu.pipeline.sources import SOURCES_BY_NAME
from tonghu.pipeline.tests.test_values import check_char

POLICE = SOURCES_BY_NAME["police_residence"]
HEADER = [
    "居住证编号", "姓名", "性别", "公民身份号码", "出生日期",
    "户籍地区划代码", "户籍地址", "居住地区划代码", "居住登记日期", "状态",
]  # fmt: skip
KEY, NAME, SEX, ID, BIRTH, HUKOU, ADDRESS, RESIDENCE, SINCE, STATUS = range(len(HEADER))


def _id(first17: str) -> str:
    return first17 + check_char(first17)


BASE = [
    ["J01", "张三", "男", _id("41040220150302013"), "2015-03-02", "410102",
     "河南省郑州市中原区建设路1号", "410402100201", "2020-01-01", "有效"],
    ["J02", "李四", "女", "", "2016-05-06", "", "", "410402100202", "2021/3/4", "有效"],
    ["J03", "阿卜杜·热合曼", "1", _id("41040220120101001"), "", "410402", "", "", "", "注销"],
    ["J04", "王芳之子", "", "", "20240101", "", "平顶山市新华区焦店镇", "", "", ""],
    ["J05", "赵 六", "F", _id("41010220100915002"), "2010年9月15日", "410102001001", "",
     "410402100201", "", "有效"],
    ["J06", "钱七", "男", "", "2013.07.08", "", "", "410402", "2019-09-01", "有效"],
    ["J07", "孙八", "M", _id("41040220170420011"), "2017-04-20", "", "", "", "", ""],
    ["J08", "周九", "2", "", "2011-11-11", "410402", "新华区", "410402100201", "", "有效"],
]  # fmt: skip
KEYS = [row[KEY] for row in BASE]
SETTINGS = settings(
    max_examples=3,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
_INVISIBLE = re.compile(r"[\x00-\x1f\x7f\u200b-\u200f\u2028\u2029\u2060\ufeff]")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_NOT_COMPARED = {"file", "sheet", "row", "raw"}  # where a row sits, and its cells as they came
Draw = Callable[[st.SearchStrategy[Any]], Any]  # hypothesis' draw, in a test or a strategy


def _as_key(text: str) -> str:
    """What a cell could become as a record key (full width folded, invisibles dropped)."""
    return unicodedata.normalize("NFKC", _INVISIBLE.sub(" ", text)).strip()


# --- running intake ------------------------------------------------------------------------


@dataclass
class Outcome:
    refused: str | None = None  # the reason the whole file was refused
    result: IngestResult | None = None
    records: dict[str, dict[str, Any]] = field(default_factory=dict)  # by record key
    rejected: int = 0


def _ingest(name: str, content: bytes, divisions: pa.Table) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="hostile-") as work:
        path = Path(work) / name
        path.write_bytes(content)
        try:
            result = ingest(
                [FeedFile(path, POLICE)], divisions=divisions, out_dir=Path(work) / "out"
            )
        except NothingToIngestError as refused:
            return Outcome(refused="；".join(item.reason for item in refused.skipped))
        relation = duckdb.sql(f"SELECT * FROM read_parquet('{result.records}')")
        assert relation is not None
        records = relation.to_arrow_table()
        (rejected,) = duckdb.execute(
            f"SELECT count(*) FROM read_parquet('{result.rejects}')"
        ).fetchall()[0]
    found: dict[str, dict[str, Any]] = {}
    for record in records.to_pylist():
        values = {k: v for k, v in record.items() if k not in _NOT_COMPARED}
        assert values["record_key"] not in found, "one accepted row per key"
        found[values["record_key"]] = values
    return Outcome(result=result, records=found, rejected=int(rejected))


def _check(outcome: Outcome, baseline: dict[str, dict[str, Any]], change: Change) -> None:
    if outcome.refused is not None:
        assert change.may_refuse, f"refused a file that should be read: {outcome.refused}"
        reason = outcome.refused
        assert _CJK.search(reason), reason
        assert "\n" not in reason, reason
        assert "Error:" not in reason, reason  # no engine message leaks through
        assert len(reason) < 200, reason
        return
    result = outcome.result
    assert result is not None
    for part in result.parts:
        assert part.read == part.accepted + part.rejected_rows + part.repeated, part
    assert result.rejected == outcome.rejected
    assert result.accepted == len(outcome.records)
    if change.rows is not None:
        assert result.read == change.rows, (result.read, change.rows)
    if not change.strong:
        return
    for index, key in enumerate(KEYS):
        if index in change.touched or index in change.removed:
            continue
        assert outcome.records.get(key) == baseline[key], f"row {index + 1} ({key}) changed"


# --- CSV -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """A mutated feed: its file content and what the mutation may have done to the rows."""

    content: bytes
    name: str = "police_residence.csv"
    touched: frozenset[int] = frozenset()  # base rows whose values may differ
    removed: frozenset[int] = frozenset()  # base rows no longer in the file
    rows: int | None = len(BASE)  # data rows in the file, when the mutation keeps them apart
    may_refuse: bool = False  # whether refusing the whole file is a right answer
    strong: bool = True  # whether untouched rows must come out unchanged
    kind: str = ""  # the mutation, for hypothesis' statistics


@dataclass
class CsvFeed:
    header: list[str] = field(default_factory=lambda: list(HEADER))
    rows: list[tuple[int | None, list[str]]] = field(
        default_factory=lambda: [(index, list(row)) for index, row in enumerate(BASE)]
    )
    raw: dict[int, str] = field(default_factory=dict)  # row position -> line as written
    encoding: str = "utf-8"
    newlines: list[str] | None = None  # one per line (header first); "\n" for all if None
    blank_after: set[int] = field(default_factory=set)
    final_newline: bool = True

    def build(self) -> tuple[bytes, list[tuple[int | None, int, int]]]:
        """The file's bytes, and each data row's base index and byte span (line end incl.)."""
        lines = [_csv_line(self.header)] + [
            self.raw.get(position, _csv_line(cells))
            for position, (_, cells) in enumerate(self.rows)
        ]
        newlines = self.newlines or ["\n"] * len(lines)
        out = bytearray()
        spans: list[tuple[int | None, int, int]] = []
        bom = self.encoding == "utf-8-sig"
        encoding = "utf-8" if bom else self.encoding
        if bom:
            out += b"\xef\xbb\xbf"
        for position, line in enumerate(lines):
            start = len(out)
            last = position == len(lines) - 1
            end = "" if last and not self.final_newline else newlines[position]
            out += (line + end).encode(encoding)
            if position > 0:
                spans.append((self.rows[position - 1][0], start, len(out)))
            if position - 1 in self.blank_after:
                out += newlines[position].encode(encoding)
        return bytes(out), spans

    def change(self, **kwargs: Any) -> Change:
        return Change(self.build()[0], **kwargs)


def _csv_line(cells: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)  # quotes cells holding CR or LF
    return buffer.getvalue().removesuffix("\r\n")


HOSTILE_TEXT = [
    "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1:A9)", '=HYPERLINK("http://x","点我")',
    "＝1+1", "😀👨‍👩‍👧", "２０１５－０３－０２", "４１０４０２", "张\x00三", "\ufeff张三",
    "张\u200b三",
    "a\x01b\x1bc", "行\u2028分隔", "2015-02-30", "99999999", "2015年13月1日", "不详",
    "4104022015030201312", "41040220150302013X", "x" * (1 << 20), " ", "\t", '"', '""',
    "'", "\\", "\r", "\n", "a,b", '"quoted"', "NULL", "Ｊ０１", "j01 ", "０",
]  # fmt: skip
cell_text = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=40))


def _row(draw: Draw) -> int:
    row: int = draw(st.integers(0, len(BASE) - 1))
    return row


def _text_for(column: int, text: str) -> str:
    """``text`` for a cell of ``column``; in the key column never another row's key (that
    row would become a duplicate)."""
    return "X" + text if column == KEY and _as_key(text) in KEYS else text


def _csv_cells(draw: Draw, count: int) -> Change:
    feed, row = CsvFeed(), _row(draw)
    for _ in range(count):
        column = draw(st.integers(0, len(HEADER) - 1))
        feed.rows[row][1][column] = _text_for(column, draw(cell_text))
    feed.encoding = draw(st.sampled_from(["utf-8", "gb18030"]))
    return feed.change(touched=frozenset({row}))


def _csv_extra_cells(draw: Draw) -> Change:
    feed, row = CsvFeed(), _row(draw)
    feed.rows[row][1].extend(draw(st.lists(cell_text, min_size=1, max_size=5)))
    return feed.change(touched=frozenset({row}))


def _csv_short_row(draw: Draw) -> Change:
    feed, row = CsvFeed(), _row(draw)
    del feed.rows[row][1][draw(st.integers(1, len(HEADER) - 1)) :]
    return feed.change(touched=frozenset({row}))


def _csv_quote(draw: Draw, *, open_: bool) -> Change:
    """A quote written as is (not escaped): at a cell's start it opens a quoted cell that
    never closes; inside a cell it is a plain character."""
    feed, row = CsvFeed(), _row(draw)
    cells = list(feed.rows[row][1])
    column = draw(st.integers(0, len(HEADER) - 1))
    at = 0 if open_ else draw(st.integers(1, max(1, len(cells[column]))))
    cells[column] = cells[column][:at] + '"' + cells[column][at:]
    feed.raw[row] = ",".join(cells)
    return feed.change(touched=frozenset({row}))


def _csv_drop_row(draw: Draw) -> Change:
    feed, row = CsvFeed(), _row(draw)
    del feed.rows[row]
    return feed.change(removed=frozenset({row}), rows=len(BASE) - 1)


def _csv_repeat_row(draw: Draw) -> Change:
    feed, row = CsvFeed(), _row(draw)
    feed.rows.insert(row + 1, (None, list(feed.rows[row][1])))
    return feed.change(rows=len(BASE) + 1)


def _csv_encoding(encoding: str, *, second_bom: bool = False) -> Change:
    feed = CsvFeed(encoding=encoding)
    if second_bom:
        feed.header[0] = "\ufeff" + feed.header[0]
    return feed.change()


def _csv_newlines(draw: Draw, newline: str | None) -> Change:
    lines = len(BASE) + 1
    chosen = [newline] * lines if newline else draw(
        st.lists(st.sampled_from(["\n", "\r\n", "\r"]), min_size=lines, max_size=lines)
    )  # fmt: skip
    return CsvFeed(newlines=chosen).change()


def _csv_blank_lines(draw: Draw) -> Change:
    blank = set(draw(st.lists(st.integers(-1, len(BASE) - 1), max_size=4)))
    return CsvFeed(blank_after=blank).change()


def _csv_dup_header(draw: Draw) -> Change:
    feed = CsvFeed()
    feed.header.append(HEADER[draw(st.integers(0, len(HEADER) - 1))])
    for _, cells in feed.rows:
        cells.append(draw(cell_text))
    return feed.change()


def _csv_header_noise(draw: Draw) -> Change:
    feed = CsvFeed()
    column = draw(st.integers(0, len(HEADER) - 1))
    noise = draw(st.sampled_from(["* {}", "{}（必填）", " {} ", "{}(YYYY-MM-DD)", "\u3000{}"]))
    feed.header[column] = noise.format(feed.header[column])
    return feed.change()


def _csv_insert_bytes(draw: Draw) -> Change:
    """Bytes put anywhere. Printable ones inside a data row (not between CR and LF) touch
    that row only; anything else may change the rows or the encoding."""
    content, spans = CsvFeed().build()
    at = draw(st.integers(0, len(content)))
    inserted = draw(st.binary(min_size=1, max_size=8))
    printable = all(0x21 <= byte <= 0x7E and byte not in b'",' for byte in inserted)
    hit = [index for index, start, end in spans if start < at < end]
    kept_apart = printable and bool(hit) and content[at - 1 : at + 1] != b"\r\n"
    return Change(
        content[:at] + inserted + content[at:],
        touched=frozenset(i for i in hit if i is not None),
        may_refuse=True,
        rows=len(BASE) if kept_apart else None,
        strong=kept_apart,
    )


def _csv_truncate(draw: Draw) -> Change:
    """The file cut off anywhere: the rows before the cut stay, the cut one is touched."""
    content, spans = CsvFeed(encoding=draw(st.sampled_from(["utf-8", "gb18030"]))).build()
    at = draw(st.integers(0, len(content) - 1))
    return Change(
        content[:at],
        touched=frozenset(i for i, start, end in spans if start < at < end and i is not None),
        removed=frozenset(i for i, start, _ in spans if start >= at and i is not None),
        rows=sum(1 for _, start, _ in spans if start < at),
        may_refuse=True,
    )


def _csv_bad_gb18030(draw: Draw) -> Change:
    content, _ = CsvFeed(encoding="gb18030").build()
    at = draw(st.integers(0, len(content)))
    return Change(content[:at] + b"\x81\x20" + content[at:], may_refuse=True, strong=False)


def _csv_flip_bytes(draw: Draw) -> Change:
    flipped = bytearray(CsvFeed().build()[0])
    for at in draw(st.lists(st.integers(0, len(flipped) - 1), min_size=1, max_size=4)):
        flipped[at] ^= draw(st.integers(1, 255))
    return Change(bytes(flipped), may_refuse=True, rows=None, strong=False)


CSV_MUTATIONS: dict[str, Callable[[Draw], Change]] = {
    "cell": lambda draw: _csv_cells(draw, 1),
    "cells": lambda draw: _csv_cells(draw, draw(st.integers(2, 4))),
    "extra_cells": _csv_extra_cells,
    "short_row": _csv_short_row,
    "open_quote": lambda draw: _csv_quote(draw, open_=True),
    "inner_quote": lambda draw: _csv_quote(draw, open_=False),
    "drop_row": _csv_drop_row,
    "repeat_row": _csv_repeat_row,
    "bom": lambda _: _csv_encoding("utf-8-sig"),
    "double_bom": lambda _: _csv_encoding("utf-8-sig", second_bom=True),
    "gb18030": lambda _: _csv_encoding("gb18030"),
    "cr": lambda draw: _csv_newlines(draw, "\r"),
    "crlf": lambda draw: _csv_newlines(draw, "\r\n"),
    "mixed_newlines": lambda draw: _csv_newlines(draw, None),
    "blank_lines": _csv_blank_lines,
    "no_final_newline": lambda _: CsvFeed(final_newline=False).change(),
    "dup_header": _csv_dup_header,
    "header_noise": _csv_header_noise,
    "insert_bytes": _csv_insert_bytes,
    "truncate": _csv_truncate,
    "bad_gb18030": _csv_bad_gb18030,
    "flip_bytes": _csv_flip_bytes,
}


# Examples per mutation: the ones that draw random text or bytes get more.
CSV_EXAMPLES = {"cell": 8, "cells": 6, "insert_bytes": 6, "truncate": 6, "flip_bytes": 4}
XLSX_EXAMPLES = {"cell": 6, "xml_cell": 4, "typed_cell": 4, "formula": 4, "truncate": 6,
                 "flip_bytes": 6}  # fmt: skip


def _each(mutations: dict[str, Callable[..., Change]], examples: dict[str, int]) -> list[Any]:
    return [pytest.param(kind, examples.get(kind, 2), id=kind) for kind in sorted(mutations)]


@pytest.fixture(scope="module")
def baseline_csv(divisions: pa.Table) -> dict[str, dict[str, Any]]:
    outcome = _ingest("police_residence.csv", CsvFeed().build()[0], divisions)
    assert sorted(outcome.records) == KEYS, "every base row is accepted"
    return outcome.records


@pytest.mark.parametrize(("kind", "examples"), _each(CSV_MUTATIONS, CSV_EXAMPLES))
def test_a_hostile_csv_is_read_whole_or_refused_whole(
    kind: str, examples: int, baseline_csv: dict[str, dict[str, Any]], divisions: pa.Table
) -> None:
    @settings(SETTINGS, max_examples=examples)
    @given(data=st.data())
    def mutated(data: st.DataObject) -> None:
        change = replace(CSV_MUTATIONS[kind](data.draw), kind=kind)
        outcome = _ingest(change.name, change.content, divisions)
        event("refused" if outcome.refused is not None else "read")
        _check(outcome, baseline_csv, change)

    mutated()


def _unterminated_quote(feed: CsvFeed) -> set[int]:
    feed.raw[2] = 'J03,"阿卜杜,男'
    return {2}


def _mixed_line_ends(feed: CsvFeed) -> set[int]:
    feed.newlines = ["\r\n", "\n"] * 5
    return set()


def _double_bom(feed: CsvFeed) -> set[int]:
    feed.encoding = "utf-8-sig"
    feed.header[0] = "\ufeff" + feed.header[0]
    return set()


def _quoted_newline_and_short_row(feed: CsvFeed) -> set[int]:
    feed.rows[0][1][ADDRESS] = "一\n二"
    del feed.rows[4][1][ADDRESS:]
    return {0, 4}


@pytest.mark.parametrize(
    "make", [_unterminated_quote, _mixed_line_ends, _double_bom, _quoted_newline_and_short_row]
)
def test_known_breakages_keep_every_other_row(
    make: Callable[[CsvFeed], set[int]],
    baseline_csv: dict[str, dict[str, Any]],
    divisions: pa.Table,
) -> None:
    """The cases that lost rows or refused the whole file before (kept as plain tests)."""
    feed = CsvFeed()
    change = feed.change(touched=frozenset(make(feed)))
    _check(_ingest(change.name, change.content, divisions), baseline_csv, change)


def test_an_unterminated_quote_in_a_long_file_costs_one_row(divisions: pa.Table) -> None:
    """DuckDB ends a quote left open at the end of the file: the rows after it come back."""
    header = ",".join(HEADER)
    rows = [f"K{n},儿童{n},男,,2015-01-01,,,,," for n in range(1, 3001)]
    rows[9] = 'K10,"儿童10,男,,2015-01-01,,,,,'
    content = (header + "\n" + "\n".join(rows) + "\n").encode()
    outcome = _ingest("police_residence.csv", content, divisions)
    assert outcome.result is not None
    assert (outcome.result.read, len(outcome.records), outcome.rejected) == (3000, 2999, 1)
    assert "K11" in outcome.records
    assert "K3000" in outcome.records


def test_a_header_cell_past_the_csv_module_limit_is_refused(divisions: pa.Table) -> None:
    content = ('"' + ",".join(HEADER) + "\n" + "x" * 200_000 + "\n").encode()
    outcome = _ingest("police_residence.csv", content, divisions)
    assert outcome.refused == "CSV 表头行无法解析（引号未闭合或单元格过长）"


# --- XLSX ----------------------------------------------------------------------------------

MARK = "⟦{}⟧"  # a cell text replaced in the package's XML after openpyxl wrote it


def _workbook(
    rows: list[tuple[int | None, list[object]]], *, notes: bool, title_rows: int
) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    if notes:
        sheet.title = "填表说明"
        sheet.append(["请按模板填写，带*的列必填"])
        sheet = book.create_sheet("数据")
    else:
        sheet.title = "数据"
    for number in range(title_rows):
        sheet.append([f"某区居住证登记名单（第{number + 1}行标题）"])
    sheet.append(HEADER)
    for _, cells in rows:
        sheet.append(cells)
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # the text itself, not a formula
    return _saved(book)


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _rewrite(
    package: bytes,
    edit: Callable[[str, bytes], bytes | None],
    extra: dict[str, bytes] | None = None,
) -> bytes:
    """The package with each member passed through ``edit`` (None drops the member), and
    ``extra`` members added."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(package)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for member in source.infolist():
            data = edit(member.filename, source.read(member.filename))
            if data is not None:  # a fixed time: the same workbook is the same bytes
                info = zipfile.ZipInfo(member.filename, date_time=(2025, 1, 1, 0, 0, 0))
                target.writestr(info, data, zipfile.ZIP_DEFLATED)
        for name, data in (extra or {}).items():
            info = zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0))
            target.writestr(info, data, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _saved(book: openpyxl.Workbook) -> bytes:
    """The workbook's bytes, the same on every run (openpyxl stamps the time of saving)."""
    buffer = io.BytesIO()
    book.save(buffer)
    stamp = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*")
    return _rewrite(
        buffer.getvalue(), lambda _, data: stamp.sub(rb"\g<1>2025-01-01T00:00:00Z", data)
    )


def _replace_marks(package: bytes, marks: dict[str, str]) -> bytes:
    def edit(_: str, data: bytes) -> bytes:
        for mark, xml in marks.items():
            data = data.replace(MARK.format(mark).encode(), xml.encode())
        return data

    return _rewrite(package, edit)


def _sheet_edit(package: bytes, change: Callable[[bytes], bytes]) -> bytes:
    """Edit the data sheet's XML (the last worksheet)."""
    with zipfile.ZipFile(io.BytesIO(package)) as source:
        sheets = sorted(n for n in source.namelist() if n.startswith("xl/worksheets/sheet"))
    return _rewrite(package, lambda name, data: change(data) if name == sheets[-1] else data)


def _far_cell(ref: str) -> Callable[[bytes], bytes]:
    cell = f'<row r="{re.sub(r"[A-Za-z]+", "", ref)}"><c r="{ref}"><v>1</v></c></row>'
    return lambda data: data.replace(b"</sheetData>", cell.encode() + b"</sheetData>")


XLSX = "police_residence.xlsx"
Rows = list[tuple[int | None, list[object]]]


def _base_rows() -> Rows:
    return [(index, list(row)) for index, row in enumerate(BASE)]


@dataclass
class XlsxFeed:
    """A workbook of the base rows: maybe a notes sheet first, maybe title rows above."""

    notes: bool
    title_rows: int
    rows: Rows = field(default_factory=_base_rows)

    def build(self, rows: Rows | None = None) -> bytes:
        return _workbook(
            self.rows if rows is None else rows, notes=self.notes, title_rows=self.title_rows
        )

    def change(self, package: bytes | None = None, **kwargs: Any) -> Change:
        return Change(self.build() if package is None else package, name=XLSX, **kwargs)


def _xlsx_cell(draw: Draw, feed: XlsxFeed) -> Change:
    row, column = _row(draw), draw(st.integers(0, len(HEADER) - 1))
    text = _text_for(column, draw(cell_text))
    feed.rows[row][1][column] = _INVISIBLE.sub("", text)  # openpyxl refuses control characters
    return feed.change(touched=frozenset({row}))


TYPED_VALUES = [
    410402201503020135, 4.1040220150302e17, -1, 0.5, float("inf"), True,
    dt.datetime(2015, 3, 2), dt.date(1899, 12, 31), dt.time(12, 30), 45170,  # noqa: DTZ001
]  # fmt: skip


def _xlsx_typed_cell(draw: Draw, feed: XlsxFeed) -> Change:
    """A number, date, time or boolean where the row has text (an 18-digit ID as a number
    loses its last digits, as it does in Excel)."""
    row, column = _row(draw), draw(st.integers(0, len(HEADER) - 1))
    feed.rows[row][1][column] = draw(st.sampled_from(TYPED_VALUES))
    return feed.change(touched=frozenset({row}))


XML_TEXT = ["张_x0000_三", "_x0001_控制_x001F_", "&#x1F600;", "x" * (1 << 20), "\u200b\ufeff"]


def _xlsx_xml_cell(draw: Draw, feed: XlsxFeed) -> Change:
    """Cell text openpyxl will not write (escaped controls, a 1 MB cell), put in its XML."""
    row, column = _row(draw), draw(st.integers(0, len(HEADER) - 1))
    feed.rows[row][1][column] = MARK.format("x")
    package = _replace_marks(feed.build(), {"x": draw(st.sampled_from(XML_TEXT))})
    return feed.change(package, touched=frozenset({row}))


SENTINEL = 7777.25  # a number put in a cell, whose XML is then rewritten
FORMULAS = [
    ("", "<f>1+1</f>"),  # no cached value: the cell reads as empty
    (' t="str"', '<f>HYPERLINK("http://x","y")</f><v>=cmd|calc</v>'),
    (' t="e"', "<f>cmd|' /C calc'!A0</f><v>#REF!</v>"),
    (' t="e"', "<v>#N/A</v>"),
    (' t="e"', "<v>#DIV/0!</v>"),
    (' t="b"', "<v>1</v>"),
    (' t="d"', "<v>2015-03-02T00:00:00</v>"),
]


def _xlsx_formula(draw: Draw, feed: XlsxFeed) -> Change:
    """A formula (with or without a cached value), an error cell, a boolean or an ISO date
    cell where the row has text."""
    row, column = _row(draw), draw(st.integers(0, len(HEADER) - 1))
    feed.rows[row][1][column] = SENTINEL
    kind, inner = draw(st.sampled_from(FORMULAS))
    cell = re.compile(rb'<c r="([A-Za-z]+[0-9]+)"[^>]*><v>' + str(SENTINEL).encode() + rb"</v></c>")

    def rewrite(data: bytes) -> bytes:
        return cell.sub(
            lambda m: b'<c r="' + m.group(1) + b'"' + f"{kind}>{inner}</c>".encode(), data
        )

    return feed.change(_sheet_edit(feed.build(), rewrite), touched=frozenset({row}))


def _xlsx_drop_row(draw: Draw, feed: XlsxFeed) -> Change:
    row = _row(draw)
    del feed.rows[row]
    return feed.change(removed=frozenset({row}), rows=len(BASE) - 1)


def _xlsx_blank_row(draw: Draw, feed: XlsxFeed) -> Change:
    feed.rows.insert(_row(draw), (None, [None] * len(HEADER)))
    return feed.change()


def _xlsx_split_sheets(draw: Draw, feed: XlsxFeed) -> Change:
    row = _row(draw)
    first = feed.build(feed.rows[:row])
    second = _workbook(feed.rows[row:], notes=False, title_rows=0)
    return feed.change(_two_sheets(first, second))


def _xlsx_far_cell(draw: Draw, feed: XlsxFeed, refs: list[str], *, bomb: bool) -> Change:
    """A value far from the data: an extra row (rows unknown), or a reader bomb."""
    ref = draw(st.sampled_from(refs))
    return feed.change(_sheet_edit(feed.build(), _far_cell(ref)), rows=None, may_refuse=bomb)


def _xlsx_shared_strings_bomb(draw: Draw, feed: XlsxFeed) -> Change:
    """A shared-strings part of 20,000 strings of 1,500 bytes (30 MB, a few KB packed) that
    the row's address cell points into."""
    row = _row(draw)
    feed.rows[row][1][ADDRESS] = SENTINEL
    cell = re.compile(rb'<c r="([A-Za-z]+[0-9]+)"[^>]*><v>' + str(SENTINEL).encode() + rb"</v></c>")
    strings = "".join(f"<si><t>{n:06d}{'填' * 500}</t></si>" for n in range(20_000))
    sst = f'<sst xmlns="{_MAIN}"><si><t>共享地址</t></si>{strings}</sst>'.encode()
    relation = (
        '<Relationship Id="rIdBomb" Target="sharedStrings.xml" Type="http://schemas.'
        'openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/>'
    )
    kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"

    def edit(name: str, data: bytes) -> bytes:
        if name == "xl/_rels/workbook.xml.rels":
            return data.replace(b"</Relationships>", relation.encode() + b"</Relationships>")
        if name == "[Content_Types].xml":
            part = f'<Override PartName="/xl/sharedStrings.xml" ContentType="{kind}"/>'
            return data.replace(b"</Types>", part.encode() + b"</Types>")
        if name.startswith("xl/worksheets/"):
            return cell.sub(lambda m: b'<c r="' + m.group(1) + b'" t="s"><v>0</v></c>', data)
        return data

    package = _rewrite(feed.build(), edit, extra={"xl/sharedStrings.xml": sst})
    return feed.change(package, touched=frozenset({row}), may_refuse=True)


def _xlsx_no_data_sheet(_: Draw, feed: XlsxFeed) -> Change:
    header = list(HEADER)
    header[KEY] = "序号"  # no sheet has a key column
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    return feed.change(_saved(book), may_refuse=True)


def _xlsx_truncate(draw: Draw, feed: XlsxFeed) -> Change:
    package = feed.build()
    return feed.change(package[: draw(st.integers(0, len(package) - 1))], may_refuse=True)


def _xlsx_flip_bytes(draw: Draw, feed: XlsxFeed) -> Change:
    flipped = bytearray(feed.build())
    for at in draw(st.lists(st.integers(0, len(flipped) - 1), min_size=1, max_size=4)):
        flipped[at] ^= draw(st.integers(1, 255))
    return feed.change(bytes(flipped), rows=None, may_refuse=True, strong=False)


def _xlsx_drop_member(draw: Draw, feed: XlsxFeed) -> Change:
    member = draw(st.sampled_from(["xl/workbook.xml", "xl/sharedStrings.xml", "SHEETS"]))

    def drop(name: str, data: bytes) -> bytes | None:
        gone = name == member or (member == "SHEETS" and name.startswith("xl/worksheets/"))
        return None if gone else data

    return feed.change(_rewrite(feed.build(), drop), rows=None, may_refuse=True, strong=False)


def _xlsx_garbage_sheet(draw: Draw, feed: XlsxFeed) -> Change:
    garbage = draw(st.sampled_from([b"\x00\xff garbage", b"<worksheet><sheetData><row>"]))
    package = _sheet_edit(feed.build(), lambda _: garbage)
    return feed.change(package, rows=None, may_refuse=True, strong=False)


def _xlsx_dollar_ref(_: Draw, feed: XlsxFeed) -> Change:
    package = _sheet_edit(feed.build(), lambda data: data.replace(b'r="A', b'r="$A', 1))
    return feed.change(package, rows=None, may_refuse=True, strong=False)


def _xlsx_encrypted_flag(_: Draw, feed: XlsxFeed) -> Change:
    """Every member's general-purpose flag says "encrypted"."""
    raw = bytearray(feed.build())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = raw.find(signature)
        while at >= 0:
            raw[at + offset] |= 0x01
            at = raw.find(signature, at + 4)
    return feed.change(bytes(raw), rows=None, may_refuse=True)


XLSX_MUTATIONS: dict[str, Callable[[Draw, XlsxFeed], Change]] = {
    "cell": _xlsx_cell,
    "typed_cell": _xlsx_typed_cell,
    "xml_cell": _xlsx_xml_cell,
    "formula": _xlsx_formula,
    "drop_row": _xlsx_drop_row,
    "blank_row": _xlsx_blank_row,
    "split_sheets": _xlsx_split_sheets,
    "far_cell": lambda draw, feed: _xlsx_far_cell(
        draw, feed, ["Z1000", "AZ2000", "K30"], bomb=False
    ),
    "dimension_bomb": lambda draw, feed: _xlsx_far_cell(
        draw, feed, ["XFD1048576", "A99999999999", "ZZZZ9", "zz900000"], bomb=True
    ),
    "shared_strings_bomb": _xlsx_shared_strings_bomb,
    "no_data_sheet": _xlsx_no_data_sheet,
    "truncate": _xlsx_truncate,
    "flip_bytes": _xlsx_flip_bytes,
    "drop_member": _xlsx_drop_member,
    "garbage_sheet": _xlsx_garbage_sheet,
    "dollar_ref": _xlsx_dollar_ref,
    "encrypted_flag": _xlsx_encrypted_flag,
}


def _two_sheets(first: bytes, second: bytes) -> bytes:
    """One workbook with the data sheets of two (openpyxl builds it again)."""
    target = openpyxl.load_workbook(io.BytesIO(first))
    extra = openpyxl.load_workbook(io.BytesIO(second))["数据"]
    sheet = target.create_sheet("数据二")
    for values in extra.iter_rows(values_only=True):
        sheet.append(list(values))
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
    return _saved(target)


@pytest.fixture(scope="module")
def baseline_xlsx(divisions: pa.Table) -> dict[str, dict[str, Any]]:
    rows: list[tuple[int | None, list[object]]] = [(i, list(r)) for i, r in enumerate(BASE)]
    package = _workbook(rows, notes=False, title_rows=0)
    outcome = _ingest("police_residence.xlsx", package, divisions)
    assert sorted(outcome.records) == KEYS, "every base row is accepted"
    return outcome.records


@pytest.mark.parametrize(("kind", "examples"), _each(XLSX_MUTATIONS, XLSX_EXAMPLES))
def test_a_hostile_xlsx_is_read_whole_or_refused_whole(
    kind: str, examples: int, baseline_xlsx: dict[str, dict[str, Any]], divisions: pa.Table
) -> None:
    @settings(SETTINGS, max_examples=examples)
    @given(data=st.data())
    def mutated(data: st.DataObject) -> None:
        feed = XlsxFeed(notes=data.draw(st.booleans()), title_rows=data.draw(st.integers(0, 2)))
        change = replace(XLSX_MUTATIONS[kind](data.draw, feed), kind=kind)
        outcome = _ingest(change.name, change.content, divisions)
        event("refused" if outcome.refused is not None else "read")
        _check(outcome, baseline_xlsx, change)

    mutated()


def test_a_value_in_the_last_cell_of_a_sheet_is_refused_not_a_crash(
    baseline_xlsx: dict[str, dict[str, Any]], divisions: pa.Table
) -> None:
    """calamine would allocate 16384 x 1048576 cells and abort the process; the read runs in
    a child process with capped memory, so the file is refused instead."""
    rows: list[tuple[int | None, list[object]]] = [(i, list(r)) for i, r in enumerate(BASE)]
    package = _sheet_edit(_workbook(rows, notes=False, title_rows=0), _far_cell("XFD1048576"))
    outcome = _ingest("police_residence.xlsx", package, divisions)
    assert outcome.refused is not None
    assert "单元格范围过大" in outcome.refused
    # The reader is still there for the next file.
    again = _ingest("police_residence.xlsx", _workbook(rows, notes=False, title_rows=0), divisions)
    assert again.records == baseline_xlsx


# --- whole rounds against the database -----------------------------------------------------


def test_values_the_database_cannot_hold_as_they_come_do_not_break_a_round(
    db: None, synthetic_county: Path, settings: Any, tmp_path: Path
) -> None:
    """A NUL (PostgreSQL text refuses it), a name over Child.name's 50 characters, a key over
    ChildRecord.record_key's 64 and a 学段 off the list (Child.stage holds 4) each failed
    the round's load on PostgreSQL; now the round completes and the values are cleaned,
    rejected or not used."""
    from tonghu.children.models import Child, ChildRecord  # noqa: PLC0415
    from tonghu.divisions.services import divisions_load  # noqa: PLC0415
    from tonghu.rounds.services import round_run  # noqa: PLC0415

    settings.ROUND_STORE_DIR = tmp_path / "rounds"
    divisions_load(path=synthetic_county / "divisions.csv")
    with (synthetic_county / "divisions.csv").open(encoding="utf-8") as stream:
        village = next(row["code"] for row in csv.DictReader(stream) if row["level"] == "village")
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    long_name = "很长的名字" * 12
    long_key = "K" * 70
    # Children in both feeds with the same ID number: the linkage model needs pairs to train.
    twins = [
        (f"孩子{n}", _id(f"410402201{n:01d}0101{n:03d}"), f"201{n}-01-01") for n in range(1, 7)
    ]
    lines = [
        ",".join(HEADER),
        f"Z1,张\x00三\x01,男,,2015-03-02,,河南\x00省\u2028,{village},,有效",
        f"Z2,{long_name},女,,2016-01-01,,,{village},,有效",
        f"{long_key},李四,女,,2016-02-02,,,{village},,有效",
        f"Z4,王五😀,男,,2014-04-04,,,{village},,有效",
        *(
            f"T{n},{name},,{id_},{born},,,{village},,有效"
            for n, (name, id_, born) in enumerate(twins)
        ),
    ]
    (feeds / "police_residence.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    edu = [
        "学籍号,姓名,身份证件号,出生日期,学段,学籍状态,现住址区划代码",
        f"G1,赵六,,2015-05-05,九年一贯制学校,在读,{village}",
        *(
            f"E{n},{name},{id_},{born},小学,在读,{village}"
            for n, (name, id_, born) in enumerate(twins)
        ),
    ]
    (feeds / "edu_migrant.csv").write_text("\n".join(edu) + "\n", encoding="utf-8")
    result = round_run(feeds_dir=feeds, as_of=dt.date(2025, 6, 30), export_dir=tmp_path / "out")
    assert result.counts is not None
    names = set(Child.objects.values_list("name", flat=True))
    assert {"张 三", "李四", "王五😀", "赵六"} <= names or {
        "张三",
        "李四",
        "王五😀",
        "赵六",
    } <= names
    assert long_name not in names
    assert all("\x00" not in name for name in names)
    keys = set(ChildRecord.objects.values_list("record_key", flat=True))
    assert long_key not in keys
    assert any(key.startswith("无编号-") for key in keys)
    assert set(Child.objects.values_list("stage", flat=True)) <= {
        "",
        "学前",
        "小学",
        "初中",
        "高中",
        "中职",
        None,
    }
    with (tmp_path / "out" / "rejects.csv").open(encoding="utf-8", newline="") as stream:
        rejects = [
            (r["file"], r["row"], r["record_key"], r["reason"]) for r in csv.DictReader(stream)
        ]
    assert rejects == [("police_residence.csv", "2", "Z2", "missing_name")]
    shutil.rmtree(tmp_path / "rounds", ignore_errors=True)
