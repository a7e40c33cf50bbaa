"""A child's file (一人一档) as the ledger page shows it: the profile's information groups,
each value with the records that state it, disagreements kept visible."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache

from tonghu.accounts.roles import Department
from tonghu.children.models import Child, ChildChange, ChildRecord, Correction, VerificationTask
from tonghu.pipeline.classify import RECORD_LABELS
from tonghu.pipeline.compare import TRACKED
from tonghu.pipeline.sources import SOURCES
from tonghu.policy import Profile
from tonghu.policy.rules import DIFFICULTY_LABELS, KEY_CARE_LABELS
from tonghu.privacy.sensitive import MASKED_FIELDS, masked
from tonghu.services.models import Referral

# Values the round computes for the child rather than reads from one record.
DERIVED = {"residence_since": TRACKED["residence_since"]}


@dataclass(frozen=True)
class SourcedValue:
    value: str
    source: str  # 居住证, 学籍 ...
    record_key: str
    record_date: dt.date | None


@dataclass
class FieldRow:
    key: str
    label: str
    values: list[SourcedValue] = field(default_factory=list)

    @property
    def disagrees(self) -> bool:
        return len(self.distinct) > 1

    @property
    def distinct(self) -> list[tuple[str, list[SourcedValue]]]:
        """Each value stated once, with every record that states it (newest first)."""
        grouped: dict[str, list[SourcedValue]] = {}
        for item in self.values:
            grouped.setdefault(item.value, []).append(item)
        return list(grouped.items())


@dataclass
class Group:
    title: str
    rows: list[FieldRow]


@dataclass
class ServiceStatus:
    code: str
    name: str
    referrals: list[tuple[str, str]]  # (department, status), as the departments report them


@dataclass
class ChildFile:
    child: Child
    has_masked: bool  # some value is shown masked (the page offers the reveal)
    reasons: list[str]
    groups: list[Group]
    categories: list[str]
    services: list[ServiceStatus]
    changes: list[ChildChange]
    corrections: list[Correction]
    tasks: list[VerificationTask]


@cache
def field_labels() -> dict[str, str]:
    """Each normalised field's Chinese name: the canonical header of the first source
    that has it."""
    labels: dict[str, str] = {}
    for source in SOURCES:
        for column in source.columns:
            labels.setdefault(column.field, column.header)
    return {**labels, **DERIVED}


def _display(name: str, value: object) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def _masked_display(name: str, value: object) -> str:
    return masked(name, _display(name, value))


def child_file(*, child: Child, profile: Profile, role: str, revealed: bool) -> ChildFile:
    """The file as the role may see it: only its groups (minimum necessary), and ID numbers
    and phones masked unless ``revealed`` (the caller checked and audited the reveal)."""
    latest = ChildRecord.objects.filter(child=child, round=child.last_round)
    records = list(latest.order_by("-record_date", "source", "record_key"))
    labels = field_labels()
    shown = _display if revealed else _masked_display
    groups = []
    for group in profile.ledger_for(role):
        rows = []
        for name in group.fields:
            row = FieldRow(key=name, label=labels.get(name, name))
            if name in DERIVED:
                value = getattr(child, name)
                if value is not None:
                    row.values.append(SourcedValue(shown(name, value), "认定", "", None))
            for record in records:
                if name in record.values:
                    row.values.append(
                        SourcedValue(
                            shown(name, record.values[name]),
                            RECORD_LABELS.get(record.source, record.source),
                            record.record_key,
                            record.record_date,
                        )
                    )
            rows.append(row)
        groups.append(Group(group.title, rows))
    names = {item.code: item.name for item in profile.services.items}
    shown_fields = {row.key for group in groups for row in group.rows if row.values}
    return ChildFile(
        child=child,
        has_masked=not revealed and bool(shown_fields & MASKED_FIELDS),
        reasons=[part for part in child.reasons.split("。") if part.strip()],
        groups=groups,
        categories=categories(child),
        services=_services(child, names),
        changes=list(child.changes.select_related("round").order_by("-at", "-id")[:200]),
        corrections=list(child.corrections.select_related("corrected_by")),
        tasks=list(child.verification_tasks.all()),
    )


def categories(child: Child) -> list[str]:
    found = []
    if child.is_migrant:
        found.append("流动儿童")
    if child.is_left_behind:
        found.append("留守儿童")
    found += [f"困境：{DIFFICULTY_LABELS.get(code, code)}" for code in child.difficulty]
    found += [f"重点关爱：{KEY_CARE_LABELS.get(code, code)}" for code in child.key_care]
    if child.dropout_risk:
        found.append(f"控辍保学：{child.get_dropout_risk_display()}")
    return found


def _services(child: Child, names: dict[str, str]) -> list[ServiceStatus]:
    departments = dict(Department.choices)
    by_service: dict[str, list[tuple[str, str]]] = {}
    referrals = Referral.objects.filter(child=child).order_by("service_code", "department", "-id")
    for referral in referrals:
        by_service.setdefault(referral.service_code, []).append(
            (departments.get(referral.department, referral.department),
             referral.get_status_display())
        )  # fmt: skip
    return [
        ServiceStatus(code, names.get(code, code), by_service.get(code, []))
        for code in child.services
    ]
