"""The case and its steps: who plays which part, the history every action writes, and
taking one step of the loop (who may, from which state, with what record), with the audit
entry and the reminders to the people who act next, in one transaction.

Reminder texts and audit details name cases by number and children by child id, never by
name or ID number. Filing reports lives in intake.py, escalation in escalation.py,
transfers in transfers.py.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from tonghu import clock
from tonghu.accounts.models import User
from tonghu.accounts.roles import Department, Role
from tonghu.audit.models import Action
from tonghu.audit.services import audit_record
from tonghu.cases.forms import STEP_FORMS, step_record
from tonghu.cases.machine import (
    ACTOR_LABELS,
    CLOSURE_REASONS,
    STATE_LABELS,
    STEPS,
    UNFOUNDED,
    Actor,
    State,
    Step,
    steps_from,
)
from tonghu.cases.models import (
    Case,
    CaseEvent,
    Source,
)
from tonghu.cases.selectors import access_case, is_police
from tonghu.children.models import Child
from tonghu.conferences.selectors import open_tasks_count
from tonghu.divisions.codes import LEVEL_ORDER, Level, level_of, prefix
from tonghu.divisions.models import Division
from tonghu.notifications.models import Notification
from tonghu.notifications.services import Reminder, notify
from tonghu.policy.profile import Cases as CasesPolicy
from tonghu.services.lists import profile_in_force
from tonghu.stats.models import Measure
from tonghu.stats.services import figure_add

# Ending the loop without the minimum monitoring: the child is beyond the loop's reach.
ENDS_REGARDLESS = frozenset(CLOSURE_REASONS[2:])


class CaseConflictError(Exception):
    """The case changed since the form was opened; nothing was saved."""

    def __init__(self, case: Case) -> None:
        super().__init__(
            f"案件 {case.number} 已被他人更新（现处于“{case.state_label}”），"
            "本次操作未保存，请刷新页面后重新办理。"
        )
        self.case = case


# --- who -----------------------------------------------------------------------------


def actor_of(user: User) -> Actor | None:
    """The part the user plays in a case, or None (reporters, officers of other departments)."""
    if is_police(user):
        return Actor.POLICE
    try:
        return Actor(user.role)
    except ValueError:
        return None


def level_rank(level: Level) -> int:
    return LEVEL_ORDER.index(level)


def cases_policy(case: Case) -> CasesPolicy:
    return profile_in_force(county_code=case.county_id[:6], day=clock.today()).cases


def people_at(case: Case, actors: Iterable[Actor]) -> list[User]:
    """The active users who play ``actors`` where the case is."""
    place = case.division_id
    wanted = Q(pk__in=[])
    for actor in set(actors):
        if actor is Actor.POLICE:
            wanted |= Q(
                role=Role.DEPARTMENT_OFFICER,
                department=Department.PUBLIC_SECURITY,
                division_id__in=_ancestors(place, down_to=Level.COUNTY),
            )
        elif actor is Actor.COUNTY_STAFF:
            wanted |= Q(role=Role.COUNTY_STAFF, division_id=case.county_id)
        elif actor is Actor.SUPERVISOR:
            wanted |= Q(role=Role.SUPERVISOR, division_id=_code_at(place, Level.TOWN))
        elif actor is Actor.CHILD_DIRECTOR:
            wanted |= Q(role=Role.CHILD_DIRECTOR, division_id=_code_at(place, Level.VILLAGE))
    return list(User.objects.filter(wanted, is_active=True).order_by("pk"))


def _code_at(code: str, level: Level) -> str:
    """The code of the division at ``level`` containing ``code`` ('' if ``code`` is above it)."""
    own = level_of(code)
    if own is None or level_rank(own) < level_rank(level):
        return ""
    return prefix(code, level).ljust(12, "0")


def _ancestors(code: str, *, down_to: Level) -> list[str]:
    """The codes of the divisions from the city down to ``down_to`` containing ``code``."""
    levels = LEVEL_ORDER[level_rank(Level.CITY) : level_rank(down_to) + 1]
    return [prefix(code, level).ljust(12, "0") for level in levels]


def case_notify(case: Case, users: Iterable[User], *, kind: Notification.Kind, text: str) -> None:
    url = reverse("cases:detail", args=[case.number])
    key = f"case:{case.number}:{case.version}:{kind}"
    notify(reminders=[Reminder(user=u, kind=kind, text=text, url=url, key=key) for u in users])


# --- the record ----------------------------------------------------------------------


def case_event(
    *,
    case: Case,
    kind: CaseEvent.Kind,
    by: User | None,
    text: str = "",
    data: Mapping[str, Any] | None = None,
    step: Step | None = None,
    from_state: str = "",
    to_state: str = "",
    late: bool = False,
) -> CaseEvent:
    """Add one row to the case's history (every action on a case goes through here)."""
    return CaseEvent.objects.create(
        case=case,
        kind=kind,
        by=by,
        text=text[:300],
        data=dict(data or {}),
        step=step.value if step else "",
        from_state=from_state,
        to_state=to_state,
        at=clock.now(),
        late=late,
    )


