"""Time limits and escalation: an overdue step is raised to the level above its owner, one
level more for each further limit, up to the city; run from cron (``tonghu escalate``)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q

from tonghu import clock
from tonghu.accounts.models import User
from tonghu.accounts.roles import Department, Role
from tonghu.audit.models import Action
from tonghu.audit.services import audit_record
from tonghu.cases.machine import (
    STEPS,
    Actor,
    State,
    steps_from,
)
from tonghu.cases.models import (
    Case,
    CaseEvent,
)
from tonghu.cases.services import (
    case_event,
    case_notify,
    case_save,
    cases_policy,
    level_rank,
    people_at,
)
from tonghu.divisions.codes import LEVEL_ORDER, Level, prefix
from tonghu.notifications.models import Notification

# The most local level each actor works at; escalation goes up from the step's owner.
ACTOR_LEVELS = {
    Actor.CHILD_DIRECTOR: Level.VILLAGE,
    Actor.SUPERVISOR: Level.TOWN,
    Actor.POLICE: Level.COUNTY,
    Actor.COUNTY_STAFF: Level.COUNTY,
}
TOP_LEVEL = Level.CITY  # escalation stops at the city's civil affairs
ESCALATION_LABELS = {Level.TOWN: "乡镇（街道）", Level.COUNTY: "区县", Level.CITY: "市级"}

# --- escalation ----------------------------------------------------------------------


def owner_level(state: State) -> Level:
    """The most local level that may take the next step from ``state``."""
    actors = {a for s in steps_from(state) for a in STEPS[s].actors}
    return max((ACTOR_LEVELS[a] for a in actors), key=level_rank)


def escalation_target(state: State, escalations: int) -> Level:
    """The level an overdue step reaches after ``escalations`` raises (never above the city)."""
    rank = max(level_rank(owner_level(state)) - escalations, level_rank(TOP_LEVEL))
    return LEVEL_ORDER[rank]


def escalations_due(case: Case, *, now: dt.datetime) -> int:
    """How many raises the case's lateness calls for: one when the limit passes, one more
    for each further whole limit, up to the city."""
    if case.due_at is None or now <= case.due_at:
        return 0
    state = State(case.state)
    policy = cases_policy(case)
    period = (
        dt.timedelta(days=policy.follow_up_every_days)
        if state is State.MONITORING
        else policy.limit(state).delta
    )
    wanted = 1 + int((now - case.due_at) / period)
    most = level_rank(owner_level(state)) - level_rank(TOP_LEVEL)
    return min(wanted, max(most, 1))


def cases_escalate(*, now: dt.datetime | None = None) -> list[Case]:
    """Raise every overdue step to the level its lateness calls for; returns those raised.
    Run from cron (``tonghu escalate``) every few minutes; running it again adds nothing."""
    now = now or clock.now()
    raised = []
    overdue = Case.objects.filter(due_at__lt=now, merged_into__isnull=True).exclude(
        state=State.CLOSED
    )
    for case_id in overdue.values_list("pk", flat=True):
        case = _escalate_one(case_id, now=now)
        if case is not None:
            raised.append(case)
    return raised


@transaction.atomic
def _escalate_one(case_id: int, *, now: dt.datetime) -> Case | None:
    case = Case.objects.select_for_update().get(pk=case_id)
    wanted = escalations_due(case, now=now)
    if wanted <= case.escalations:
        return None
    state = State(case.state)
    target = escalation_target(state, wanted)
    case.escalations = wanted
    case.escalated_to = target.value
    case_save(case)
    hours = (now - case.due_at).total_seconds() / 3600 if case.due_at else 0.0
    text = (
        f"案件 {case.number}“{case.state_label}”已超过办理时限"
        f"（逾期{hours:.1f}小时），升级至{ESCALATION_LABELS[target]}督办。"
    )
    case_event(case=case, kind=CaseEvent.Kind.ESCALATED, by=None, text=text)
    case_notify(
        case,
        _escalation_people(case, target, state),
        kind=Notification.Kind.CASE_OVERDUE,
        text=text,
    )
    audit_record(
        actor=None,
        username="system",
        action=Action.UPDATE,
        object_type="case",
        object_ids=[case.number],
        detail=f"逾期升级督办至{ESCALATION_LABELS[target]}",
    )
    return case


def _escalation_people(case: Case, target: Level, state: State) -> list[User]:
    if target is Level.TOWN:
        return people_at(case, [Actor.SUPERVISOR])
    if target is Level.COUNTY:
        return people_at(case, [Actor.COUNTY_STAFF])
    city = prefix(case.division_id, Level.CITY).ljust(12, "0")
    police_step = any(Actor.POLICE in STEPS[s].actors for s in steps_from(state))
    wanted = Q(role=Role.CITY_STAFF)
    if police_step:
        wanted |= Q(role=Role.DEPARTMENT_OFFICER, department=Department.PUBLIC_SECURITY)
    return list(User.objects.filter(wanted, division_id=city, is_active=True).order_by("pk"))
