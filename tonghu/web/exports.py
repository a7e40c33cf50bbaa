"""Shared helpers for files people download: XLSX responses with formula injection defused."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from urllib.parse import quote

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# What makes a spreadsheet read a cell as a formula (or a DDE call), half and full width:
# a Chinese input method types ＝＋－＠, and some spreadsheets fold them on entry.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def safe_cell(value: object) -> object:
    """Text that a spreadsheet would run as a formula is prefixed with an apostrophe, and
    control characters that no XLSX cell can hold become U+FFFD; numbers, dates and other
    values are left as they are (a negative number stays a number)."""
    return safe_text(value) if isinstance(value, str) else value


def safe_text(value: str) -> str:
    text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def xlsx_bytes(sheets: Iterable[tuple[str, Sequence[str], Iterable[Sequence[object]]]]) -> bytes:
    """A workbook of (title, header, rows) sheets, header bold, every cell made safe."""
    book = Workbook(write_only=True)
    bold = Font(bold=True)
    for title, header, rows in sheets:
        sheet = book.create_sheet(title)
        sheet.append([_header_cell(sheet, text, bold) for text in header])
        for row in rows:
            sheet.append([safe_cell(value) for value in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _header_cell(sheet: WriteOnlyWorksheet, text: str, font: Font) -> Cell:
    cell = WriteOnlyCell(sheet, value=safe_text(text))
    cell.font = font
    return cell


def xlsx_response(content: bytes, file_name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX_TYPE)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(file_name)}"
    return response
