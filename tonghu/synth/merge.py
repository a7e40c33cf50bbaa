"""Merging the shards' work folders into the final feed files and truth files.

Feed files: a header, then each shard's body in shard order. Truth lines that name a data row
(records.csv, noise.csv) are renumbered: a shard's row numbers continue where the previous
shards' rows in the same file and sheet ended.
"""

from __future__ import annotations

import csv
import shutil
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from tonghu.synth.columns import SOURCE_BY_NAME
from tonghu.synth.emit import (
    CHILDREN_COLUMNS,
    NOISE_COLUMNS,
    RECORDS_COLUMNS,
    body_path,
    overflow_part,
)
from tonghu.synth.layout import NOTES, PLANS, Part
from tonghu.synth.shard import ShardResult
from tonghu.synth.writers import COPY_CHUNK, write_csv, write_xlsx, xlsx_row

NOTES_SHEET = "填表说明"
ROW_NUMBER_EXTRA = "序号"
TRUTH_FILES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("children.csv", CHILDREN_COLUMNS),
    ("services.csv", ("true_child_id", "service_code")),
)
NUMBERED_TRUTH_FILES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("records.csv", RECORDS_COLUMNS),
    ("noise.csv", NOISE_COLUMNS),
)


def merge(*, out_dir: Path, works: Sequence[Path], results: Sequence[ShardResult]) -> list[str]:
    """Write feeds/ and truth/ from the shards' work folders; the feed files written."""
    feeds = out_dir / "feeds"
    truth = out_dir / "truth"
    feeds.mkdir(parents=True, exist_ok=True)
    truth.mkdir(parents=True, exist_ok=True)
    written = _merge_feeds(feeds, works, results)
    offsets = _row_offsets(results)
    for name, header in TRUTH_FILES:
        bodies = [body_path(work, f"truth-{name}") for work in works]
        write_csv(truth / name, encoding="utf-8", newline="\n", header=header, bodies=bodies)
    for name, header in NUMBERED_TRUTH_FILES:
        _write_numbered(truth / name, header, works, offsets, name)
    return written


def _merge_feeds(feeds: Path, works: Sequence[Path], results: Sequence[ShardResult]) -> list[str]:
    written: list[str] = []
    touched = {key for result in results for key, rows in result.rows.items() if rows}
    for plan in PLANS:
        files: dict[str, list[Part]] = {}
        for part in plan.parts:
            files.setdefault(part.file, []).append(part)
        for file, parts in files.items():
            source = plan.source
            if file.endswith(".xlsx"):
                sheets = [
                    (part.sheet, part.header_row(source), _bodies(works, part)) for part in parts
                ]
                if plan.notes_sheet:
                    sheets.append((NOTES_SHEET, [], [_notes_fragment(works[0])]))
                write_xlsx(feeds / file, [(t, list(h), b) for t, h, b in sheets])
            else:
                _check_row_numbers(parts[0], results)
                _write_part_csv(feeds, parts[0], source.name, works)
            written.append(file)
            overflow = overflow_part(parts[0])
            if (overflow.file, "") in touched:
                _write_part_csv(feeds, overflow, source.name, works)
                written.append(overflow.file)
    return sorted(written)


def _write_part_csv(feeds: Path, part: Part, source: str, works: Sequence[Path]) -> None:
    write_csv(
        feeds / part.file,
        encoding=part.encoding,
        newline=part.newline,
        header=part.header_row(SOURCE_BY_NAME[source]),
        bodies=_bodies(works, part),
    )


def _bodies(works: Sequence[Path], part: Part) -> list[Path]:
    paths = [body_path(work, part.file, part.sheet) for work in works]
    return [path for path in paths if path.exists()]


def _notes_fragment(work: Path) -> Path:
    path = work / "notes.rows"
    path.write_text("".join(xlsx_row(list(line)) for line in NOTES), encoding="utf-8")
    return path


def _check_row_numbers(part: Part, results: Sequence[ShardResult]) -> None:
    """A 序号 column counts rows within one shard: such a file must come from one shard."""
    if not any(name == ROW_NUMBER_EXTRA for _, name in part.extra):
        return
    writers = [r.shard for r in results if r.rows.get((part.file, part.sheet))]
    if len(writers) > 1:
        msg = f"{part.file} has a row-number column but rows from shards {writers}"
        raise RuntimeError(msg)


def _row_offsets(results: Sequence[ShardResult]) -> list[Counter[tuple[str, str]]]:
    """For each shard, the rows the earlier shards wrote to each (file, sheet)."""
    offsets: list[Counter[tuple[str, str]]] = []
    running: Counter[tuple[str, str]] = Counter()
    for result in sorted(results, key=lambda r: r.shard):
        offsets.append(Counter(running))
        running.update(result.rows)
    return offsets


def _write_numbered(
    path: Path,
    header: Sequence[str],
    works: Sequence[Path],
    offsets: Sequence[Counter[tuple[str, str]]],
    name: str,
) -> None:
    file_column, sheet_column, row_column = (header.index(c) for c in ("file", "sheet", "row"))
    with path.open("w", encoding="utf-8", newline="") as target:
        writer = csv.writer(target, lineterminator="\n")
        writer.writerow(header)
        for work, offset in zip(works, offsets, strict=True):
            body = body_path(work, f"truth-{name}")
            if not any(offset.values()):
                target.flush()
                with body.open(encoding="utf-8", newline="") as source:
                    shutil.copyfileobj(source, target, COPY_CHUNK)
                continue
            with body.open(encoding="utf-8", newline="") as source:
                for line in csv.reader(source):
                    shift = offset[(line[file_column], line[sheet_column])]
                    line[row_column] = str(int(line[row_column]) + shift)
                    writer.writerow(line)