def case_audit(user: User | None, case: Case, action: Action, detail: str) -> None:
    audit_record(
        actor=user,
        action=action,
        object_type="case",
        object_ids=[case.number],
        child_ids=[case.child.child_id] if case.child else [],
        detail=detail,
    )


def case_enter(case: Case, state: State, *, now: dt.datetime) -> None:
    """Put the case in ``state`` with a fresh time limit and no escalation."""
    case.state = state
    case.state_since = now
    case.escalations = 0
    case.escalated_to = ""
    if state is State.CLOSED:
        case.due_at = None
        case.closed_at = now
    elif state is State.MONITORING:
        case.due_at = now + dt.timedelta(days=cases_policy(case).follow_up_every_days)
    else:
        case.due_at = now + cases_policy(case).limit(state).delta


def case_save(case: Case) -> None:
    case.version += 1
    case.save()


def placeholder_number() -> str:
    """A unique stand-in until the row's id gives it its number (same transaction)."""
    return f"tmp{uuid.uuid4().hex[:20]}"


def numbered(kind: str, county: str, day: dt.date, pk: int) -> str:
    return f"{kind}{county}{day:%Y%m%d}{pk:06d}"


def open_case_of(child: Child | None) -> Case | None:
    if child is None:
        return None
    return (
        Case.objects.select_for_update()
        .filter(child=child, merged_into__isnull=True)
        .exclude(state=State.CLOSED)
        .first()
    )


def case_new(
    *,
    place: Division,
    child: Child | None,
    situations: Sequence[str],
    now: dt.datetime,
    state: State = State.REPORTED,
    source: Source = Source.REPORT,
) -> Case:
    county = prefix(place.code, Level.COUNTY).ljust(12, "0")
    # A ledger child's case sits in the child's village; otherwise where it was found.
    division_id = child.residence_division_id if child is not None else place.code
    case = Case(
        number=placeholder_number(),
        county_id=county,
        division_id=division_id,
        child=child,
        source=source,
        situations=list(situations),
        state=state,
        state_since=now,
        opened_at=now,
    )
    case_enter(case, state, now=now)
    case.save()
    case.number = numbered("AJ", county[:6], clock.today(), case.pk)
    case.save(update_fields=["number"])
    figure_add(division_code=division_id, measure=Measure.CASE_OPENED, on=now.date())
    return case


# --- steps --------------------------------------------------------------------------


