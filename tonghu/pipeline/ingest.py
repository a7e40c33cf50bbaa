"""Feed intake, the batch side's first half: read → normalise → places → outcome → files.

``ingest`` takes feed files (one upload, or a round's whole folder), the division table and
the record and reject files the round already holds, and writes two Parquet files:
``records.parquet`` (accepted rows: raw content, normalised values, warnings) and
``rejects.parquet`` (rejected rows: raw content and reason codes). It never imports Django.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from tonghu.pipeline.duck import Connection, connect, quote, run
from tonghu.pipeline.normalise import install_macros, normalise_block, wide_schema
from tonghu.pipeline.outcome import ACCEPTED, judge
from tonghu.pipeline.places import resolve_places
from tonghu.pipeline.read import Block, FeedFile, SkippedFile, read_files

RECORDS_FILE = "records.parquet"
REJECTS_FILE = "rejects.parquet"
BLOCKS_FILE = "blocks.parquet"  # each file and sheet with its header (names ``raw``'s cells)


class NothingToIngestError(Exception):
    """None of the files had a readable sheet or table; ``skipped`` says why for each."""

    def __init__(self, skipped: list[SkippedFile]) -> None:
        super().__init__("; ".join(f"{item.name}: {item.reason}" for item in skipped))
        self.skipped = skipped


@dataclass
class PartCount:
    """What became of the rows of one file (and sheet)."""

    source: str
    file: str
    sheet: str
    read: int = 0
    accepted: int = 0
    repeated: int = 0
    rejected_rows: int = 0
    rejected: Counter[str] = field(default_factory=Counter)  # by reason (a row may have two)
    warnings: Counter[str] = field(default_factory=Counter)


@dataclass
class IngestResult:
    records: Path
    rejects: Path
    parts: list[PartCount]
    skipped: list[SkippedFile]
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step

    @property
    def accepted(self) -> int:
        return sum(part.accepted for part in self.parts)

    @property
    def rejected(self) -> int:
        return sum(part.rejected_rows for part in self.parts)

    @property
    def read(self) -> int:
        return sum(part.read for part in self.parts)

    @property
    def warnings(self) -> Counter[str]:
        """Warnings by code over all files."""
        return sum((part.warnings for part in self.parts), Counter[str]())


def ingest(
    files: Sequence[FeedFile],
    *,
    divisions: pa.Table,
    out_dir: Path,
    prior_records: Sequence[Path] = (),
    prior_rejects: Sequence[Path] = (),
    memory_limit: str = "1GB",
    county: str | None = None,
) -> IngestResult:
    """``county``, the round's county if known, is where addresses naming none are read."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tonghu-ingest-") as work:
        con = connect(memory_limit=memory_limit, temp_dir=Path(work))
        try:
            return _ingest(
                con,
                files,
                divisions=divisions,
                out_dir=out_dir,
                work_dir=Path(work),
                prior_records=prior_records,
                prior_rejects=prior_rejects,
                county=county,
            )
        finally:
            con.close()


def _ingest(
    con: Connection,
    files: Sequence[FeedFile],
    *,
    divisions: pa.Table,
    out_dir: Path,
    work_dir: Path,
    prior_records: Sequence[Path],
    prior_rejects: Sequence[Path],
    county: str | None,
) -> IngestResult:
    clock = StepClock()
    install_macros(con)
    with clock.step("read"):
        read = read_files(con, list(files), work_dir=work_dir)
    if not read.blocks:
        raise NothingToIngestError(read.skipped)
    with clock.step("normalise"):
        _normalise(con, read.blocks)
    with clock.step("places"):
        resolve_places(con, divisions=divisions, county=county)
    file_orders: dict[str, int] = {}
    for block in read.blocks:
        file_orders.setdefault(block.file, block.order)
    with clock.step("outcome"):
        judge(
            con,
            unreadable=read.unreadable,
            file_orders=file_orders,
            prior_records=prior_records,
            prior_rejects=prior_rejects,
        )
    records, rejects = out_dir / RECORDS_FILE, out_dir / REJECTS_FILE
    with clock.step("write"):
        _write_parquet(con, ACCEPTED, records)
        _write_parquet(con, "SELECT * FROM rejected", rejects)
        _write_blocks(con, read.blocks, out_dir / BLOCKS_FILE)
    return IngestResult(
        records=records,
        rejects=rejects,
        parts=_count(con, records),
        skipped=read.skipped,
        timings=clock.seconds,
    )


