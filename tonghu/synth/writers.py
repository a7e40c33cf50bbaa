"""Streaming writers: CSV in UTF-8 (with or without BOM) or GB18030, and XLSX through
openpyxl's write-only mode, made byte-reproducible afterwards (fixed zip timestamps and
document properties)."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import IO, Protocol

from openpyxl import Workbook
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

Cell = str | date | int | None

FIXED_ZIP_TIME = (2025, 1, 1, 0, 0, 0)
FIXED_DOC_TIME = "2025-01-01T00:00:00Z"
_CORE_TIMES = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


class Table(Protocol):
    def append(self, cells: Sequence[Cell]) -> None: ...


class CsvTable:
    """One CSV file, written row by row."""

    def __init__(self, path: Path, *, encoding: str, newline: str) -> None:
        self._handle: IO[str] = path.open("w", encoding=encoding, newline="")
        self._writer = csv.writer(self._handle, lineterminator=newline)

    def append(self, cells: Sequence[Cell]) -> None:
        self._writer.writerow(["" if cell is None else cell for cell in cells])

    def close(self) -> None:
        self._handle.close()


class XlsxBook:
    """One workbook with named sheets, streamed with openpyxl's write-only mode."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._book = Workbook(write_only=True)
        self._sheets: dict[str, XlsxSheet] = {}

    def sheet(self, title: str) -> XlsxSheet:
        if title not in self._sheets:
            self._sheets[title] = XlsxSheet(self._book.create_sheet(title=title))
        return self._sheets[title]

    def close(self) -> None:
        properties = self._book.properties
        properties.creator = "tonghu synth"
        properties.created = datetime(2025, 1, 1)  # noqa: DTZ001 - XLSX core times are naive UTC
        self._book.save(self.path)
        make_reproducible(self.path)


class XlsxSheet:
    def __init__(self, worksheet: WriteOnlyWorksheet) -> None:
        self._worksheet = worksheet

    def append(self, cells: Sequence[Cell]) -> None:
        self._worksheet.append(list(cells))


def make_reproducible(path: Path) -> None:
    """Rewrite a zip (XLSX) with fixed entry timestamps and fixed document times, so that the
    same content always gives the same bytes (openpyxl stamps the save time into both)."""
    with zipfile.ZipFile(path) as source:
        entries = [(info.filename, source.read(info.filename)) for info in source.infolist()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for name, data in entries:
            content = data
            if name == "docProps/core.xml":
                content = _CORE_TIMES.sub(
                    lambda m: m.group(1) + FIXED_DOC_TIME.encode() + m.group(3), data
                )
            info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            target.writestr(info, content)
    path.write_bytes(buffer.getvalue())
