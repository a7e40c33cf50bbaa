"""Raising 预警 from findings (a round loaded, a visit recorded, a guardianship assessment) and
handling them: dismissed with a reason, or turned into a protection case (介入).

One open alert per child and kind: a finding of an open kind adds nothing, and a finding
already raised once from the same round, visit or assessment is not raised again (a re-run
of a round does not bring back what staff dismissed); a later round or visit may.

Reminder texts and audit details name children by child_id only, never by name or ID number.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import batched
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.paginator import Page
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse

from tonghu import clock
from tonghu.accounts.models import User
from tonghu.accounts.roles import Capability, Role
from tonghu.accounts.scope import require
from tonghu.alerts.models import Alert, Kind, Source, Status
from tonghu.alerts.selectors import access_alert, alerts_for
from tonghu.audit.models import Action
from tonghu.audit.services import audit_record, audited_page
from tonghu.cases.intake import case_open_for_child
from tonghu.cases.models import Case
from tonghu.children.models import Child, ChildRecord, DropoutRisk
from tonghu.divisions.codes import Level, prefix
from tonghu.notifications.models import Notification
from tonghu.notifications.services import Reminder, notify
from tonghu.policy.profile import GUARDIANSHIP_GRADES

if TYPE_CHECKING:
    from tonghu.guardianship.models import Assessment
    from tonghu.rounds.models import Round
    from tonghu.visits.models import Visit

PAGE_SIZE = 50
BATCH = 2000  # findings checked and written per statement (well under SQLite's parameter limit)
VISIT_SURVEY = "visit_survey"  # the round's feed of visit findings (独自居住, 流浪, ...)
MISSING = GUARDIANSHIP_GRADES[0]  # 监护缺失
# The 强制报告 situation a case opened from each kind of alert is filed under.
SITUATION_OF = {
    Kind.LIVING_ALONE: "alone_or_missing",
    Kind.VAGRANT_OR_MISSING: "alone_or_missing",
    Kind.NO_GUARDIAN: "guardian_failing",
    Kind.DROPOUT: "guardian_failing",
}
WHAT = {
    Kind.LIVING_ALONE: "走访发现独自居住",
    Kind.VAGRANT_OR_MISSING: "重点关爱情形为流浪",
    Kind.NO_GUARDIAN: "重点关爱情形为监护缺失",
    Kind.DROPOUT: "控辍保学状态为辍学",
}


@dataclass(frozen=True)
class Finding:
    """What one source found about one child; ``ref`` names the round (id), visit (token) or
    assessment (id); ``detail`` holds no name, ID number or phone."""

    child: Child
    kind: Kind
    source: Source
    ref: str
    detail: str


# --- raising -------------------------------------------------------------------------


@transaction.atomic
def alerts_raise(*, findings: Iterable[Finding], actor: User | None = None) -> list[Alert]:
    """Open an alert for each finding whose kind is not open for the child already; tell the
    town's supervisors and the county's civil-affairs staff. Returns the new alerts."""
    wanted: dict[tuple[int, str], Finding] = {}
    for finding in findings:
        wanted.setdefault((finding.child.pk, finding.kind), finding)
    raised: list[Alert] = []
    for batch in batched(wanted.values(), BATCH):
        raised += _raise_batch(batch)
    if raised:
        _audit_raised(raised, actor=actor)
        _notify_raised(raised)
    return raised


def _raise_batch(findings: Sequence[Finding]) -> list[Alert]:
    """The batch's findings that are new, written in one statement."""
    known = Alert.objects.filter(child_id__in={f.child.pk for f in findings}).filter(
        Q(status=Status.OPEN) | Q(source_ref__in={f.ref for f in findings})
    )
    open_kinds: set[tuple[int, str]] = set()
    seen: set[tuple[int, str, str, str]] = set()
    for child_id, kind, status, source, ref in known.values_list(
        "child_id", "kind", "status", "source", "source_ref"
    ):
        seen.add((child_id, kind, source, ref))
        if status == Status.OPEN:
            open_kinds.add((child_id, kind))
    now = clock.now()
    fresh = [
        Alert(
            child=f.child,
            kind=f.kind,
            source=f.source,
            source_ref=f.ref,
            detail=f.detail[:300],
            raised_at=now,
        )
        for f in findings
        if (f.child.pk, f.kind) not in open_kinds
        and (f.child.pk, f.kind, f.source, f.ref) not in seen
    ]
    return Alert.objects.bulk_create(fresh)


