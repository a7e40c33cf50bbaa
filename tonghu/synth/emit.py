"""Writing children's rows into the feed files and the truth folder, row by row.

Besides each clean record's row, a small share of records yield extra rows that real exports
contain: an identical repeated row (ignored by a round), a row with the same key and different
content (rejected as ``duplicate_key``), and copies with no name or no usable identity
(rejected as ``missing_name`` / ``missing_identity``). The first eligible records of every
source always get one of each, so that even a small county has every case.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import IO, Protocol

from tonghu.synth import ids
from tonghu.synth.columns import Column, Kind, Source
from tonghu.synth.draws import Dice
from tonghu.synth.layout import EXTRA_VALUES, PLANS, XLSX_ROW_CAP, Part, SourcePlan
from tonghu.synth.model import Child, Record, Value
from tonghu.synth.noise import Cell, FileStyle, NoiseLog, Noiser, Renderer
from tonghu.synth.people import PHONE_PREFIXES
from tonghu.synth.records import Keys
from tonghu.synth.truth import Truth
from tonghu.synth.writers import CsvTable, XlsxRows

MISSING_NAME = "missing_name"
MISSING_IDENTITY = "missing_identity"
DUPLICATE_KEY = "duplicate_key"
EXTRA_KINDS = ("repeat", DUPLICATE_KEY, MISSING_NAME, MISSING_IDENTITY, "both")
# Cumulative chances per record of each extra row kind, in EXTRA_KINDS order.
EXTRA_THRESHOLDS = (0.004, 0.007, 0.0085, 0.010, 0.0103)
BIRTH_PLACEHOLDERS = ("不详", "待补录", "")
OVERFLOW_STYLE = FileStyle(date_format="iso", date_mix=0.08)
CHILDREN_COLUMNS = (
    "true_child_id", "name", "sex", "birth_date", "id_number", "hukou_code", "residence_code",
    "residence_since", "is_migrant", "is_left_behind", "key_care", "difficulty", "dropout_risk",
    "is_resident", "scenario",
)  # fmt: skip
RECORDS_COLUMNS = (
    "source", "record_key", "true_child_id", "expected_reject", "identical_repeat", "file",
    "sheet", "row",
)  # fmt: skip
NOISE_COLUMNS = ("source", "file", "sheet", "row", "column", "kind")
# What a duplicate key with different content changes (a column of each source).
MUTATED_COLUMN = {
    "police_residence": "联系电话", "edu_migrant": "家长电话", "health_child": "联系电话",
    "cdc_vaccination": "联系电话", "self_declaration": "监护人电话", "visit_survey": "走访人",
    "civil_status": "起始日期", "disability_cert": "发证日期", "medical_insurance": "参保日期",
}  # fmt: skip


@dataclass
class Counts:
    rows: Counter[str] = field(default_factory=Counter)
    rejects: Counter[str] = field(default_factory=Counter)
    repeats: Counter[str] = field(default_factory=Counter)
    classified: Counter[str] = field(default_factory=Counter)


class RowWriter(Protocol):
    def writerow(self, row: Iterable[object], /) -> object: ...


class _Place:
    """Where one part's rows go in this shard, and the shard-local number of the last row."""

    def __init__(self, table: CsvTable | XlsxRows, part: Part, source: Source) -> None:
        self.file = part.file
        self.sheet = part.sheet
        self.table = table
        self.part = part
        self.columns = part.columns(source)
        self.key_index = [column.name for column in self.columns].index(source.key)
        self.plan: tuple[tuple[Renderer, Column], ...] = ()
        self.rows = 0


@dataclass(frozen=True)
class _Written:
    """A row as written: where, its cells (with extra columns) and its key cell."""

    place: _Place
    row: list[Cell]
    key: str


def body_path(work: Path, file: str, sheet: str = "") -> Path:
    """The shard-local file holding the rows of one feed file (or one workbook sheet)."""
    return work / (f"{file}#{sheet}.rows" if sheet else f"{file}.body")


def overflow_part(part: Part) -> Part:
    """The CSV file that continues a workbook past the row cap (it sorts after the workbook)."""
    return replace(
        part, file=part.file.removesuffix(".xlsx") + "_续.csv", sheet="", style=OVERFLOW_STYLE
    )