def step_refusal(*, user: User, case: Case, step: Step) -> str | None:
    """Why ``user`` may not take ``step`` on ``case`` now, in Chinese; None if they may."""
    rule = STEPS[step]
    state = State(case.state)
    if state not in rule.sources:
        allowed = "、".join(STEPS[s].label for s in steps_from(state)) or "无（已结案）"
        return f"案件当前处于“{STATE_LABELS[state]}”，不能“{rule.label}”。当前可办理：{allowed}。"
    actor = actor_of(user)
    if actor not in rule.actors:
        who = "或".join(ACTOR_LABELS[a] for a in Actor if a in rule.actors)
        return f"“{rule.label}”须由{who}办理，您的角色（{user.get_role_display()}）无权办理。"
    if rule.approval:
        return _approval_refusal(user=user, case=case, step=step)
    return None


def _approval_refusal(*, user: User, case: Case, step: Step) -> str | None:
    proposer = case.pending_by
    what = "帮扶方案" if step in (Step.APPROVE_PLAN, Step.RETURN_PLAN) else "结案申请"
    if proposer is None:
        return None
    if proposer.pk == user.pk:
        return f"{what}由您本人提交，须由另一名工作人员审批。"
    proposer_level = Level(proposer.division.level)
    if level_rank(Level(user.division.level)) > level_rank(proposer_level):
        return f"{proposer.get_role_display()}提交的{what}须由同级或上级工作人员审批。"
    return None


def _domain_refusal(case: Case, step: Step, record: Mapping[str, Any]) -> str | None:
    """Rules that depend on the case's record, beyond who and from where."""
    check = _DOMAIN_RULES.get(step)
    return check(case, record) if check else None


def _feedback_refusal(case: Case, record: Mapping[str, Any]) -> str | None:
    if case.state == State.PLAN_APPROVED and case.needs_intervention:
        return "帮扶方案确定需要监护干预，请先记录监护干预措施，再反馈处置情况。"
    return None


def _tasks_refusal(case: Case, record: Mapping[str, Any]) -> str | None:
    waiting = open_tasks_count(case=case)
    return f"尚有{waiting}项会商任务未完成，不能结案。" if waiting else None


def _closure_refusal(case: Case, record: Mapping[str, Any]) -> str | None:
    reason = record["reason"]
    if case.state == State.ASSESSED and reason != UNFOUNDED:
        return f"调查评估后直接结案仅限“{UNFOUNDED}”；其他情形须制定帮扶方案并跟踪监测。"
    if case.state == State.MONITORING and reason not in ENDS_REGARDLESS:
        return _monitoring_too_short(case) or _tasks_refusal(case, record)
    return _tasks_refusal(case, record)


def _town_refusal(case: Case, record: Mapping[str, Any]) -> str | None:
    town = record["town"]
    if not case.division_id.startswith(prefix(town, Level.COUNTY)):
        return "通报的乡镇（街道）不在本案所在区县。"
    own = level_of(case.division_id)
    inside = own is not None and level_rank(own) >= level_rank(Level.TOWN)
    if inside and not town.startswith(prefix(case.division_id, Level.TOWN)):
        return "通报的乡镇（街道）与儿童所在地不符。"
    return None


_DOMAIN_RULES: dict[Step, Callable[[Case, Mapping[str, Any]], str | None]] = {
    Step.FEEDBACK: _feedback_refusal,
    Step.REQUEST_CLOSURE: _closure_refusal,
    Step.APPROVE_CLOSURE: _tasks_refusal,
    Step.NOTIFY_TOWN: _town_refusal,
}


def _monitoring_too_short(case: Case) -> str | None:
    minimum = cases_policy(case).monitoring_min_days
    since = case.monitoring_since
    if since is None:
        return None
    earliest = since + dt.timedelta(days=minimum)
    if clock.today() < earliest:
        return (
            f"跟踪监测自{since:%Y-%m-%d}起不足{minimum}日，尚不能申请结案"
            f"（可于{earliest:%Y-%m-%d}起申请）。"
        )
    return None