def _audit_raised(alerts: Sequence[Alert], *, actor: User | None) -> None:
    sources = "、".join(sorted({Source(alert.source).label for alert in alerts}))
    audit_record(
        actor=actor,
        username="" if actor else "system",
        action=Action.CREATE,
        object_type="alert",
        object_ids=[str(alert.pk) for alert in alerts],
        child_ids=[alert.child.child_id for alert in alerts],
        detail=f"生成预警 {len(alerts)} 条（来源：{sources}）",
    )


def _place(child: Child, level: Level) -> str:
    return prefix(child.residence_division_id, level).ljust(12, "0")


def _notify_raised(alerts: Sequence[Alert]) -> None:
    """One reminder per alert to each supervisor of the child's town and each civil-affairs
    staff member of its county; the users are read once for the whole run."""
    towns = {_place(alert.child, Level.TOWN) for alert in alerts}
    counties = {_place(alert.child, Level.COUNTY) for alert in alerts}
    staff = User.objects.filter(
        Q(role=Role.SUPERVISOR, division_id__in=towns)
        | Q(role=Role.COUNTY_STAFF, division_id__in=counties),
        is_active=True,
    ).order_by("pk")
    by_place: dict[str, list[User]] = defaultdict(list)
    for user in staff:
        by_place[user.division_id].append(user)
    url = reverse("alerts:list")
    notify(
        reminders=[
            Reminder(
                user=user,
                kind=Notification.Kind.ALERT,
                text=alert_text(alert),
                url=url,
                key=f"alert-{alert.pk}",
            )
            for alert in alerts
            for place in (_place(alert.child, Level.TOWN), _place(alert.child, Level.COUNTY))
            for user in by_place[place]
        ]
    )


def alert_text(alert: Alert) -> str:
    return (
        f"预警：儿童 {alert.child.child_id} {Kind(alert.kind).label}"
        f"（来源：{Source(alert.source).label}），请排查处置。"
    )


# --- the three sources ---------------------------------------------------------------


def _child_kinds(child: Child, *, alone: bool, vagrant: bool, dropout: bool) -> list[Kind]:
    """The kinds a child's facts call for. A child living alone counts as 监护缺失 under the
    rules as well; the one alert 独自居住 (the more specific finding) stands for both."""
    kinds = []
    if alone:
        kinds.append(Kind.LIVING_ALONE)
    if vagrant or "vagrant" in child.key_care:
        kinds.append(Kind.VAGRANT_OR_MISSING)
    if "no_guardian" in child.key_care and not alone:
        kinds.append(Kind.NO_GUARDIAN)
    if dropout and child.dropout_risk == DropoutRisk.DROPPED_OUT:
        kinds.append(Kind.DROPOUT)
    return kinds


def _findings(
    child: Child, kinds: Iterable[Kind], *, source: Source, ref: str, where: str
) -> list[Finding]:
    return [
        Finding(child=child, kind=kind, source=source, ref=ref, detail=f"{where}：{WHAT[kind]}")
        for kind in kinds
    ]


def alerts_from_round(*, round_: Round) -> list[Alert]:
    """After a round is loaded: alerts for its present children whose facts call for one, read
    in one query (the latest visit record of the round says 独自居住, key care 流浪 or 监护缺失,
    辍学). Runs inside the loading transaction."""
    where = f"监测摸排（基准日{round_.as_of:%Y-%m-%d}）"
    findings = [
        finding
        for child, alone in _round_candidates(round_)
        for finding in _findings(
            child,
            _child_kinds(child, alone=alone, vagrant=False, dropout=True),
            source=Source.ROUND,
            ref=str(round_.pk),
            where=where,
        )
    ]
    return alerts_raise(findings=findings)


def _round_candidates(round_: Round) -> list[tuple[Child, bool]]:
    """The round's present children with a fact that may call for an alert, each with whether
    the round's latest visit record of the child says 独自居住 (one query)."""
    latest_visit = (
        ChildRecord.objects.filter(round=round_, source=VISIT_SURVEY, child_id=OuterRef("child_id"))
        .order_by(F("record_date").desc(nulls_last=True), "-pk")
        .values("pk")[:1]
    )
    alone = ChildRecord.objects.filter(
        pk=latest_visit, child_id=OuterRef("pk"), values__lives_alone=True
    )
    children = (
        Child.objects.filter(last_round=round_, present=True)
        .annotate(alone=Exists(alone))
        .filter(
            Q(alone=True)
            | Q(is_key_care=True, key_care__icontains='"vagrant"')
            | Q(is_key_care=True, key_care__icontains='"no_guardian"')
            | Q(dropout_risk=DropoutRisk.DROPPED_OUT)
        )
        .only("child_id", "residence_division_id", "key_care", "dropout_risk")
        .order_by("pk")
    )
    return [(child, child.alone) for child in children]


