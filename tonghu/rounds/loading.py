"""Loading a round's batch results (tonghu.pipeline.round) into the ledger.

Runs inside the caller's transaction: either the whole round lands or nothing does. Rows are
read from the result Parquet files in batches and written with bulk statements.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from django.db.models import F, Q

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
from tonghu.privacy.sensitive import masked
from tonghu.rounds.models import Round
from tonghu.services.loading import load_referrals
from tonghu.stats.services import daily_refresh, delivered_rebase, round_figures_load

BATCH_ROWS = 5_000
CHILD_FIELDS = (
    "name", "sex", "birth_date", "id_number", "id_number_index", "hukou_code", "hukou_province",
    "residence_code", "residence_division_id", "residence_since", "is_resident", "is_migrant",
    "is_left_behind", "is_key_care", "in_difficulty", "key_care", "difficulty", "dropout_risk",
    "stage", "flags", "services", "reasons", "present", "last_round",
)  # fmt: skip
RECORD_META = ("child_id", "source", "record_key", "own_date", "file", "sheet", "row")
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
    seen: set[str] = set()
    for batch in _batches(folder / RESULT_FILES["children"]):
        children = [_child(row, round_, located, services) for row in batch]
        Child.objects.bulk_create(
            children,
            update_conflicts=True,
            unique_fields=["child_id"],
            update_fields=list(CHILD_FIELDS),
        )
        seen.update(child.child_id for child in children)
        counts.children += len(children)
    # Every file the round wrote is a new version: a visit form opened before it conflicts.
    Child.objects.filter(last_round=round_).update(version=F("version") + 1)
    pks = _child_pks(seen)
    counts.records = _load_records(folder / RESULT_FILES["records"], round_, pks)
    kill_point("load.rows")  # a test hook: a round killed with half its rows written
    counts.departed = _mark_departed(round_, county)
    _load_changes(folder, round_, pks, returning)
    counts.conflicts = _apply_corrections(round_)
    counts.disagreements = _load_disagreements(folder, round_, pks)
    counts.review_pairs = load_review_pairs(round_=round_, path=folder / RESULT_FILES["review"])
    counts.referrals_opened, counts.referrals_closed = load_referrals(
        round_=round_, profile=profile, today=today
    )
    alerts_from_round(round_=round_)
    round_figures_load(round_=round_, path=folder / RESULT_FILES["figures"])
    delivered_rebase(county=county)
    daily_refresh(county=county, today=today)
    return counts


def _batches(path: Path) -> Iterator[list[dict[str, Any]]]:
    for batch in pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS):
        yield batch.to_pylist()


def _services_by_child(path: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for batch in _batches(path):
        for row in batch:
            found[row["child_id"]].append(row["service_code"])
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


def _child(
    row: dict[str, Any], round_: Round, located: _DivisionLocator, services: dict[str, list[str]]
) -> Child:
    hukou = row["hukou_code"] or ""
    return Child(
        child_id=row["child_id"],
        name=row["name"] or "",
        sex=row["sex"] or "",
        birth_date=row["birth_date"],
        id_number=row["id_number"] or "",
        hukou_code=hukou,
        hukou_province=hukou[:2],
        residence_code=row["residence_code"] or "",
        residence_division_id=located(row["residence_code"]),
        residence_since=row["residence_since"],
        is_resident=row["is_resident"],
        is_migrant=row["is_migrant"],
        is_left_behind=row["is_left_behind"],
        is_key_care=bool(row["key_care"]),
        in_difficulty=bool(row["difficulty"]),
        key_care=row["key_care"] or [],
        difficulty=row["difficulty"] or [],
        dropout_risk=row["dropout_risk"] or "",
        stage=row["stage"] or "",
        flags=row["flags"] or [],
        services=services.get(row["child_id"], []),
        reasons=row["reasons"] or "",
        present=True,
        first_round=round_,
        last_round=round_,
    )


def _child_pks(child_ids: set[str]) -> dict[str, int]:
    pks: dict[str, int] = {}
    ordered = sorted(child_ids)
    for start in range(0, len(ordered), BATCH_ROWS):
        chunk = ordered[start : start + BATCH_ROWS]
        pks.update(Child.objects.filter(child_id__in=chunk).values_list("child_id", "pk"))
    return pks


def _json_value(value: object) -> object:
    return value.isoformat() if isinstance(value, dt.date) else value


def _load_records(path: Path, round_: Round, pks: dict[str, int]) -> int:
    loaded = 0
    for batch in _batches(path):
        records = [
            ChildRecord(
                round=round_,
                child_id=pks[row["child_id"]],
                source=row["source"],
                record_key=row["record_key"],
                record_date=row["own_date"],
                file=row["file"] + (f"（{row['sheet']}）" if row["sheet"] else ""),
                row=row["row"],
                values={
                    key: _json_value(value)
                    for key, value in row.items()
                    if value is not None and key not in RECORD_META and key not in RECORD_SKIP
                },
            )
            for row in batch
        ]
        ChildRecord.objects.bulk_create(records, batch_size=BATCH_ROWS)
        loaded += len(records)
    return loaded


def _mark_departed(round_: Round, county: str) -> int:
    """Children of the county's file not found by this round: kept, marked as gone, and the
    departure written in their history."""
    gone = Child.objects.filter(child_id__startswith=county, present=True).exclude(
        last_round=round_
    )
    pks = list(gone.values_list("pk", flat=True))
    ChildChange.objects.bulk_create(
        [
            ChildChange(child_id=pk, round=round_, kind="departed", why=_WHY["departed"])
            for pk in pks
        ],
        batch_size=BATCH_ROWS,
    )
    return gone.update(present=False)


_WHY = {
    "found": "本轮各部门数据中首次发现",
    "returned": "本轮重新发现（此前一轮未发现）",
    "departed": "本轮各部门数据中未再发现（可能已离开本地）",
    "merged": "经比对与另一儿童为同一人，档案合并",
    "split": "经比对原档案含两名儿童的记录，拆分出新档案",
}


def _load_changes(folder: Path, round_: Round, pks: dict[str, int], returning: set[str]) -> None:
    changes: list[ChildChange] = []
    for batch in _batches(folder / RESULT_FILES["changes"]):
        for row in batch:
            kind = row["kind"]
            if kind == "departed":  # recorded by _mark_departed, with the children it marks
                continue
            if kind == "found" and row["child_id"] in returning:
                kind = "returned"
            field = row["field"] or ""
            changes.append(
                ChildChange(
                    child_id=pks[row["child_id"]],
                    round=round_,
                    kind=kind,
                    field=field,
                    # History keeps an ID number masked: the records hold it sealed.
                    old_value=masked(field, row["old_value"] or ""),
                    new_value=masked(field, row["new_value"] or ""),
                    why=_why(kind, field, row["reasons"]),
                )
            )
    for batch in _batches(folder / RESULT_FILES["history"]):
        changes += [
            ChildChange(
                child_id=pks[row["child_id"]],
                round=round_,
                kind=row["event"],
                new_value=row["other_child_id"],
                why=_WHY[row["event"]],
            )
            for row in batch
            if row["child_id"] in pks
        ]
    ChildChange.objects.bulk_create(changes, batch_size=BATCH_ROWS)


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
