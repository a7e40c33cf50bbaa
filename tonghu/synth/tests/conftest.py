"""One small synthetic county shared by the tests of this package (no database needed)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from tonghu.pipeline.read import match_header, source_for_name
from tonghu.synth import SynthSummary, generate
from tonghu.synth.columns import SOURCE_BY_NAME, Source

AS_OF = date(2025, 6, 30)
CHILDREN = 1200
SEED = 7


@dataclass(frozen=True)
class Sheet:
    """The rows of one CSV file or one XLSX sheet, as strings or cell values."""

    file: str
    sheet: str
    source: Source | None
    header: list[str]
    rows: list[list[object]]

    def canonical_header(self) -> list[str | None]:
        """Each cell's canonical column as the pipeline reads it; all None if the pipeline
        would not take this header (no key or no name column)."""
        if self.source is None:
            return [None for _ in self.header]
        cells = [str(cell or "") for cell in self.header]
        fields = match_header(cells, self.source.contract) or {}
        headers = {column.field: column.name for column in self.source.columns}
        return [headers[fields[i]] if i in fields else None for i in range(len(cells))]

    def column(self, canonical: str) -> int:
        return self.canonical_header().index(canonical)


@dataclass(frozen=True)
class County:
    out_dir: Path
    summary: SynthSummary

    @property
    def feeds(self) -> Path:
        return self.out_dir / "feeds"

    def truth(self, name: str) -> list[dict[str, str]]:
        with (self.out_dir / "truth" / name).open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))

    def sheets(self) -> list[Sheet]:
        found: list[Sheet] = []
        for path in sorted(self.feeds.iterdir()):
            contract = source_for_name(path.name)
            if contract is None:
                continue
            found.extend(read_sheets(path, SOURCE_BY_NAME[contract.name]))
        return found


def read_csv_text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def read_sheets(path: Path, source: Source) -> list[Sheet]:
    if path.suffix == ".csv":
        rows = list(csv.reader(io.StringIO(read_csv_text(path), newline="")))
        return [Sheet(path.name, "", source, rows[0], [list(r) for r in rows[1:]])]
    book = openpyxl.load_workbook(path, read_only=True)
    sheets = []
    for worksheet in book.worksheets:
        values: list[list[object]] = [list(row) for row in worksheet.iter_rows(values_only=True)]
        sheets.append(
            Sheet(path.name, worksheet.title, source, [str(v) for v in values[0]], values[1:])
        )
    book.close()
    return sheets


@pytest.fixture(scope="session")
def county(tmp_path_factory: pytest.TempPathFactory) -> County:
    out_dir = tmp_path_factory.mktemp("synth") / "county"
    summary = generate(out_dir=out_dir, children=CHILDREN, seed=SEED, as_of=AS_OF)
    return County(out_dir, summary)


def intake_mismatches(county: Path, work: Path) -> list[tuple[object, ...]]:
    """Rows that feed intake (tonghu.pipeline) accepts or rejects other than the county's
    truth/records.csv says: (source, file, row, expected reasons, reasons got)."""
    import duckdb  # noqa: PLC0415 - only the tests that ingest pay for these imports

    from tonghu.pipeline.ingest import ingest  # noqa: PLC0415
    from tonghu.pipeline.places import read_division_table  # noqa: PLC0415
    from tonghu.pipeline.read import plan_folder  # noqa: PLC0415

    files, _ = plan_folder(county / "feeds")
    result = ingest(files, divisions=read_division_table(county / "divisions.csv"), out_dir=work)
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE truth AS SELECT * FROM read_csv(?, all_varchar = true)",
        [str(county / "truth" / "records.csv")],
    )
    con.execute(
        """CREATE TABLE got AS
           SELECT file, coalesce(sheet, '') AS sheet, row::VARCHAR AS row, '' AS reasons
           FROM read_parquet($1)
           UNION ALL
           SELECT file, coalesce(sheet, ''), row::VARCHAR, array_to_string(reasons, ';')
           FROM read_parquet($2)""",
        [str(result.records), str(result.rejects)],
    )
    return con.execute(
        """SELECT t.source, t.file, t.row, t.expected_reject, g.reasons
           FROM truth AS t LEFT JOIN got AS g
             ON g.file = t.file AND g.sheet = coalesce(t.sheet, '') AND g.row = t.row
           WHERE t.identical_repeat = '0'
             AND (g.row IS NULL OR g.reasons <> coalesce(t.expected_reject, ''))"""
    ).fetchall()