def _normalise(con: Connection, blocks: Sequence[Block]) -> None:
    """One table of typed rows per block, and ``feed_rows``, a view over all of them.

    Each block is kept apart with only its own columns: one wide table of every source's
    columns would be mostly empty, and copying it only to stack the blocks costs more than
    reading through the view.
    """
    wide_schema(con, table="feed_schema")
    tables = ["SELECT * FROM feed_schema"]
    for block in blocks:
        normalise_block(con, block, view=f"normalising_{block.order}")
        table = f"normalised_{block.order}"
        run(con, f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM normalising_{block.order}")
        con.unregister(block.arrow)  # the text cells now live in the table: free the Arrow copy
        tables.append(f"SELECT * FROM {table}")
    run(con, "CREATE OR REPLACE TEMP VIEW feed_rows AS " + " UNION ALL BY NAME ".join(tables))


class StepClock:
    """Wall time of each named step, for summaries and benchmarks."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started


def _write_parquet(con: Connection, select: str, path: Path) -> None:
    run(con, f"COPY ({select}) TO {quote(str(path))} (FORMAT parquet, COMPRESSION zstd)")


def _write_blocks(con: Connection, blocks: Sequence[Block], path: Path) -> None:
    table = pa.table(
        {
            "block_order": [block.order for block in blocks],
            "source": [block.source.name for block in blocks],
            "file": [block.file for block in blocks],
            "sheet": [block.sheet for block in blocks],
            "header": [list(block.header) for block in blocks],
        }
    )
    con.register("blocks_arrow", table)
    _write_parquet(con, "SELECT * FROM blocks_arrow", path)


_COUNTS = {
    "read": "SELECT source, file, sheet, count(*) FROM keyed GROUP BY ALL",
    "unreadable": "SELECT source, file, sheet, count(*) FROM unreadable_rows GROUP BY ALL",
    "accepted": """SELECT source, file, sheet, count(*) FROM keyed
        WHERE outcome = 'accepted' GROUP BY ALL""",
    "rejected_rows": "SELECT source, file, sheet, count(*) FROM rejected GROUP BY ALL",
    "reasons": """SELECT source, file, sheet, reason, count(*)
        FROM (SELECT source, file, sheet, unnest(reasons) AS reason FROM rejected)
        GROUP BY ALL""",
    "warnings": """SELECT source, file, sheet, w.code, count(*)
        FROM (SELECT source, file, sheet, unnest(warnings) AS w FROM read_parquet($1))
        GROUP BY ALL""",
}


def _count(con: Connection, records: Path) -> list[PartCount]:
    """Per file and sheet: rows read, accepted, repeated, rejected by reason, warnings by code."""
    parts: dict[tuple[str, str, str], PartCount] = {}
    found = {
        name: run(con, sql, [str(records)] if "$1" in sql else None).fetchall()
        for name, sql in _COUNTS.items()
    }
    for source, file, sheet, rows in found["read"] + found["unreadable"]:
        parts.setdefault((source, file, sheet), PartCount(source, file, sheet)).read += rows
    for source, file, sheet, rows in found["accepted"]:
        parts[source, file, sheet].accepted = rows
    for source, file, sheet, reason, rows in found["reasons"]:
        parts[source, file, sheet].rejected[reason] = rows
    for source, file, sheet, code, rows in found["warnings"]:
        parts[source, file, sheet].warnings[code] = rows
    for source, file, sheet, rows in found["rejected_rows"]:
        parts[source, file, sheet].rejected_rows = rows
    for part in parts.values():
        part.repeated = part.read - part.accepted - part.rejected_rows
    return sorted(parts.values(), key=lambda part: (part.file, part.sheet))
