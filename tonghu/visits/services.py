"""Recording visits: one atomic action that saves the visit once, applies its findings to
the child's file through the round's own rules, and writes the audit row."""

from __future__ import annotations

import datetime as dt
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from tonghu.accounts.roles import Capability
from tonghu.accounts.scope import require
from tonghu.alerts.services import alerts_from_visit
from tonghu.audit.models import Action
from tonghu.audit.services import audit_record
from tonghu.children.models import Child, ChildChange, ChildRecord, value_text
from tonghu.children.selectors import access_child
from tonghu.divisions.selectors import division_table
from tonghu.pipeline.compare import TRACKED
from tonghu.pipeline.reclassify import reclassify_child
from tonghu.rounds.store import RoundStoreError, round_store_file
from tonghu.services.lists import profile_in_force
from tonghu.stats.models import Measure
from tonghu.stats.services import figure_add
from tonghu.visits.feed import write_visit_feeds
from tonghu.visits.models import Visit

if TYPE_CHECKING:
    from tonghu.accounts.models import User

FINDINGS = (
    "father_status", "father_away_code", "father_away_since", "mother_status",
    "mother_away_code", "mother_away_since", "actual_guardian", "guardianship_type",
    "entrusted_carer", "lives_alone", "vagrant", "psych", "disabled", "hardship",
)  # fmt: skip
# What a visit's findings may change on the file: the categories the rules derive.
DERIVED = ("is_left_behind", "key_care", "difficulty", "services")


@dataclass
class VisitConflictError(Exception):
    """The file changed after the form was opened: the director must decide."""

    version: int
    changes: list[ChildChange] = field(default_factory=list)


@dataclass(frozen=True)
class VisitOutcome:
    visit: Visit
    created: bool  # False: this submission was already saved (a retry or a double tap)
    # Why the findings could not go through the rules (the round's results unusable), if so.
    not_applied: str = ""


def visit_initial(*, child: Child) -> dict[str, Any]:
    """The form's starting findings: what the last visit (ours or a feed's) recorded, so a
    visit that only confirms them changes nothing."""
    last = child.visits.order_by("-visited_on", "-pk").first()
    if last is not None:
        return {name: getattr(last, name) for name in FINDINGS}
    record = (
        ChildRecord.objects.filter(child=child, source="visit_survey", round=child.last_round_id)
        .order_by("-record_date", "-pk")
        .first()
    )
    if record is None:
        return {}
    values = record.values
    initial: dict[str, Any] = {name: values.get(name) or "" for name in FINDINGS if name in values}
    for name in ("lives_alone", "vagrant", "psych", "disabled"):
        initial[name] = bool(values.get(name))
    for name in ("father_away_since", "mother_away_since"):
        initial[name] = dt.date.fromisoformat(values[name]) if values.get(name) else None
    return initial


def visit_record(
    *,
    user: User,
    child_id: str,
    token: uuid.UUID,
    findings: dict[str, Any],
    kind: str,
    visited_on: dt.date,
    note: str,
    child_version: int,
    resolution: str = "",
) -> VisitOutcome:
    """Save a visit once per ``token`` and apply its findings to the file.

    If the file changed since the form showed version ``child_version`` and the director
    has not said how to resolve it, nothing is saved and ``VisitConflictError`` lists what
    changed; ``resolution`` "mine" applies the findings anyway, "keep" saves the visit
    without touching the file.
    """
    require(user, Capability.EDIT_CHILDREN)
    child = access_child(user=user, child_id=child_id)
    existing = Visit.objects.filter(token=token, child=child).first()
    if existing is not None:
        return VisitOutcome(visit=existing, created=False)
    if visited_on > timezone.localdate():
        raise ValidationError("走访日期不能晚于今天。")
    try:
        with transaction.atomic():
            return _record(
                user=user, child=child, token=token, findings=findings, kind=kind,
                visited_on=visited_on, note=note, child_version=child_version,
                resolution=resolution,
            )  # fmt: skip
    except IntegrityError:  # the same token saved meanwhile by a parallel request
        visit = Visit.objects.filter(token=token, child=child).first()
        if visit is None:
            raise
        return VisitOutcome(visit=visit, created=False)


