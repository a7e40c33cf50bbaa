"""Decisions on review pairs (人工核实): kept per county and obeyed by every later round."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq
from django.db import transaction

from tonghu.audit.models import Action
from tonghu.audit.services import audit_record
from tonghu.linkage.models import LinkDecision, ReviewPair
from tonghu.linkage.selectors import access_pair

if TYPE_CHECKING:
    from tonghu.accounts.models import User
    from tonghu.rounds.models import Round


_DECISION_FIELDS: list[pa.Field[Any]] = [
    pa.field("record_id_l", pa.string()),
    pa.field("record_id_r", pa.string()),
    pa.field("same", pa.bool_()),
]
DECISION_SCHEMA = pa.schema(_DECISION_FIELDS)


@transaction.atomic
def pair_decide(*, user: User, pair_id: int, same: bool, note: str = "") -> LinkDecision:
    pair = access_pair(user=user, pair_id=pair_id)
    decision, _ = LinkDecision.objects.update_or_create(
        county=pair.round.county,
        record_id_l=pair.record_id_l,
        record_id_r=pair.record_id_r,
        defaults={"same": same, "note": note.strip()[:200], "decided_by": user},
    )
    audit_record(
        actor=user,
        action=Action.UPDATE,
        object_type="link_decision",
        object_ids=[str(decision.pk)],
        child_ids=[pair.child_id_l, pair.child_id_r],
        detail="人工核实：同一儿童" if same else "人工核实：不同儿童",
    )
    return decision


def decisions_file(*, county_code: str, folder: Path) -> Path | None:
    """The county's decisions as the batch takes them (record_id_l, record_id_r, same)."""
    rows = LinkDecision.objects.filter(county_id=f"{county_code}000000").order_by(
        "record_id_l", "record_id_r"
    )
    decided = list(rows.values_list("record_id_l", "record_id_r", "same"))
    if not decided:
        return None
    left, right, same = zip(*decided, strict=True)
    path = folder / f"decisions-{county_code}.parquet"
    table = pa.table(
        {"record_id_l": list(left), "record_id_r": list(right), "same": list(same)},
        schema=DECISION_SCHEMA,
    )
    pq.write_table(table, path)
    return path


def decisions_fingerprint() -> str:
    """Every decision, in order: a new decision makes re-running a round recompute it."""
    return "|".join(
        f"{left}={right}:{int(same)}"
        for left, right, same in LinkDecision.objects.order_by(
            "county_id", "record_id_l", "record_id_r"
        ).values_list("record_id_l", "record_id_r", "same")
    )


def load_review_pairs(*, round_: Round, path: Path) -> int:
    """Load the pairs queued for people; the pairs the rules decided stay in the round's
    store as evidence (review.parquet, ``queued`` false)."""
    ReviewPair.objects.filter(round=round_).delete()
    table = pq.read_table(path)
    queued = (row for row in table.to_pylist() if row.get("queued", True))
    pairs = [
        ReviewPair(
            round=round_,
            record_id_l=row["record_id_l"],
            record_id_r=row["record_id_r"],
            child_id_l=row["child_id_l"] or "",
            child_id_r=row["child_id_r"] or "",
            match_probability=row["match_probability"],
            reason=row["reason"],
            evidence=row["evidence"] or [],
            priority=row.get("priority", 2),
        )
        for row in queued
    ]
    ReviewPair.objects.bulk_create(pairs, batch_size=2000)
    return len(pairs)
