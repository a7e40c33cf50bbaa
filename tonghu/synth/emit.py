"""Writing children's rows into the feed files and the truth folder, row by row.

Besides each clean record's row, a small share of records yield extra rows that real exports
contain: an identical repeated row (ignored by a round), a row with the same key and different
content (rejected as ``duplicate_key``), and copies with no name or no usable identity
(rejected as ``missing_name`` / ``missing_identity``). The first eligible records of every
source always get one of each, so that even a small county has every case.
"""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import IO, Protocol

from tonghu.synth import ids, names
from tonghu.synth.columns import Column, Kind, Source
from tonghu.synth.draws import Dice
from tonghu.synth.layout import EXTRA_VALUES, PLANS, XLSX_ROW_CAP, Part, SourcePlan
from tonghu.synth.model import Child, Record, Value
from tonghu.synth.noise import Cell, FileStyle, NoiseLog, Noiser, Renderer
from tonghu.synth.people import PHONE_PREFIXES, restyle
from tonghu.synth.population import NEWBORN_DAYS
from tonghu.synth.records import Keys
from tonghu.synth.settings import DEFAULT_SETTINGS, EXTRA_ROWS, NoiseSettings
from tonghu.synth.truth import HUKOU_CODE_COLUMN, RESIDENCE_CODE_COLUMN, Truth
from tonghu.synth.writers import CsvTable, XlsxRows

Classify = Callable[[Child], Truth]

MISSING_NAME = "missing_name"
MISSING_IDENTITY = "missing_identity"
DUPLICATE_KEY = "duplicate_key"
EXTRA_KINDS = ("repeat", DUPLICATE_KEY, MISSING_NAME, MISSING_IDENTITY, "both")
BIRTH_COLUMN = "出生日期"
CODE_LENGTH = 12
# The address written in the same row as each source's residence / hukou code.
RESIDENCE_ADDRESS = {
    "police_residence": "居住地址", "edu_migrant": "现住址", "health_child": "现住址",
    "cdc_vaccination": "现居住地址", "self_declaration": "现住址",
}  # fmt: skip
HUKOU_ADDRESS = {
    "police_residence": "户籍地址", "edu_migrant": "户籍所在地", "health_child": "户籍地址",
    "cdc_vaccination": "户籍地址", "self_declaration": "户籍地址",
}  # fmt: skip
# Early records that may name a baby after its mother (早期记录的“某某之子/之女”).
PLACEHOLDER_SOURCES = frozenset({"health_child", "cdc_vaccination"})
PLACEHOLDER_COLUMN = "姓名"
# Sources whose key is made of the holder's ID number: never reused for another record.
IDENTITY_KEYS = frozenset({"disability_cert"})
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


class _Discard:
    """A table or text handle that keeps nothing (a writer replaying an earlier round only
    for its random draws and record keys)."""

    def append(self, cells: Sequence[Cell]) -> None:
        pass

    def write(self, text: str) -> int:
        return len(text)

    def writerow(self, row: Iterable[object], /) -> None:
        pass

    def close(self) -> None:
        pass