def _count_step(case: Case, *, late: bool, closed: bool, now: dt.datetime) -> None:
    """The dashboard's live case figures: steps taken (and late), closures and their days."""
    day, division = timezone.localdate(now), case.division_id
    figure_add(division_code=division, measure=Measure.CASE_STEPS, on=day)
    if late:
        figure_add(division_code=division, measure=Measure.CASE_STEPS_LATE, on=day)
    if closed:
        figure_add(division_code=division, measure=Measure.CASE_CLOSED, on=day)
        days = (now - case.opened_at).days
        figure_add(division_code=division, measure=Measure.CASE_CLOSE_DAYS, on=day, by=days)


@transaction.atomic
def case_step(
    *, user: User, number: str, step: Step, version: int, data: Mapping[str, Any]
) -> Case:
    """Take one step of the loop. Refusals raise ValidationError with the reason in Chinese;
    a case changed since ``version`` raises CaseConflictError; nothing is saved either way."""
    case = case_locked(user=user, number=number)
    if case.version != version:
        raise CaseConflictError(case)
    refusal = step_refusal(user=user, case=case, step=step)
    if refusal:
        raise ValidationError(refusal)
    form = STEP_FORMS[step](data, case=case)
    if not form.is_valid():
        raise ValidationError(form.errors)
    record = step_record(form)
    refusal = _domain_refusal(case, step, form.cleaned_data)
    if refusal:
        raise ValidationError(refusal)
    now = clock.now()
    late = case.due_at is not None and now > case.due_at
    before = State(case.state)
    after = STEPS[step].target
    _apply(case, step, form.cleaned_data, user=user)
    if after is not None:
        case_enter(case, after, now=now)
    elif step is Step.FOLLOW_UP:
        case.due_at = now + dt.timedelta(days=cases_policy(case).follow_up_every_days)
        case.escalations, case.escalated_to = 0, ""
    case_save(case)
    _count_step(case, late=late, closed=after is State.CLOSED, now=now)
    case_event(
        case=case,
        kind=CaseEvent.Kind.STEP,
        by=user,
        step=step,
        text=STEPS[step].label,
        data=record,
        from_state=before,
        to_state=after or before,
        late=late,
    )
    case_audit(user, case, Action.UPDATE, f"{STEPS[step].label}（{before}→{after or before}）")
    tell_next(case, user=user)
    return case


def case_locked(*, user: User, number: str) -> Case:
    found = access_case(user=user, number=number)
    # Lock the row alone: PostgreSQL refuses FOR UPDATE over the nullable joins.
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("pending_by__division")
        .get(pk=found.pk)
    )


def _apply(case: Case, step: Step, cleaned: Mapping[str, Any], *, user: User) -> None:
    """What a step changes on the case beyond its state."""
    if step in (Step.PROPOSE_PLAN, Step.REQUEST_CLOSURE):
        case.pending_by = user
    elif step in (Step.APPROVE_PLAN, Step.RETURN_PLAN, Step.APPROVE_CLOSURE, Step.RETURN_CLOSURE):
        case.pending_by = None
    if step is Step.PROPOSE_PLAN:
        case.needs_intervention = bool(cleaned["intervention_needed"])
    if step is Step.NOTIFY_TOWN and not case.division_id.startswith(
        prefix(cleaned["town"], Level.TOWN)
    ):
        case.division_id = cleaned["town"]
    if step is Step.MONITOR:
        case.monitoring_since = clock.today()


def tell_next(case: Case, *, user: User) -> None:
    """Remind the people who may take the next step (never the one who just acted)."""
    actors = {a for s in steps_from(State(case.state)) for a in STEPS[s].actors}
    people = [person for person in people_at(case, actors) if person.pk != user.pk]
    if case.state == State.CLOSED or not people:
        return
    due = f"，办理期限 {case.due_at:%Y-%m-%d %H:%M}" if case.due_at else ""
    case_notify(
        case,
        people,
        kind=Notification.Kind.CASE_STEP,
        text=f"案件 {case.number} 已进入“{case.state_label}”，请办理下一步{due}。",
    )