class _SourceOutput:
    """All files of one source in this shard: its parts, and an overflow CSV for each full
    workbook. Bodies only: headers are written when the shards are merged."""

    def __init__(self, plan: SourcePlan, work: Path, row_cap: int) -> None:
        self.plan = plan
        self.source = plan.source
        self._work = work
        self._row_cap = row_cap
        self.places: list[_Place] = [self._open(part) for part in plan.parts]
        self.overflow: dict[str, _Place] = {}
        self._book_rows: Counter[str] = Counter()

    def _open(self, part: Part) -> _Place:
        path = body_path(self._work, part.file, part.sheet)
        table: CsvTable | XlsxRows
        if part.is_xlsx:
            table = XlsxRows(path)
        else:
            encoding = "utf-8" if part.encoding == "utf-8-sig" else part.encoding
            table = CsvTable(path, encoding=encoding, newline=part.newline)
        return _Place(table, part, self.source)

    def place(self, index: int) -> _Place:
        """The place for the next row of part ``index``; a workbook past the row cap
        continues in a CSV file of the same source named after it."""
        part = self.plan.parts[index]
        if not part.is_xlsx or self._book_rows[part.file] < self._row_cap:
            self._book_rows[part.file] += 1
            return self.places[index]
        overflow = self.overflow.get(part.file)
        if overflow is None:
            overflow = self.overflow[part.file] = self._open(overflow_part(part))
        return overflow

    def close(self) -> None:
        for place in [*self.places, *self.overflow.values()]:
            place.table.close()