class _Place:
    """Where one part's rows go in this shard, and the shard-local number of the last row."""

    def __init__(self, table: CsvTable | XlsxRows | _Discard, part: Part, source: Source) -> None:
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

    def __init__(self, plan: SourcePlan, work: Path, row_cap: int, *, discard: bool) -> None:
        self.plan = plan
        self.source = plan.source
        self._work = work
        self._row_cap = row_cap
        self._discard = discard
        self.places: list[_Place] = [self._open(part) for part in plan.parts]
        self.overflow: dict[str, _Place] = {}
        self._book_rows: Counter[str] = Counter()

    def _open(self, part: Part) -> _Place:
        path = body_path(self._work, part.file, part.sheet)
        table: CsvTable | XlsxRows | _Discard
        if self._discard:
            table = _Discard()
        elif part.is_xlsx:
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
    state beyond the last record of each file. ``work`` receives bodies without headers,
    merged later by ``merge``; with ``discard`` nothing is written (an earlier round replayed
    only for its random draws and record keys)."""

    def __init__(
        self,
        *,
        work: Path,
        total: int,
        shards: int,
        dice: Dice,
        keys: Keys,
        as_of: date,
        settings: NoiseSettings = DEFAULT_SETTINGS,
        discard: bool = False,
    ) -> None:
        self.total = total
        self.dice = dice
        self.keys = keys
        self.as_of = as_of
        self.settings = settings
        self.discard = discard
        self.noiser = Noiser(dice, settings)
        self.counts = Counts()
        self.work = work
        if not discard:
            work.mkdir(parents=True, exist_ok=True)
        row_cap = XLSX_ROW_CAP // shards
        self.outputs = {
            plan.source.name: _SourceOutput(plan, work, row_cap, discard=discard) for plan in PLANS
        }
        self._forced: Counter[str] = Counter()
        self._extra_shares = tuple(getattr(settings, name) for name in EXTRA_ROWS)
        self._extra_thresholds = settings.extra_thresholds
        self._address_styles = settings.address_styles
        self._record_noise = bool(
            settings.early_placeholder
            or settings.birth_shift
            or settings.residence_code_missing
            or settings.hukou_code_missing
            or self._address_styles
        )
        # (source, part index) -> the last original record written there (for key_reuse), as
        # it was written: a later round's evolution changes records in place (keys, status)
        # while this round is being replayed, and the replay must draw as the original did.
        self._last: dict[tuple[str, int], Record] = {}
        self._last_rows: dict[tuple[str, int], list[Cell]] = {}
        self._fingerprint = hashlib.blake2b(digest_size=16)
        self._truth_handles: list[IO[str] | _Discard] = []
        self._children = self._truth_csv("children.csv")
        self._truth_csv("services.csv")
        self._services_handle = self._truth_handles[-1]
        self._records = self._truth_csv("records.csv")
        self._noise = self._truth_csv("noise.csv")

    def _truth_csv(self, name: str) -> RowWriter:
        if self.discard:
            discard = _Discard()
            self._truth_handles.append(discard)
            return discard
        handle = body_path(self.work, f"truth-{name}").open("w", encoding="utf-8", newline="")
        self._truth_handles.append(handle)
        return csv.writer(handle, lineterminator="\n")

    # Children --------------------------------------------------------------------------------
    def child(self, child: Child, classify: Classify | None) -> None:
        """Write the rows of ``child``'s records and, given ``classify``, its truth (computed
        without the records whose row reuses another record's key: a round rejects them)."""
        light = bool(child.scenario)
        routed = []
        for record in child.records:
            output = self.outputs[record.source]
            routed.append((record, output, self._route(output.plan, child, record)))
        reused = self._reused_keys(routed) if self.settings.key_reuse and not light else {}
        if classify is not None:
            kept = child
            if reused:
                kept = replace(
                    child, records=[r for n, r in enumerate(child.records) if n not in reused]
                )
            self._truth_row(classify(kept))
        shifted = -1
        if self.settings.birth_shift and not light:
            shifted = self._birth_shift_choice(child, reused)
        for number, (record, output, index) in enumerate(routed):
            if number in reused:
                self._reuse(output, index, child, record, reused[number])
                continue
            marks: NoiseLog = []
            written_record = record
            if self._record_noise and not light:
                written_record = self._disturb(
                    output, index, child, record, marks, shift=number == shifted
                )
            written = self._write(
                output, index, child, written_record, light=light, known_noise=marks
            )
            if self.settings.key_reuse:
                self._last[(record.source, index)] = _snapshot(record)
            if record.derive_extras:
                self._extras(output, index, child, written_record, written)

    def _reused_keys(self, routed: list[tuple[Record, _SourceOutput, int]]) -> dict[int, str]:
        """Which records (by position) are written under the key of the record written just
        before them in the same file (key_reuse), and that key."""
        chance = self.settings.key_reuse
        rng = self.dice.rng
        last = dict(self._last)
        reused: dict[int, str] = {}
        for number, (record, output, index) in enumerate(routed):
            place = (record.source, index)
            previous = last.get(place)
            if (
                previous is not None
                and record.derive_extras
                and record.source not in IDENTITY_KEYS
                and previous.key != record.key
                and rng.random() < chance
                and _content(previous, output.source) != _content(record, output.source)
            ):
                reused[number] = previous.key
            else:
                last[place] = record
        return reused

    def _reuse(
        self, output: _SourceOutput, index: int, child: Child, record: Record, key: str
    ) -> None:
        """A row of ``record`` under ``key``, the key of the row before it: a round keeps the
        first and rejects this one as ``duplicate_key``."""
        values = dict(record.values)
        values[output.source.key] = key
        copy = Record(record.source, key, values, derive_extras=False)
        self._write(
            output,
            index,
            child,
            copy,
            light=False,
            expected=DUPLICATE_KEY,
            known_noise=[(output.source.key, "key_reuse")],
            repeat_of=self._last_rows.get((record.source, index)),
        )

    def _birth_shift_choice(self, child: Child, reused: dict[int, str]) -> int:
        """The position of the record whose birth date is written a day off, or -1. Only for a
        child with at least three records stating it, so most of them still state the truth."""
        stating = [
            number
            for number, record in enumerate(child.records)
            if number not in reused and isinstance(record.values.get(BIRTH_COLUMN), date)
        ]
        if len(stating) < 3 or not self.dice.chance(self.settings.birth_shift):
            return -1
        return self.dice.pick(stating)

    def _disturb(
        self,
        output: _SourceOutput,
        index: int,
        child: Child,
        record: Record,
        marks: NoiseLog,
        *,
        shift: bool,
    ) -> Record:
        """``record`` with the record-level noise of the settings (a birth date a day off,
        codes left empty beside their address, another address style); logged in ``marks``,
        with the placeholder names of early records."""
        settings = self.settings
        rng = self.dice.rng
        source = record.source
        values: dict[str, Value] | None = None
        name = record.values.get(PLACEHOLDER_COLUMN)
        if (
            source in PLACEHOLDER_SOURCES
            and isinstance(name, str)
            and name.endswith(names.PLACEHOLDER_ENDINGS)
            and name != child.person.name
            and (self.as_of - child.person.birth).days >= NEWBORN_DAYS
        ):
            marks.append((PLACEHOLDER_COLUMN, "name_placeholder"))
        if shift:
            values = dict(record.values)
            birth = values[BIRTH_COLUMN]
            if isinstance(birth, date):
                values[BIRTH_COLUMN] = birth + timedelta(days=1 if rng.random() < 0.5 else -1)
                marks.append((BIRTH_COLUMN, "birth_shift"))
        omitted = output.plan.parts[index].omit
        address = RESIDENCE_ADDRESS.get(source, "")
        has_address = bool(address) and address not in omitted and bool(record.values.get(address))
        if settings.residence_code_missing and has_address:
            column = RESIDENCE_CODE_COLUMN[source]
            code = record.values.get(column)
            if (
                isinstance(code, str)
                and len(code) == CODE_LENGTH
                and rng.random() < settings.residence_code_missing
            ):
                values = values if values is not None else dict(record.values)
                values[column] = None
                marks.append((column, "residence_code_missing"))
        hukou_address = HUKOU_ADDRESS.get(source, "")
        if (
            settings.hukou_code_missing
            and hukou_address
            and hukou_address not in omitted
            and record.values.get(hukou_address)
            and record.values.get(HUKOU_CODE_COLUMN[source])
            and rng.random() < settings.hukou_code_missing
        ):
            values = values if values is not None else dict(record.values)
            values[HUKOU_CODE_COLUMN[source]] = None
            marks.append((HUKOU_CODE_COLUMN[source], "hukou_code_missing"))
        styles = self._address_styles
        text = record.values.get(address) if has_address else None
        if styles and isinstance(text, str):
            roll = rng.random()
            total = 0.0
            for style, share in styles:
                total += share
                if roll < total:
                    found = restyle(text, child.family.village, style)
                    if found is not None:
                        values = values if values is not None else dict(record.values)
                        values[address] = found[0]
                        marks.append((address, f"address_{found[1]}"))
                    break
        if values is None:
            return record
        return Record(record.source, record.key, values, derive_extras=record.derive_extras)

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
        repeat_of: list[Cell] | None = None,
    ) -> _Written:
        """Render and write one row of ``record`` and its truth lines; a row equal to
        ``repeat_of`` is written as an identical repeat instead of a reject."""
        place = output.place(index)
        if not place.plan:
            place.plan = self.noiser.plan(place.columns)
        cells, noise = self.noiser.render(
            output.source, record, place.plan, place.part.style, light=light
        )
        row = self._with_extra_columns(place.part, cells, place.rows + 1)
        written = _Written(place, row, str(cells[place.key_index]))
        repeat = False
        if repeat_of is not None and row == repeat_of:
            expected, repeat = "", True
        self._append(
            output, written, child, expected=expected, noise=[*known_noise, *noise], repeat=repeat
        )
        if expected == "" and not repeat:
            self._last_rows[(output.source.name, index)] = row
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
        key = written.key
        child_id = child.child_id
        self._fingerprint.update(f"{name}\t{key}\t{child_id}\t{expected}\n".encode())
        self._records.writerow((
            name, key, child_id, expected, int(repeat), place.file, place.sheet, place.rows,
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
            # The first records of each source get one of each kind in use.
            return EXTRA_KINDS[forced] if self._extra_shares[forced] else None
        roll = self.dice.rng.random()
        for kind, threshold in zip(EXTRA_KINDS, self._extra_thresholds, strict=True):
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
    def fingerprint(self) -> str:
        """A digest of every row's source, key, true child and expected reject so far: a
        replayed round must give its original's."""
        return self._fingerprint.hexdigest()

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


def _snapshot(record: Record) -> Record:
    """A copy of ``record`` that later changes to it do not reach (its values are immutable)."""
    return Record(record.source, record.key, dict(record.values), record.derive_extras)


def _content(record: Record, source: Source) -> dict[str, Value]:
    """A record's values without its key."""
    return {name: value for name, value in record.values.items() if name != source.key}


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
