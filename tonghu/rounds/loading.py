"""Loading a round's batch results (tonghu.pipeline.round) into the ledger.

Runs inside the caller's transaction: either the whole round lands or nothing does. Rows are
read from the result Parquet files in batches, column by column, and written as tuples
(tonghu.rounds.bulk: COPY on PostgreSQL, executemany on SQLite), not as model instances.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from django.db.models import F, Q
from django.utils import timezone

from tonghu.accounts.roles import Department
from tonghu.accounts.scope import within
from tonghu.alerts.services import alerts_from_round
from tonghu.children.models import (
    CORRECTABLE,
    Child,
    ChildChange,
    ChildRecord,
    Correction,
    VerificationTask,
    value_of,
    value_text,
)
from tonghu.children.services import child_set_value
from tonghu.divisions.models import Division
from tonghu.feeds.departments import SOURCE_DEPARTMENTS
from tonghu.linkage.services import load_review_pairs
from tonghu.pipeline.classify import RECORD_LABELS
from tonghu.pipeline.compare import TRACKED
from tonghu.pipeline.round import RESULT_FILES, kill_point
from tonghu.policy import Profile
from tonghu.privacy.crypto import blind_index
from tonghu.privacy.sensitive import masked
from tonghu.rounds.bulk import analyze, insert_rows, upsert_rows
from tonghu.rounds.models import Round
from tonghu.services.loading import load_referrals
from tonghu.services.models import Referral
from tonghu.stats.services import daily_refresh, delivered_rebase, round_figures_load

BATCH_ROWS = 5_000
# The children's columns a round writes (attribute names), in the order _children gives
# them; a child already in the ledger gets all of them but the first round and the version.
CHILD_FIELDS = (
    "child_id", "name", "sex", "birth_date", "id_number", "id_number_index", "hukou_code",
    "hukou_province", "residence_code", "residence_division_id", "residence_since",
    "is_resident", "is_migrant", "is_left_behind", "is_key_care", "in_difficulty", "key_care",
    "difficulty", "dropout_risk", "stage", "flags", "services", "reasons",
)  # fmt: skip
CHILD_UPDATED = (*CHILD_FIELDS[1:], "present", "last_round_id")
RECORD_FIELDS = ("child_id", "source", "record_key", "record_date", "file", "row", "values")
CHANGE_FIELDS = ("child_id", "kind", "field", "old_value", "new_value", "why")
RECORD_META = frozenset({"child_id", "source", "record_key", "own_date", "file", "sheet", "row"})
RECORD_SKIP = {
    "id_valid", "id_birth_date", "id_sex", "source_rank", "hukou_origin", "residence_origin",
}  # fmt: skip


@dataclass
class LoadCounts:
    children: int = 0
    records: int = 0
    departed: int = 0
    conflicts: int = 0
    disagreements: int = 0
    review_pairs: int = 0
    referrals_opened: int = 0
    referrals_closed: int = 0


def load_results(*, round_: Round, folder: Path, profile: Profile, today: dt.date) -> LoadCounts:
    counts = LoadCounts()
    county = round_.county_id[:6]
    now = timezone.now()  # the time of every row the load adds that records one
    located = _DivisionLocator(county)
    services = _services_by_child(folder / RESULT_FILES["services"])
    returning = set(
        Child.objects.filter(child_id__startswith=county, present=False).values_list(
            "child_id", flat=True
        )
    )
    # A re-run of this round replaces what its earlier run wrote.
    ChildRecord.objects.filter(round=round_).delete()
    ChildChange.objects.filter(round=round_).delete()
    VerificationTask.objects.filter(round=round_).delete()
    seen, counts.children = _load_children(
        folder / RESULT_FILES["children"], round_, county, located, services
    )
    pks = _child_pks(county, seen)
    counts.records = _load_records(folder / RESULT_FILES["records"], round_, pks)
    kill_point("load.rows")  # a test hook: a round killed with half its rows written
    counts.departed = _mark_departed(round_, county, now)
    _load_changes(folder, round_, pks, returning, now)
    counts.conflicts = _apply_corrections(round_)
    counts.disagreements = _load_disagreements(folder, round_, pks)
    counts.review_pairs = load_review_pairs(round_=round_, path=folder / RESULT_FILES["review"])
    counts.referrals_opened, counts.referrals_closed = load_referrals(
        round_=round_, profile=profile, today=today
    )
    analyze(Child, ChildRecord, ChildChange, Referral)  # what follows queries them
    alerts_from_round(round_=round_)
    round_figures_load(round_=round_, path=folder / RESULT_FILES["figures"])
    delivered_rebase(county=county)
    daily_refresh(county=county, today=today)
    return counts


def _batches(path: Path) -> Iterator[list[dict[str, Any]]]:
    for batch in pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS):
        yield batch.to_pylist()


def _column_batches(path: Path, columns: list[str] | None = None) -> Iterator[dict[str, list[Any]]]:
    """The file's rows in batches, each a list of values per column (no dict per row)."""
    for batch in pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS, columns=columns):
        yield batch.to_pydict()


