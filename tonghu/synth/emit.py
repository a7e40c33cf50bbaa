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
from tonghu.synth.columns import Kind, Source
from tonghu.synth.draws import Dice
from tonghu.synth.layout import EXTRA_VALUES, NOTES, PLANS, XLSX_ROW_CAP, Part, SourcePlan
from tonghu.synth.model import Child, Record, Value
from tonghu.synth.noise import Cell, FileStyle, NoiseLog, Noiser
from tonghu.synth.people import PHONE_PREFIXES
from tonghu.synth.records import Keys
from tonghu.synth.truth import Truth
from tonghu.synth.writers import CsvTable, Table, XlsxBook

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
    """Where one part's rows currently go, and the data-row number of the last one."""

    def __init__(self, file: str, sheet: str, table: Table, part: Part) -> None:
        self.file = file
        self.sheet = sheet
        self.table = table
        self.part = part
        self.rows = 0


class _SourceOutput:
    """All files of one source: its parts, and an overflow CSV for each full workbook."""

    def __init__(
        self, plan: SourcePlan, feeds: Path, books: dict[str, XlsxBook], opened: list[CsvTable]
    ) -> None:
        self.plan = plan
        self.source = plan.source
        self._feeds = feeds
        self._opened = opened
        self._books = books
        self.places: list[_Place] = [self._open(part) for part in plan.parts]
        self._overflow: dict[str, _Place] = {}
        self._book_rows: Counter[str] = Counter()

    def _open(self, part: Part) -> _Place:
        if part.is_xlsx:
            book = self._books.get(part.file)
            if book is None:
                book = self._books[part.file] = XlsxBook(self._feeds / part.file)
            table: Table = book.sheet(part.sheet)
        else:
            csv_table = CsvTable(
                self._feeds / part.file, encoding=part.encoding, newline=part.newline
            )
            self._opened.append(csv_table)
            table = csv_table
        table.append(part.header_row(self.source))
        return _Place(part.file, part.sheet, table, part)

    def place(self, index: int) -> _Place:
        """The place for the next row of part ``index``; a workbook past the row cap
        continues in a CSV file of the same source named after it."""
        part = self.plan.parts[index]
        if not part.is_xlsx or self._book_rows[part.file] < XLSX_ROW_CAP:
            self._book_rows[part.file] += 1
            return self.places[index]
        overflow = self._overflow.get(part.file)
        if overflow is None:
            csv_part = replace(part, file=part.file.removesuffix(".xlsx") + "_续.csv", sheet="",
                               style=OVERFLOW_STYLE)  # fmt: skip
            overflow = self._overflow[part.file] = self._open(csv_part)
        return overflow

    @property
    def files(self) -> list[str]:
        places = [*self.places, *self._overflow.values()]
        return sorted({place.file for place in places})


class FeedWriter:
    """Streams rows of every source and the truth files; holds no per-child state."""

    def __init__(self, *, out_dir: Path, total: int, dice: Dice, keys: Keys, as_of: date) -> None:
        self.total = total
        self.dice = dice
        self.keys = keys
        self.as_of = as_of
        self.noiser = Noiser(dice)
        self.counts = Counts()
        self.feeds = out_dir / "feeds"
        self.truth_dir = out_dir / "truth"
        self.feeds.mkdir(parents=True, exist_ok=True)
        self.truth_dir.mkdir(parents=True, exist_ok=True)
        self._csv_tables: list[CsvTable] = []
        self._books: dict[str, XlsxBook] = {}
        self.outputs = {
            plan.source.name: _SourceOutput(plan, self.feeds, self._books, self._csv_tables)
            for plan in PLANS
        }
        self._forced: Counter[str] = Counter()
        self._truth_handles: list[IO[str]] = []
        self._children = self._truth_csv("children.csv", CHILDREN_COLUMNS)
        self._services = self._truth_csv("services.csv", ("true_child_id", "service_code"))
        self._records = self._truth_csv("records.csv", RECORDS_COLUMNS)
        self._noise = self._truth_csv("noise.csv", NOISE_COLUMNS)

    def _truth_csv(self, name: str, header: tuple[str, ...]) -> RowWriter:
        handle = (self.truth_dir / name).open("w", encoding="utf-8", newline="")
        self._truth_handles.append(handle)
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        return writer

    # Children --------------------------------------------------------------------------------
    def child(self, child: Child, truth: Truth) -> None:
        self._truth_row(truth)
        light = bool(child.scenario)
        for record in child.records:
            output = self.outputs[record.source]
            index = self._route(output.plan, child, record)
            row = self._write(output, index, child, record, light=light)
            if record.derive_extras:
                self._extras(output, index, child, record, row)

    def _truth_row(self, truth: Truth) -> None:
        self._children.writerow((
            truth.child_id, truth.name, truth.sex, truth.birth_date.isoformat(), truth.id_number,
            truth.hukou_code, truth.residence_code,
            truth.residence_since.isoformat() if truth.residence_since else "",
            int(truth.is_migrant), int(truth.is_left_behind), ";".join(truth.key_care),
            ";".join(truth.difficulty), truth.dropout_risk, int(truth.is_resident), truth.scenario,
        ))  # fmt: skip
        for code in truth.services:
            self._services.writerow((truth.child_id, code))
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
        repeat_of: list[Cell] | None = None,
        known_noise: Sequence[tuple[str, str]] = (),
    ) -> list[Cell]:
        """Write one row (``repeat_of``: exactly these cells again) and its truth lines."""
        place = output.place(index)
        log: NoiseLog = list(known_noise)
        if repeat_of is None:
            columns = place.part.columns(output.source)
            cells, noise = self.noiser.render(
                output.source, record, columns, place.part.style, light=light
            )
            log += noise
            row = self._with_extra_columns(place.part, cells, place.rows + 1)
        else:
            row = repeat_of
        place.table.append(row)
        place.rows += 1
        name = output.source.name
        self._records.writerow((
            name, record.key, child.child_id, expected, int(repeat_of is not None), place.file,
            place.sheet, place.rows,
        ))  # fmt: skip
        for column, kind in log:
            self._noise.writerow((name, place.file, place.sheet, place.rows, column, kind))
        self.counts.rows[name] += 1
        if expected:
            self.counts.rejects[expected] += 1
        if repeat_of is not None:
            self.counts.repeats[name] += 1
        return row

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
        self, output: _SourceOutput, index: int, child: Child, record: Record, row: list[Cell]
    ) -> None:
        kind = self._extra_kind(output.source.name)
        if kind is None:
            return
        if kind == "repeat":
            self._write(output, index, child, record, light=True, repeat_of=row)
        elif kind == DUPLICATE_KEY:
            changed = _mutated(record, self.dice)
            self._write(output, index, child, changed, light=False, expected=DUPLICATE_KEY)
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
    def write_notes(self) -> None:
        for plan in PLANS:
            if plan.notes_sheet:
                sheet = self._books[plan.parts[0].file].sheet("填表说明")
                for line in NOTES:
                    sheet.append(list(line))

    def close(self) -> list[str]:
        """Finish every file; the names of the feed files written."""
        self.write_notes()
        for table in self._csv_tables:
            table.close()
        for book in self._books.values():
            book.close()
        for handle in self._truth_handles:
            handle.close()
        return sorted({name for output in self.outputs.values() for name in output.files})


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
