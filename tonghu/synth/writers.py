"""Streaming writers: CSV in UTF-8 (with or without BOM) or GB18030, and XLSX.

XLSX is written directly as SpreadsheetML (inline strings, one date style) rather than with
openpyxl, whose cell-by-cell writer is about twenty times slower. Rows stream to fragment
files that are zipped at the end with fixed timestamps and document times, so the same rows
always give the same bytes. The tests read every workbook back with openpyxl.
"""

from __future__ import annotations

import csv
import io
import shutil
import zipfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import IO, Protocol
from xml.sax.saxutils import escape

Cell = str | date | int | None

FIXED_ZIP_TIME = (2025, 1, 1, 0, 0, 0)
FIXED_DOC_TIME = "2025-01-01T00:00:00Z"
EXCEL_EPOCH_ORDINAL = date(1899, 12, 30).toordinal()
DATE_STYLE = 1  # index into cellXfs below: numFmt 14 (a date)
COPY_CHUNK = 1 << 20
_ESCAPES = {'"': "&quot;"}


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


class XlsxRows:
    """Rows of one worksheet streamed as SpreadsheetML ``<row>`` elements to a fragment file.

    Rows and cells carry no ``r`` references (they are optional), and empty cells are written
    as ``<c/>``, so that fragments of several writers can simply be concatenated."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[str] = path.open("w", encoding="utf-8")

    def append(self, cells: Sequence[Cell]) -> None:
        self._handle.write(xlsx_row(cells))

    def close(self) -> None:
        self._handle.close()


def xlsx_row(cells: Sequence[Cell]) -> str:
    parts = ["<row>"]
    for cell in cells:
        if cell is None or cell == "":
            parts.append("<c/>")
        elif isinstance(cell, str):
            space = ' xml:space="preserve"' if cell != cell.strip() else ""
            parts.append(f'<c t="inlineStr"><is><t{space}>{escape(cell)}</t></is></c>')
        elif isinstance(cell, date):
            serial = cell.toordinal() - EXCEL_EPOCH_ORDINAL
            parts.append(f'<c s="{DATE_STYLE}"><v>{serial}</v></c>')
        else:
            parts.append(f"<c><v>{cell}</v></c>")
    parts.append("</row>")
    return "".join(parts)


def write_xlsx(path: Path, sheets: Sequence[tuple[str, Sequence[Cell], Sequence[Path]]]) -> None:
    """Assemble a workbook from (title, header row, row fragment files) per sheet, in order."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in _package_parts([title for title, _, _ in sheets]):
            _add(archive, name, text.encode("utf-8"))
        for number, (_, header, fragments) in enumerate(sheets, start=1):
            with archive.open(_info(f"xl/worksheets/sheet{number}.xml"), "w") as target:
                target.write(_SHEET_HEAD.encode("utf-8"))
                if header:
                    target.write(xlsx_row(header).encode("utf-8"))
                for fragment in fragments:
                    with fragment.open("rb") as source:
                        shutil.copyfileobj(source, target, COPY_CHUNK)
                target.write(_SHEET_TAIL.encode("utf-8"))


def write_csv(
    path: Path, *, encoding: str, newline: str, header: Sequence[str], bodies: Sequence[Path]
) -> None:
    """Assemble a CSV file from its header and body files already in ``encoding`` (a BOM,
    for ``utf-8-sig``, is written once at the start)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=newline).writerow(header)
    with path.open("wb") as target:
        target.write(buffer.getvalue().encode(encoding))
        for body in bodies:
            with body.open("rb") as source:
                shutil.copyfileobj(source, target, COPY_CHUNK)


_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_SHEET_TAIL = "</sheetData></worksheet>"


def _info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o600 << 16
    return info


def _add(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    archive.writestr(_info(name), data)


def _package_parts(titles: list[str]) -> list[tuple[str, str]]:
    """Every part of the package except the worksheets themselves."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    package_rel = "http://schemas.openxmlformats.org/package/2006/relationships"
    head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for n in range(1, len(titles) + 1)
    )
    content_types = (
        head + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '<Override PartName="/docProps/core.xml" ContentType="application/'
        'vnd.openxmlformats-package.core-properties+xml"/>'
        '<Override PartName="/docProps/app.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.extended-properties+xml"/>'
        f"{overrides}</Types>"
    )
    root_rels = (
        head + f'<Relationships xmlns="{package_rel}">'
        f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
        'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
        f'<Relationship Id="rId3" Type="{rel}/extended-properties" Target="docProps/app.xml"/>'
        "</Relationships>"
    )
    sheets = "".join(
        f'<sheet name="{escape(title, _ESCAPES)}" sheetId="{n}" r:id="rId{n}"/>'
        for n, title in enumerate(titles, start=1)
    )
    workbook = (
        head + f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>{sheets}</sheets></workbook>'
    )
    sheet_rels = "".join(
        f'<Relationship Id="rId{n}" Type="{rel}/worksheet" Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, len(titles) + 1)
    )
    styles_rel = len(titles) + 1
    workbook_rels = (
        head + f'<Relationships xmlns="{package_rel}">{sheet_rels}'
        f'<Relationship Id="rId{styles_rel}" Type="{rel}/styles" Target="styles.xml"/>'
        "</Relationships>"
    )
    styles = (
        head + f'<styleSheet xmlns="{main}">'
        '<fonts count="1"><font><sz val="11"/><name val="等线"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1">'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        "</cellXfs>"
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )
    core = (
        head + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
        'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<dc:creator>tonghu synth</dc:creator>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{FIXED_DOC_TIME}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{FIXED_DOC_TIME}</dcterms:modified>'
        "</cp:coreProperties>"
    )
    app = (
        head + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
        'extended-properties"><Application>Microsoft Excel</Application></Properties>'
    )
    return [
        ("[Content_Types].xml", content_types),
        ("_rels/.rels", root_rels),
        ("docProps/app.xml", app),
        ("docProps/core.xml", core),
        ("xl/workbook.xml", workbook),
        ("xl/_rels/workbook.xml.rels", workbook_rels),
        ("xl/styles.xml", styles),
    ]