def _record(
    *,
    user: User,
    child: Child,
    token: uuid.UUID,
    findings: dict[str, Any],
    kind: str,
    visited_on: dt.date,
    note: str,
    child_version: int,
    resolution: str,
) -> VisitOutcome:
    child = Child.objects.select_for_update().get(pk=child.pk)
    if child.version != child_version and resolution not in {
        Visit.Resolution.MINE,
        Visit.Resolution.KEEP,
    }:
        changes = list(child.changes.order_by("-at", "-pk")[:10])
        raise VisitConflictError(version=child.version, changes=changes)
    visit = Visit.objects.create(
        child=child, kind=kind, visited_on=visited_on, visited_by=user, token=token,
        note=note.strip(), child_version=child_version, resolution=resolution, **findings,
    )  # fmt: skip
    figure_add(
        division_code=child.residence_division_id,
        measure=Measure.VISIT_HOME if kind == Visit.Kind.HOME else Measure.VISIT_CONTACT,
        on=visited_on,
    )
    not_applied = ""
    if resolution != Visit.Resolution.KEEP:
        try:
            visit.file_changes = _apply_findings(child=child, visit=visit)
        except RoundStoreError as error:  # raised before the file is touched: the visit stays
            not_applied = str(error)
        if visit.file_changes:
            visit.save(update_fields=["file_changes"])
    audit_record(
        actor=user,
        action=Action.CREATE,
        object_type="visit",
        object_ids=[str(visit.pk)],
        child_ids=[child.child_id],
        detail=f"记录{visit.get_kind_display()}" + ("，更新档案" if visit.file_changes else ""),
    )
    alerts_from_visit(visit=visit, child=child, actor=user)
    return VisitOutcome(visit=visit, created=True, not_applied=not_applied)


def _apply_findings(*, child: Child, visit: Visit) -> list[str]:
    """Classify the child again with this visit as its latest visit record; save and
    record each category that changed. Returns the changed fields."""
    round_records = _round_records(child)  # first: RoundStoreError before anything changes
    profile = profile_in_force(county_code=child.residence_division_id[:6], day=visit.visited_on)
    with tempfile.TemporaryDirectory(prefix="tonghu-visit-") as work:
        files, _ = write_visit_feeds([visit], Path(work))
        result = reclassify_child(
            child_id=child.child_id,
            round_records=round_records,
            new_feeds=files,
            divisions=division_table(county=child.residence_division_id[:6]),
            profile=profile,
            as_of=visit.visited_on,
        )
    facts = result.facts
    new_values: dict[str, Any] = {
        "is_left_behind": bool(facts["is_left_behind"]),
        "key_care": list(facts["key_care"] or []),
        "difficulty": list(facts["difficulty"] or []),
        "services": result.services if child.is_migrant else child.services,
    }
    changed = [name for name in DERIVED if getattr(child, name) != new_values[name]]
    if not changed:
        return []
    why = f"{visit.visited_on:%Y-%m-%d}{visit.get_kind_display()}发现，按认定规则重新认定"
    ChildChange.objects.bulk_create(
        ChildChange(
            child=child, kind=ChildChange.Kind.CHANGED, field=name,
            old_value=value_text(getattr(child, name)), new_value=value_text(new_values[name]),
            why=why,
        )
        for name in changed
        if name in TRACKED
    )  # fmt: skip
    for name in changed:
        setattr(child, name, new_values[name])
    child.is_key_care = bool(child.key_care)
    child.in_difficulty = bool(child.difficulty)
    child.reasons = facts["reasons"] or ""
    child.version += 1
    child.save(update_fields=[*changed, "is_key_care", "in_difficulty", "reasons", "version"])
    return changed


def _round_records(child: Child) -> Path | None:
    """The records of the child's last round (None: no round has seen the child), never
    another database's: RoundStoreError if that round's stored results are not its own."""
    if child.last_round is None:
        return None
    return round_store_file(child.last_round, "records")
