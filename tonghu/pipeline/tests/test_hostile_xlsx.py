"""Hostile XLSX feeds are read whole or refused whole (see hostile.py)."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import openpyxl
import pyarrow as pa
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from tonghu.pipeline.tests.hostile import (
    ADDRESS,
    BASE,
    HEADER,
    INVISIBLE,
    KEY,
    SETTINGS,
    Change,
    Draw,
    any_row,
    baseline,
    cell_text,
    check_outcome,
    each_mutation,
    ingest_feed,
    text_for,
)

XLSX_EXAMPLES = {"cell": 6, "xml_cell": 4, "typed_cell": 4, "formula": 4, "truncate": 6,
                 "flip_bytes": 6}  # fmt: skip


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
    row, column = any_row(draw), draw(st.integers(0, len(HEADER) - 1))
    text = text_for(column, draw(cell_text))
    feed.rows[row][1][column] = INVISIBLE.sub("", text)  # openpyxl refuses control characters
    return feed.change(touched=frozenset({row}))


TYPED_VALUES = [
    410402201503020135, 4.1040220150302e17, -1, 0.5, float("inf"), True,
    dt.datetime(2015, 3, 2), dt.date(1899, 12, 31), dt.time(12, 30), 45170,  # noqa: DTZ001
]  # fmt: skip


def _xlsx_typed_cell(draw: Draw, feed: XlsxFeed) -> Change:
    """A number, date, time or boolean where the row has text (an 18-digit ID as a number
    loses its last digits, as it does in Excel)."""
    row, column = any_row(draw), draw(st.integers(0, len(HEADER) - 1))
    feed.rows[row][1][column] = draw(st.sampled_from(TYPED_VALUES))
    return feed.change(touched=frozenset({row}))


XML_TEXT = ["张_x0000_三", "_x0001_控制_x001F_", "&#x1F600;", "x" * (1 << 20), "\u200b\ufeff"]


def _xlsx_xml_cell(draw: Draw, feed: XlsxFeed) -> Change:
    """Cell text openpyxl will not write (escaped controls, a 1 MB cell), put in its XML."""
    row, column = any_row(draw), draw(st.integers(0, len(HEADER) - 1))
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
    row, column = any_row(draw), draw(st.integers(0, len(HEADER) - 1))
    feed.rows[row][1][column] = SENTINEL
    kind, inner = draw(st.sampled_from(FORMULAS))
    cell = re.compile(rb'<c r="([A-Za-z]+[0-9]+)"[^>]*><v>' + str(SENTINEL).encode() + rb"</v></c>")

    def rewrite(data: bytes) -> bytes:
        return cell.sub(
            lambda m: b'<c r="' + m.group(1) + b'"' + f"{kind}>{inner}</c>".encode(), data
        )

    return feed.change(_sheet_edit(feed.build(), rewrite), touched=frozenset({row}))


def _xlsx_drop_row(draw: Draw, feed: XlsxFeed) -> Change:
    row = any_row(draw)
    del feed.rows[row]
    return feed.change(removed=frozenset({row}), rows=len(BASE) - 1)


def _xlsx_blank_row(draw: Draw, feed: XlsxFeed) -> Change:
    feed.rows.insert(any_row(draw), (None, [None] * len(HEADER)))
    return feed.change()


def _xlsx_split_sheets(draw: Draw, feed: XlsxFeed) -> Change:
    row = any_row(draw)
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
    row = any_row(draw)
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
    return baseline("police_residence.xlsx", package, divisions)


@pytest.mark.parametrize(("kind", "examples"), each_mutation(XLSX_MUTATIONS, XLSX_EXAMPLES))
def test_a_hostile_xlsx_is_read_whole_or_refused_whole(
    kind: str, examples: int, baseline_xlsx: dict[str, dict[str, Any]], divisions: pa.Table
) -> None:
    @settings(SETTINGS, max_examples=examples)
    @given(data=st.data())
    def mutated(data: st.DataObject) -> None:
        feed = XlsxFeed(notes=data.draw(st.booleans()), title_rows=data.draw(st.integers(0, 2)))
        change = replace(XLSX_MUTATIONS[kind](data.draw, feed), kind=kind)
        outcome = ingest_feed(change.name, change.content, divisions)
        event("refused" if outcome.refused is not None else "read")
        check_outcome(outcome, baseline_xlsx, change)

    mutated()


def test_a_value_in_the_last_cell_of_a_sheet_is_refused_not_a_crash(
    baseline_xlsx: dict[str, dict[str, Any]], divisions: pa.Table
) -> None:
    """calamine would allocate 16384 x 1048576 cells and abort the process; the read runs in
    a child process with capped memory, so the file is refused instead."""
    rows: list[tuple[int | None, list[object]]] = [(i, list(r)) for i, r in enumerate(BASE)]
    package = _sheet_edit(_workbook(rows, notes=False, title_rows=0), _far_cell("XFD1048576"))
    outcome = ingest_feed("police_residence.xlsx", package, divisions)
    assert outcome.refused is not None
    assert "单元格范围过大" in outcome.refused
    # The reader is still there for the next file.
    again = ingest_feed(
        "police_residence.xlsx", _workbook(rows, notes=False, title_rows=0), divisions
    )
    assert again.records == baseline_xlsx