def alerts_from_visit(*, visit: Visit, child: Child, actor: User) -> list[Alert]:
    """After a visit is recorded and the child classified again: what the visit found
    (独自居住, 流浪) and what the rules now say (监护缺失, 流浪)."""
    where = f"{visit.visited_on:%Y-%m-%d}{visit.get_kind_display()}"
    kinds = _child_kinds(child, alone=visit.lives_alone, vagrant=visit.vagrant, dropout=False)
    findings = _findings(child, kinds, source=Source.VISIT, ref=str(visit.token), where=where)
    return alerts_raise(findings=findings, actor=actor)


def alerts_from_assessment(*, assessment: Assessment, actor: User) -> list[Alert]:
    """A 家庭监护能力评估 graded 监护缺失 raises a 监护缺失 alert."""
    if assessment.grade != MISSING:
        return []
    finding = Finding(
        child=assessment.child,
        kind=Kind.NO_GUARDIAN,
        source=Source.ASSESSMENT,
        ref=str(assessment.pk),
        detail=(
            f"{assessment.assessed_on:%Y-%m-%d}家庭监护能力评估为{assessment.grade}"
            f"（{assessment.score}分）"
        ),
    )
    return alerts_raise(findings=[finding], actor=actor)


# --- handling ------------------------------------------------------------------------


def alerts_page(*, user: User, status: str, kind: str, page_number: int = 1) -> Page[Alert]:
    """One page of the alerts in the user's scope (``status`` "" for all, ``kind`` "" for
    every kind), newest first; the children listed are audited."""
    require(user, Capability.HANDLE_ALERTS)
    alerts = alerts_for(user=user)
    if status:
        alerts = alerts.filter(status=status)
    if kind:
        alerts = alerts.filter(kind=kind)
    return audited_page(
        alerts.order_by("-raised_at", "-id"),
        user=user,
        page_number=page_number,
        page_size=PAGE_SIZE,
        object_type="alert",
        detail="浏览预警",
        child_of=lambda alert: alert.child.child_id,
    )


def _open_locked(*, user: User, alert_id: int) -> Alert:
    found = access_alert(user=user, alert_id=alert_id)  # 404 for others and out of scope
    # Lock the alert row alone (the child join is inner; the case join would be outer).
    alert = Alert.objects.select_for_update().select_related("child").get(pk=found.pk)
    if alert.status != Status.OPEN:
        raise ValidationError("该预警已处理。")
    return alert


def _close(alert: Alert, *, user: User, status: Status, detail: str) -> None:
    alert.status = status
    alert.handled_by = user
    alert.handled_at = clock.now()
    alert.save(update_fields=["status", "handled_by", "handled_at", "reason", "case"])
    audit_record(
        actor=user,
        action=Action.UPDATE,
        object_type="alert",
        object_ids=[str(alert.pk)],
        child_ids=[alert.child.child_id],
        detail=detail,
    )


@transaction.atomic
def alert_dismiss(*, user: User, alert_id: int, reason: str) -> Alert:
    """经排查不属实 or otherwise needing no case: closed with the reason (kept, not audited in
    full: it is free text)."""
    alert = _open_locked(user=user, alert_id=alert_id)
    reason = reason.strip()
    if not reason:
        raise ValidationError("请填写排除理由。")
    alert.reason = reason
    _close(
        alert, user=user, status=Status.DISMISSED, detail=f"排除预警：{alert.get_kind_display()}"
    )
    return alert


@transaction.atomic
def alert_to_case(*, user: User, alert_id: int, police_needed: bool, note: str) -> Case:
    """Open a protection case for the alert's child (with the police when needed), or join the
    child's open case; the alert is closed as 已转案件 with the case."""
    alert = _open_locked(user=user, alert_id=alert_id)
    case = case_open_for_child(
        user=user,
        child=alert.child,
        situations=[SITUATION_OF[Kind(alert.kind)]],
        police_needed=police_needed,
        note=note.strip(),
    )
    alert.case = case
    _close(
        alert,
        user=user,
        status=Status.CASE,
        detail=f"预警转案件 {case.number}：{alert.get_kind_display()}",
    )
    return case