def _services_by_child(path: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for batch in _column_batches(path, ["child_id", "service_code"]):
        for child_id, code in zip(batch["child_id"], batch["service_code"], strict=True):
            found[child_id].append(code)
    return found


class _DivisionLocator:
    """The deepest division of the table a residence code names (village, town, county)."""

    def __init__(self, county: str) -> None:
        self.county = f"{county}000000"
        self.known = set(
            Division.objects.filter(within("code", county)).values_list("code", flat=True)
        )

    def __call__(self, code: str | None) -> str:
        if not code:
            return self.county
        for candidate in (code, f"{code[:9]}000", f"{code[:6]}000000"):
            if candidate in self.known:
                return candidate
        return self.county


def _load_children(
    path: Path,
    round_: Round,
    county: str,
    located: _DivisionLocator,
    services: dict[str, list[str]],
) -> tuple[set[str], int]:
    """Write the round's children (new ones added, known ones updated); their child ids and
    the number of rows written.

    Every file the round writes is a new version: a visit form opened before it conflicts.
    A new child's file starts at version 2 (1, then this round's), a known child's goes up
    by one as its row is written, and so does that of a child an earlier run of this round
    wrote and this one does not."""
    known = set(
        Child.objects.filter(child_id__startswith=county).values_list("child_id", flat=True)
    )
    earlier = set(Child.objects.filter(last_round=round_).values_list("child_id", flat=True))
    constants = {
        "present": True,
        "last_round_id": round_.pk,
        "first_round_id": round_.pk,
        "version": 2,
    }
    seen: set[str] = set()
    written = 0
    for batch in _column_batches(path):
        seen.update(batch["child_id"])
        rows = list(_children(batch, located, services))
        written += len(rows)
        # The new ones (all, in a county's first round) go in as they are; the others, and
        # any of another county's code (none: a child id starts with its county's), replace
        # what the ledger holds.
        new = [row for row in rows if row[0] not in known and row[0].startswith(county)]
        if new:
            insert_rows(Child, CHILD_FIELDS, new, constants=constants)
            known.update(row[0] for row in new)
        if len(new) < len(rows):
            upsert_rows(
                Child,
                CHILD_FIELDS,
                [row for row in rows if row[0] in known or not row[0].startswith(county)],
                unique="child_id",
                update=CHILD_UPDATED,
                increment="version",
                constants=constants,
            )
    if earlier - seen:
        Child.objects.filter(child_id__in=earlier - seen).update(version=F("version") + 1)
    return seen, written


def _children(
    batch: dict[str, list[Any]], located: _DivisionLocator, services: dict[str, list[str]]
) -> Iterator[tuple[Any, ...]]:
    """The batch's children as rows of CHILD_FIELDS."""
    for (
        child_id, name, sex, birth_date, id_text, hukou_text, residence, since, resident,
        migrant, left_behind, key_care, difficulty, dropout_risk, stage, flags, reasons,
    ) in zip(
        batch["child_id"], batch["name"], batch["sex"], batch["birth_date"], batch["id_number"],
        batch["hukou_code"], batch["residence_code"], batch["residence_since"],
        batch["is_resident"], batch["is_migrant"], batch["is_left_behind"], batch["key_care"],
        batch["difficulty"], batch["dropout_risk"], batch["stage"], batch["flags"],
        batch["reasons"], strict=True,
    ):  # fmt: skip
        hukou = hukou_text or ""
        id_number = id_text or ""
        yield (
            child_id, name or "", sex or "", birth_date, id_number, blind_index(id_number), hukou,
            hukou[:2], residence or "", located(residence), since, resident, migrant,
            left_behind, bool(key_care), bool(difficulty), key_care or [], difficulty or [],
            dropout_risk or "", stage or "", flags or [], services.get(child_id, []),
            reasons or "",
        )  # fmt: skip


def _child_pks(county: str, child_ids: set[str]) -> dict[str, int]:
    """The ledger's keys of the round's children: read in one pass over the county's, then
    any other (none, as child ids start with the county's code) in chunks."""
    county_children = Child.objects.filter(child_id__startswith=county)
    pks = {
        child_id: pk
        for child_id, pk in county_children.values_list("child_id", "pk").iterator(20_000)
        if child_id in child_ids
    }
    others = sorted(child_ids - pks.keys())
    for start in range(0, len(others), BATCH_ROWS):
        chunk = others[start : start + BATCH_ROWS]
        pks.update(Child.objects.filter(child_id__in=chunk).values_list("child_id", "pk"))
    return pks


def _load_records(path: Path, round_: Round, pks: dict[str, int]) -> int:
    loaded = 0
    file = pq.ParquetFile(path)
    names = file.schema_arrow.names
    keys = [name for name in names if name not in RECORD_META and name not in RECORD_SKIP]
    dates = {field.name for field in file.schema_arrow if pa.types.is_date(field.type)}
    for batch in file.iter_batches(batch_size=BATCH_ROWS):
        columns = batch.to_pydict()
        # A record's values: its non-empty cells (dates as ISO text), in the file's order;
        # the columns empty in the whole batch are left out up front.
        present = [key for key in keys if batch.column(key).null_count < batch.num_rows]
        cells = [
            [None if day is None else day.isoformat() for day in columns[key]]
            if key in dates
            else columns[key]
            for key in present
        ]
        files = [
            name + (f"（{sheet}）" if sheet else "")
            for name, sheet in zip(columns["file"], columns["sheet"], strict=True)
        ]
        rows = (
            (pks[child_id], source, record_key, own_date, file_name, row, _cells(present, values))
            for child_id, source, record_key, own_date, file_name, row, *values in zip(
                columns["child_id"], columns["source"], columns["record_key"],
                columns["own_date"], files, columns["row"], *cells, strict=True,
            )
        )  # fmt: skip
        loaded += insert_rows(ChildRecord, RECORD_FIELDS, rows, constants={"round_id": round_.pk})
    return loaded


def _cells(keys: list[str], values: list[Any]) -> dict[str, Any]:
    return {key: value for key, value in zip(keys, values, strict=True) if value is not None}


def _mark_departed(round_: Round, county: str, now: dt.datetime) -> int:
    """Children of the county's file not found by this round: kept, marked as gone, and the
    departure written in their history."""
    gone = Child.objects.filter(child_id__startswith=county, present=True).exclude(
        last_round=round_
    )
    pks = list(gone.values_list("pk", flat=True))
    insert_rows(
        ChildChange,
        ("child_id",),
        ((pk,) for pk in pks),
        constants=_change_constants(round_, now, kind="departed", why=_WHY["departed"]),
    )
    return gone.update(present=False)


def _change_constants(round_: Round, now: dt.datetime, **values: str) -> dict[str, Any]:
    return {
        "round_id": round_.pk,
        "at": now,
        "field": "",
        "old_value": "",
        "new_value": "",
        **values,
    }


_WHY = {
    "found": "本轮各部门数据中首次发现",
    "returned": "本轮重新发现（此前一轮未发现）",
    "departed": "本轮各部门数据中未再发现（可能已离开本地）",
    "merged": "经比对与另一儿童为同一人，档案合并",
    "split": "经比对原档案含两名儿童的记录，拆分出新档案",
}


def _load_changes(
    folder: Path, round_: Round, pks: dict[str, int], returning: set[str], now: dt.datetime
) -> None:
    changes: list[tuple[Any, ...]] = []
    for batch in _column_batches(folder / RESULT_FILES["changes"]):
        for child_id, change, changed, old_value, new_value, reasons in zip(
            batch["child_id"], batch["kind"], batch["field"], batch["old_value"],
            batch["new_value"], batch["reasons"], strict=True,
        ):  # fmt: skip
            if change == "departed":  # recorded by _mark_departed, with the children it marks
                continue
            kind = "returned" if change == "found" and child_id in returning else change
            field = changed or ""
            changes.append(
                (
                    pks[child_id],
                    kind,
                    field,
                    # History keeps an ID number masked: the records hold it sealed.
                    masked(field, old_value or ""),
                    masked(field, new_value or ""),
                    _why(kind, field, reasons),
                )
            )
    for batch in _column_batches(folder / RESULT_FILES["history"]):
        changes += [
            (pks[child_id], event, "", "", other, _WHY[event])
            for child_id, event, other in zip(
                batch["child_id"], batch["event"], batch["other_child_id"], strict=True
            )
            if child_id in pks
        ]
    insert_rows(ChildChange, CHANGE_FIELDS, changes, constants={"round_id": round_.pk, "at": now})


def _why(kind: str, field: str, reasons: str | None) -> str:
    if kind != "changed":
        return _WHY[kind]
    why = f"本轮部门数据中{TRACKED.get(field, field)}发生变化"
    return f"{why}。本轮认定依据：{reasons}" if reasons else why


def _apply_corrections(round_: Round) -> int:
    """Keep each correction while the data still says what it replaced; raise a 核实 task
    when the data now says something else."""
    conflicts = 0
    corrections = Correction.objects.filter(
        Q(status=Correction.Status.ACTIVE) | Q(status=Correction.Status.CONFLICT),
        child__last_round=round_,
    ).select_related("child")
    for correction in corrections:
        child = correction.child
        data_value = value_text(getattr(child, correction.field))
        if data_value in {correction.replaced_value, correction.value}:
            if data_value != correction.value:
                value = value_of(correction.field, correction.value)
                child.save(
                    update_fields=child_set_value(child=child, field=correction.field, value=value)
                )
            if correction.status != Correction.Status.ACTIVE:
                correction.status = Correction.Status.ACTIVE
                correction.save(update_fields=["status"])
            continue
        correction.status = Correction.Status.CONFLICT
        correction.save(update_fields=["status"])
        label = CORRECTABLE.get(correction.field, correction.field)
        VerificationTask.objects.create(
            child=child,
            round=round_,
            field=correction.field,
            department=Department.CIVIL_AFFAIRS.value,
            detail=(
                f"{label}：人工更正为“{correction.value}”（理由：{correction.reason}），"
                f"本轮（基准日{round_.as_of:%Y-%m-%d}）部门数据为“{data_value}”，请核实哪一个正确。"
            ),
        )
        conflicts += 1
    return conflicts


DISAGREEMENT_LABELS = {"birth_date": "出生日期", "sex": "性别", "hukou_county": "户籍地（县）"}


def _load_disagreements(folder: Path, round_: Round, pks: dict[str, int]) -> int:
    """A 核实 task for the department whose record contradicts the child's other records."""
    tasks = []
    for batch in _batches(folder / RESULT_FILES["disagreements"]):
        tasks += [
            VerificationTask(
                child_id=pks[row["child_id"]],
                round=round_,
                field=row["field"],
                department=SOURCE_DEPARTMENTS[row["source"]].value,
                record_source=row["source"],
                record_key=row["record_key"],
                detail=(
                    f"{DISAGREEMENT_LABELS[row['field']]}：本部门记录"
                    f"（{RECORD_LABELS[row['source']]} {row['record_key']}）为“{row['stated']}”，"
                    f"该儿童的其他记录多数为“{row['consensus']}”，请核实哪一个正确。"
                ),
            )
            for row in batch
        ]
    VerificationTask.objects.bulk_create(tasks, batch_size=BATCH_ROWS)
    return len(tasks)