class FeedWriter:
    """Streams one shard's rows of every source and of the truth files; keeps no per-child
    state. ``work`` receives bodies without headers, merged later by ``merge``."""

    def __init__(
        self, *, work: Path, total: int, shards: int, dice: Dice, keys: Keys, as_of: date
    ) -> None:
        self.total = total
        self.dice = dice
        self.keys = keys
        self.as_of = as_of
        self.noiser = Noiser(dice)
        self.counts = Counts()
        self.work = work
        work.mkdir(parents=True, exist_ok=True)
        row_cap = XLSX_ROW_CAP // shards
        self.outputs = {plan.source.name: _SourceOutput(plan, work, row_cap) for plan in PLANS}
        self._forced: Counter[str] = Counter()
        self._truth_handles: list[IO[str]] = []
        self._children = self._truth_csv("children.csv")
        self._truth_csv("services.csv")
        self._services_handle = self._truth_handles[-1]
        self._records = self._truth_csv("records.csv")
        self._noise = self._truth_csv("noise.csv")

    def _truth_csv(self, name: str) -> RowWriter:
        handle = body_path(self.work, f"truth-{name}").open("w", encoding="utf-8", newline="")
        self._truth_handles.append(handle)
        return csv.writer(handle, lineterminator="\n")

    # Children --------------------------------------------------------------------------------
    def child(self, child: Child, truth: Truth) -> None:
        self._truth_row(truth)
        light = bool(child.scenario)
        for record in child.records:
            output = self.outputs[record.source]
            index = self._route(output.plan, child, record)
            written = self._write(output, index, child, record, light=light)
            if record.derive_extras:
                self._extras(output, index, child, record, written)

    def _truth_row(self, truth: Truth) -> None:
        self._children.writerow((
            truth.child_id, truth.name, truth.sex, truth.birth_date.isoformat(), truth.id_number,
            truth.hukou_code, truth.residence_code,
            truth.residence_since.isoformat() if truth.residence_since else "",
            int(truth.is_migrant), int(truth.is_left_behind), ";".join(truth.key_care),
            ";".join(truth.difficulty), truth.dropout_risk, int(truth.is_resident), truth.scenario,
        ))  # fmt: skip
        if truth.services:
            child_id = truth.child_id
            self._services_handle.write("".join(f"{child_id},{code}\n" for code in truth.services))
        counts = self.counts.classified
        counts["children"] += 1
        counts["resident"] += truth.is_resident
        counts["migrant"] += truth.is_migrant
        counts["left_behind"] += truth.is_left_behind
        counts["key_care"] += bool(truth.key_care)
        counts["difficulty"] += bool(truth.difficulty)
        counts["dropout_risk"] += bool(truth.dropout_risk)

    def _route(self, plan: SourcePlan, child: Child, record: Record) -> int:
        parts = len(plan.parts)
        if parts == 1:
            return 0
        if plan.route == "town":
            return 0 if child.family.village.street_town else 1
        if plan.route == "category":
            return 0 if record.values.get("类别") in {"低保", "低保边缘", "特困"} else 1
        return min(parts - 1, (child.ordinal - 1) * parts // self.total)

    def _write(
        self,
        output: _SourceOutput,
        index: int,
        child: Child,
        record: Record,
        *,
        light: bool,
        expected: str = "",
        known_noise: Sequence[tuple[str, str]] = (),
    ) -> _Written:
        """Render and write one row of ``record`` and its truth lines."""
        place = output.place(index)
        if not place.plan:
            place.plan = self.noiser.plan(place.columns)
        cells, noise = self.noiser.render(
            output.source, record, place.plan, place.part.style, light=light
        )
        row = self._with_extra_columns(place.part, cells, place.rows + 1)
        written = _Written(place, row, str(cells[place.key_index]))
        self._append(output, written, child, expected=expected, noise=[*known_noise, *noise])
        return written

    def _append(
        self,
        output: _SourceOutput,
        written: _Written,
        child: Child,
        *,
        expected: str = "",
        noise: Sequence[tuple[str, str]] = (),
        repeat: bool = False,
    ) -> None:
        place = written.place
        place.table.append(written.row)
        place.rows += 1
        name = output.source.name
        self._records.writerow((
            name, written.key, child.child_id, expected, int(repeat), place.file, place.sheet,
            place.rows,
        ))  # fmt: skip
        for column, kind in noise:
            self._noise.writerow((name, place.file, place.sheet, place.rows, column, kind))
        self.counts.rows[name] += 1
        if expected:
            self.counts.rejects[expected] += 1
        if repeat:
            self.counts.repeats[name] += 1

    def _with_extra_columns(self, part: Part, cells: list[Cell], row_number: int) -> list[Cell]:
        if not part.extra:
            return cells
        row = list(cells)
        for position, name in part.extra:
            filler = EXTRA_VALUES.get(name, "")
            value: Cell
            if filler == "row_number":
                value = str(row_number)
            elif isinstance(filler, tuple):
                value = self.dice.pick(filler)
            else:
                value = filler
            row.insert(position, value)
        return row

    # Extra rows --------------------------------------------------------------------------------
    def _extras(
        self, output: _SourceOutput, index: int, child: Child, record: Record, written: _Written
    ) -> None:
        kind = self._extra_kind(output.source.name)
        if kind is None:
            return
        if kind == "repeat":
            # The same row again, in the same file: identical content.
            self._append(output, written, child, repeat=True)
        elif kind == DUPLICATE_KEY:
            # Same key, one value changed; rendered without lossy noise so that the change
            # cannot be erased (a blanked phone on both rows would make them identical).
            changed = _mutated(record, self.dice)
            self._write(output, index, child, changed, light=True, expected=DUPLICATE_KEY)
        else:
            copy, noise = self._unusable_copy(output.source, record, kind)
            expected = {MISSING_NAME: MISSING_NAME, MISSING_IDENTITY: MISSING_IDENTITY}.get(
                kind, f"{MISSING_NAME};{MISSING_IDENTITY}"
            )
            self._write(
                output, index, child, copy, light=False, expected=expected, known_noise=noise
            )

    def _extra_kind(self, source: str) -> str | None:
        forced = self._forced[source]
        if forced < len(EXTRA_KINDS):
            self._forced[source] += 1
            return EXTRA_KINDS[forced]
        roll = self.dice.rng.random()
        for kind, threshold in zip(EXTRA_KINDS, EXTRA_THRESHOLDS, strict=True):
            if roll < threshold:
                return kind
        return None

    def _unusable_copy(self, source: Source, record: Record, kind: str) -> tuple[Record, NoiseLog]:
        """A copy under a new key that lacks a name, a usable identity, or both."""
        values = dict(record.values)
        noise: NoiseLog = []
        if kind in {MISSING_NAME, "both"}:
            for column in source.columns:
                if column.kind is Kind.NAME:
                    values[column.name] = None
        key = self.keys.fresh(record, self.as_of)
        if kind in {MISSING_IDENTITY, "both"}:
            key = self._remove_identity(source, values, key, noise)
        values[source.key] = key
        return Record(source.name, key, values, derive_extras=False), noise

    def _remove_identity(
        self, source: Source, values: dict[str, Value], key: str, noise: NoiseLog
    ) -> str:
        if source.name == "disability_cert":
            # The ID is the key's first 18 characters: a wrong check character leaves none.
            noise.append((source.key, "id_bad_check"))
            return ids.with_wrong_check(key[:18], self.dice.rng) + key[18:]
        for column in source.columns:
            if column.kind is Kind.ID:
                number = values.get(column.name)
                if isinstance(number, str) and number and self.dice.chance(0.5):
                    values[column.name] = ids.with_wrong_check(number, self.dice.rng)
                    noise.append((column.name, "id_bad_check"))
                else:
                    values[column.name] = None
            elif column.kind is Kind.BIRTH:
                values[column.name] = self.dice.pick(BIRTH_PLACEHOLDERS)
        return key

    # Closing -----------------------------------------------------------------------------------
    def close(self) -> dict[tuple[str, str], int]:
        """Finish every body; the rows written per (file, sheet)."""
        rows: dict[tuple[str, str], int] = {}
        for output in self.outputs.values():
            output.close()
            for place in [*output.places, *output.overflow.values()]:
                rows[(place.file, place.sheet)] = place.rows
        for handle in self._truth_handles:
            handle.close()
        return rows


def _mutated(record: Record, dice: Dice) -> Record:
    """The record with one column changed, keeping its key."""
    values = dict(record.values)
    column = MUTATED_COLUMN[record.source]
    current = values.get(column)
    if isinstance(current, date):
        values[column] = current - timedelta(days=dice.between(20, 90))
    elif column == "走访人":
        values[column] = f"{current or ''}、网格员"
    else:
        values[column] = dice.pick(PHONE_PREFIXES) + f"{dice.between(0, 99_999_999):08d}"
    return Record(record.source, record.key, values, derive_extras=False)
