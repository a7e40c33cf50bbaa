"""Filing reports and moving cases through the loop: each action checks who may take it, from
which state and with what record, writes the step, the audit entry and the reminders to the
people who act next, in one transaction.

Reminder texts and audit details name cases by number and children by child id, never by
name or ID number.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.urls import reverse

from tonghu import clock
from tonghu.accounts.models import User
from tonghu.accounts.roles import Capability, Department, Role
from tonghu.accounts.scope import require, within
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
    SITUATION_LABELS,
    Case,
    CaseEvent,
    CaseFile,
    Report,
    Source,
    Transfer,
)
from tonghu.cases.selectors import access_case, access_incoming_transfer, file_of, is_police
from tonghu.children.models import Child
from tonghu.children.selectors import access_child
from tonghu.conferences.selectors import open_tasks_count
from tonghu.divisions.codes import LEVEL_ORDER, Level, level_of, prefix
from tonghu.divisions.models import Division
from tonghu.notifications.models import Notification
from tonghu.notifications.services import Reminder, notify
from tonghu.policy.profile import Cases as CasesPolicy
from tonghu.services.lists import profile_in_force
from tonghu.web.attachments import attachment_check, attachment_path, attachment_store

CASE_FILES = "case_files"
# The most local level each actor works at; escalation goes up from the step's owner.
ACTOR_LEVELS = {
    Actor.CHILD_DIRECTOR: Level.VILLAGE,
    Actor.SUPERVISOR: Level.TOWN,
    Actor.POLICE: Level.COUNTY,
    Actor.COUNTY_STAFF: Level.COUNTY,
}
TOP_LEVEL = Level.CITY  # escalation stops at the city's civil affairs
ESCALATION_LABELS = {Level.TOWN: "乡镇（街道）", Level.COUNTY: "区县", Level.CITY: "市级"}
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


@dataclass(frozen=True)
class ReportInput:
    """What a reporter states; ``child`` is a ledger child picked by staff (already gated)."""

    reporter_kind: str
    organisation: str
    situations: Sequence[str]
    place: Division
    place_detail: str
    occurred_at: dt.datetime
    observed: str
    child_name: str = ""
    child_sex: str = ""
    child_age: int | None = None
    child_id_number: str = ""
    child: Child | None = None


# --- who -----------------------------------------------------------------------------


def actor_of(user: User) -> Actor | None:
    """The part the user plays in a case, or None (reporters, officers of other departments)."""
    if is_police(user):
        return Actor.POLICE
    try:
        return Actor(user.role)
    except ValueError:
        return None


def _level_rank(level: Level) -> int:
    return LEVEL_ORDER.index(level)


def cases_policy(case: Case) -> CasesPolicy:
    return profile_in_force(county_code=case.county_id[:6], day=clock.today()).cases


def _people(case: Case, actors: Iterable[Actor]) -> list[User]:
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
    if own is None or _level_rank(own) < _level_rank(level):
        return ""
    return prefix(code, level).ljust(12, "0")


def _ancestors(code: str, *, down_to: Level) -> list[str]:
    """The codes of the divisions from the city down to ``down_to`` containing ``code``."""
    levels = LEVEL_ORDER[_level_rank(Level.CITY) : _level_rank(down_to) + 1]
    return [prefix(code, level).ljust(12, "0") for level in levels]


def _notify(case: Case, users: Iterable[User], *, kind: Notification.Kind, text: str) -> None:
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


def _audit(user: User | None, case: Case, action: Action, detail: str) -> None:
    audit_record(
        actor=user,
        action=action,
        object_type="case",
        object_ids=[case.number],
        child_ids=[case.child.child_id] if case.child else [],
        detail=detail,
    )


def _enter(case: Case, state: State, *, now: dt.datetime) -> None:
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


def _save(case: Case) -> None:
    case.version += 1
    case.save()


def _placeholder() -> str:
    """A unique stand-in until the row's id gives it its number (same transaction)."""
    return f"tmp{uuid.uuid4().hex[:20]}"


def _numbered(kind: str, county: str, day: dt.date, pk: int) -> str:
    return f"{kind}{county}{day:%Y%m%d}{pk:06d}"


# --- filing -------------------------------------------------------------------------


@transaction.atomic
def report_file(
    *, user: User, report: ReportInput, files: Sequence[UploadedFile[bytes]] = ()
) -> Report:
    """File a 强制报告: it opens a case, or joins the child's open one; returns it with its
    receipt number. The police and the county's civil affairs are told at once."""
    require(user, Capability.FILE_REPORTS)
    checked = [(upload, attachment_check(upload, what="证据材料")) for upload in files]
    now = clock.now()
    child = report.child or _ledger_child(report)
    case = _open_case_of(child)
    joined = case is not None
    if case is None:
        case = _case_new(place=report.place, child=child, situations=report.situations, now=now)
    filed = Report.objects.create(
        receipt_no=_placeholder(),
        case=case,
        reporter=user,
        reporter_kind=report.reporter_kind,
        organisation=report.organisation,
        situations=list(report.situations),
        place=report.place,
        place_detail=report.place_detail,
        occurred_at=report.occurred_at,
        observed=report.observed,
        child=child,
        child_name=report.child_name,
        child_sex=report.child_sex,
        child_age=report.child_age,
        child_id_number=report.child_id_number,
        reported_at=now,
    )
    filed.receipt_no = _numbered("BG", report.place.code[:6], clock.today(), filed.pk)
    filed.save(update_fields=["receipt_no"])
    for upload, file_type in checked:
        _file_store(case=case, report=filed, user=user, upload=upload, file_type=file_type)
    labels = "、".join(SITUATION_LABELS[code] for code in report.situations)
    if joined:
        case.situations = list(dict.fromkeys([*case.situations, *report.situations]))
        _save(case)
        case_event(
            case=case,
            kind=CaseEvent.Kind.REPORT_JOINED,
            by=user,
            text=f"新报告 {filed.receipt_no} 并入本案（{labels}）",
        )
        _notify(
            case,
            _people(case, [Actor.COUNTY_STAFF, Actor.SUPERVISOR]),
            kind=Notification.Kind.CASE_NEW,
            text=f"案件 {case.number} 收到新的强制报告 {filed.receipt_no}，请查看。",
        )
    else:
        case_event(
            case=case,
            kind=CaseEvent.Kind.OPENED,
            by=user,
            text=f"收到强制报告 {filed.receipt_no}（{labels}），立案",
            to_state=State.REPORTED,
        )
        limit = cases_policy(case).limit(State.REPORTED).label
        _notify(
            case,
            _people(case, [Actor.POLICE, Actor.COUNTY_STAFF]),
            kind=Notification.Kind.CASE_NEW,
            text=f"新强制报告：案件 {case.number}（{labels}），须在{limit}内受理出警。",
        )
    audit_record(
        actor=user,
        action=Action.CREATE,
        object_type="report",
        object_ids=[filed.receipt_no, case.number],
        child_ids=[child.child_id] if child else [],
        detail="提交强制报告" + ("（并入未结案件）" if joined else ""),
    )
    return filed


def _ledger_child(report: ReportInput) -> Child | None:
    """The ledger child with the reported ID number in the place's county, if any. The
    reporter is never told whether one was found."""
    number = report.child_id_number.strip().upper()
    if not number:
        return None
    county = prefix(report.place.code, Level.COUNTY)
    return (
        Child.objects.filter(within("residence_division_id", county), id_number=number)
        .order_by("child_id")
        .first()
    )


def _open_case_of(child: Child | None) -> Case | None:
    if child is None:
        return None
    return (
        Case.objects.select_for_update()
        .filter(child=child, merged_into__isnull=True)
        .exclude(state=State.CLOSED)
        .first()
    )


def _case_new(
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
        number=_placeholder(),
        county_id=county,
        division_id=division_id,
        child=child,
        source=source,
        situations=list(situations),
        state=state,
        state_since=now,
        opened_at=now,
    )
    _enter(case, state, now=now)
    case.save()
    case.number = _numbered("AJ", county[:6], clock.today(), case.pk)
    case.save(update_fields=["number"])
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
    if _level_rank(Level(user.division.level)) > _level_rank(proposer_level):
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
    inside = own is not None and _level_rank(own) >= _level_rank(Level.TOWN)
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


@transaction.atomic
def case_step(
    *, user: User, number: str, step: Step, version: int, data: Mapping[str, Any]
) -> Case:
    """Take one step of the loop. Refusals raise ValidationError with the reason in Chinese;
    a case changed since ``version`` raises CaseConflictError; nothing is saved either way."""
    case = _locked(user=user, number=number)
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
        _enter(case, after, now=now)
    elif step is Step.FOLLOW_UP:
        case.due_at = now + dt.timedelta(days=cases_policy(case).follow_up_every_days)
        case.escalations, case.escalated_to = 0, ""
    _save(case)
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
    _audit(user, case, Action.UPDATE, f"{STEPS[step].label}（{before}→{after or before}）")
    _tell_next(case, user=user)
    return case


def _locked(*, user: User, number: str) -> Case:
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


def _tell_next(case: Case, *, user: User) -> None:
    """Remind the people who may take the next step (never the one who just acted)."""
    actors = {a for s in steps_from(State(case.state)) for a in STEPS[s].actors}
    people = [person for person in _people(case, actors) if person.pk != user.pk]
    if case.state == State.CLOSED or not people:
        return
    due = f"，办理期限 {case.due_at:%Y-%m-%d %H:%M}" if case.due_at else ""
    _notify(
        case,
        people,
        kind=Notification.Kind.CASE_STEP,
        text=f"案件 {case.number} 已进入“{case.state_label}”，请办理下一步{due}。",
    )


# --- escalation ----------------------------------------------------------------------


def owner_level(state: State) -> Level:
    """The most local level that may take the next step from ``state``."""
    actors = {a for s in steps_from(state) for a in STEPS[s].actors}
    return max((ACTOR_LEVELS[a] for a in actors), key=_level_rank)


def escalation_target(state: State, escalations: int) -> Level:
    """The level an overdue step reaches after ``escalations`` raises (never above the city)."""
    rank = max(_level_rank(owner_level(state)) - escalations, _level_rank(TOP_LEVEL))
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
    most = _level_rank(owner_level(state)) - _level_rank(TOP_LEVEL)
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
    _save(case)
    hours = (now - case.due_at).total_seconds() / 3600 if case.due_at else 0.0
    text = (
        f"案件 {case.number}“{case.state_label}”已超过办理时限"
        f"（逾期{hours:.1f}小时），升级至{ESCALATION_LABELS[target]}督办。"
    )
    case_event(case=case, kind=CaseEvent.Kind.ESCALATED, by=None, text=text)
    _notify(
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
        return _people(case, [Actor.SUPERVISOR])
    if target is Level.COUNTY:
        return _people(case, [Actor.COUNTY_STAFF])
    city = prefix(case.division_id, Level.CITY).ljust(12, "0")
    police_step = any(Actor.POLICE in STEPS[s].actors for s in steps_from(state))
    wanted = Q(role=Role.CITY_STAFF)
    if police_step:
        wanted |= Q(role=Role.DEPARTMENT_OFFICER, department=Department.PUBLIC_SECURITY)
    return list(User.objects.filter(wanted, division_id=city, is_active=True).order_by("pk"))


# --- files --------------------------------------------------------------------------


def _file_store(
    *,
    case: Case,
    user: User,
    upload: UploadedFile[bytes],
    file_type: str,
    report: Report | None = None,
    description: str = "",
) -> CaseFile:
    relative = attachment_store(
        folder=CASE_FILES, county_code=case.county_id[:6], upload=upload, file_type=file_type
    )
    return CaseFile.objects.create(
        case=case,
        report=report,
        description=description or (f"报告 {report.receipt_no} 的证据" if report else ""),
        file_path=relative,
        file_type=file_type,
        file_size=upload.size or 0,
        uploaded_by=user,
        uploaded_at=clock.now(),
    )


# --- cases from warnings -------------------------------------------------------------


@transaction.atomic
def case_open_for_child(
    *, user: User, child: Child, situations: Sequence[str], police_needed: bool, note: str
) -> Case:
    """Open a case for a ledger child from a 预警 (the Guangzhou loop's 介入): with the police
    when the child may be in danger (the case starts at 已报告), otherwise straight at the
    town's assessment. A child with an open case gets that case back, with the note on it."""
    require(user, Capability.HANDLE_ALERTS)
    labels = "、".join(SITUATION_LABELS[code] for code in situations)
    existing = _open_case_of(child)
    if existing is not None:
        existing.situations = list(dict.fromkeys([*existing.situations, *situations]))
        _save(existing)
        case_event(
            case=existing,
            kind=CaseEvent.Kind.REPORT_JOINED,
            by=user,
            text=f"预警并入（{labels}）：{note}",
        )
        _audit(user, existing, Action.UPDATE, "预警并入未结案件")
        return existing
    state = State.REPORTED if police_needed else State.TOWN_NOTIFIED
    place = Division.objects.get(code=child.residence_division_id)
    case = _case_new(
        place=place,
        child=child,
        situations=situations,
        now=clock.now(),
        state=state,
        source=Source.ALERT,
    )
    case_event(
        case=case,
        kind=CaseEvent.Kind.OPENED,
        by=user,
        text=f"预警转案件（{labels}）：{note}",
        to_state=state,
    )
    _audit(user, case, Action.CREATE, "预警转案件")
    _tell_next(case, user=user)
    return case


@transaction.atomic
def case_file_add(
    *, user: User, number: str, upload: UploadedFile[bytes], description: str
) -> CaseFile:
    """Add evidence or a document to a case the user may open (stored outside the web root)."""
    case = _locked(user=user, number=number)
    if actor_of(user) is None:
        raise ValidationError("您的角色不能为案件上传材料。")
    file_type = attachment_check(upload, what="案件材料")
    kept = _file_store(
        case=case, user=user, upload=upload, file_type=file_type, description=description
    )
    case_event(case=case, kind=CaseEvent.Kind.FILE_ADDED, by=user, text=f"上传材料：{description}")
    _audit(user, case, Action.CREATE, f"上传案件材料 {kept.pk}")
    return kept


def case_file_open(*, user: User, number: str, file_id: int) -> tuple[Path, CaseFile]:
    """A case file's path, through the case's scope gate; every opening is audited."""
    case = access_case(user=user, number=number)
    kept = file_of(case=case, file_id=file_id)
    path = attachment_path(folder=CASE_FILES, relative=kept.file_path)
    _audit(user, case, Action.EXPORT, f"查看案件材料 {kept.pk}")
    return path, kept


# --- the child -------------------------------------------------------------------------


@transaction.atomic
def case_link_child(*, user: User, number: str, child_id: str) -> Case:
    """Tie the case to the ledger child it is about. If the child already has an open case,
    this one joins it (reports, files and history move there) and the joined case is
    returned; the case then sits in the child's village."""
    case = _locked(user=user, number=number)
    if actor_of(user) not in (Actor.SUPERVISOR, Actor.COUNTY_STAFF):
        raise ValidationError("关联台账儿童须由儿童督导员或区县民政办理。")
    if not case.is_open:
        raise ValidationError("案件已结案，不能再关联儿童。")
    try:
        child = access_child(user=user, child_id=child_id.strip())
    except Http404 as missing:
        raise ValidationError("未在您辖区的台账中找到该儿童编号，请核对。") from missing
    if case.child_id == child.pk:
        raise ValidationError("本案已关联该儿童。")
    if case.child_id is not None:
        raise ValidationError("本案已关联其他儿童；如关联有误，请联系区县民政处理。")
    other = _open_case_of(child)
    if other is not None and other.pk != case.pk:
        return _merge(case, into=other, user=user)
    case.child = child
    case.division_id = child.residence_division_id
    _save(case)
    case_event(
        case=case, kind=CaseEvent.Kind.CHILD_LINKED, by=user, text=f"关联台账儿童 {child.child_id}"
    )
    _audit(user, case, Action.UPDATE, "关联台账儿童")
    return case


def _merge(case: Case, *, into: Case, user: User) -> Case:
    Report.objects.filter(case=case).update(case=into)
    CaseFile.objects.filter(case=case).update(case=into)
    into.situations = list(dict.fromkeys([*into.situations, *case.situations]))
    _save(into)
    case.merged_into = into
    _enter(case, State.CLOSED, now=clock.now())
    _save(case)
    case_event(case=into, kind=CaseEvent.Kind.MERGED, by=user, text=f"案件 {case.number} 并入本案")
    case_event(case=case, kind=CaseEvent.Kind.MERGED, by=user, text=f"并入案件 {into.number}")
    _audit(user, into, Action.UPDATE, f"案件 {case.number} 并入本案")
    return into


# --- transfers -----------------------------------------------------------------------


@transaction.atomic
def case_transfer_ask(*, user: User, number: str, to_county: str, reason: str) -> Transfer:
    """Hand an open case to another county's civil affairs (the child has moved there)."""
    case = _locked(user=user, number=number)
    if actor_of(user) is not Actor.COUNTY_STAFF:
        raise ValidationError("案件移交须由区县民政办理。")
    if not case.is_open:
        raise ValidationError("案件已结案，不能移交。")
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "请填写移交原因。"})
    target = Division.objects.filter(code=to_county, level=Level.COUNTY).first()
    if target is None:
        raise ValidationError({"to_county": "接收区县代码有误，请选择县级区划。"})
    if target.code == case.county_id:
        raise ValidationError({"to_county": "接收区县与本案承办区县相同。"})
    if case.transfers.filter(status=Transfer.Status.PENDING).exists():
        raise ValidationError("本案已有待接收的移交申请。")
    now = clock.now()
    transfer = Transfer.objects.create(
        case=case,
        from_county_id=case.county_id,
        to_county=target,
        reason=reason,
        asked_by=user,
        asked_at=now,
        due_at=now + dt.timedelta(days=cases_policy(case).transfer_accept_days),
    )
    case_event(
        case=case,
        kind=CaseEvent.Kind.TRANSFER_ASKED,
        by=user,
        text=f"申请移交{target.name}：{reason}",
    )
    _audit(user, case, Action.UPDATE, f"申请移交至 {target.code}")
    receivers = User.objects.filter(role=Role.COUNTY_STAFF, division=target, is_active=True)
    notify(
        reminders=[
            Reminder(
                user=receiver,
                kind=Notification.Kind.CASE_STEP,
                text=f"{user.division.name}申请将案件 {case.number} 移交你区县，请接收。",
                url=reverse("cases:transfers"),
                key=f"transfer:{transfer.pk}",
            )
            for receiver in receivers
        ]
    )
    return transfer


@transaction.atomic
def transfer_accept(*, user: User, transfer_id: int, division_code: str) -> Case:
    """The receiving county takes the case over, placing it in the child's new town or village;
    the sending county no longer sees it. The loop goes on from the state it was in."""
    transfer = access_incoming_transfer(user=user, transfer_id=transfer_id)
    place = (
        Division.objects.filter(within("code", transfer.to_county.prefix), code=division_code)
        .exclude(level=Level.COUNTY)
        .first()
    )
    if place is None:
        raise ValidationError({"division": "请选择儿童在本区县居住的乡镇（街道）或村（社区）。"})
    case = Case.objects.select_for_update().get(pk=transfer.case_id)
    case.county_id = transfer.to_county_id
    case.division = place
    _save(case)
    _answer(transfer, user=user, status=Transfer.Status.ACCEPTED, answer="")
    case_event(
        case=case,
        kind=CaseEvent.Kind.TRANSFER_ACCEPTED,
        by=user,
        text=f"{transfer.to_county.name}接收移交，儿童现居{place.name}",
    )
    _audit(user, case, Action.UPDATE, f"接收移交（自 {transfer.from_county_id}）")
    _tell_next(case, user=user)
    return case


@transaction.atomic
def transfer_refuse(*, user: User, transfer_id: int, answer: str) -> Transfer:
    transfer = access_incoming_transfer(user=user, transfer_id=transfer_id)
    answer = answer.strip()
    if not answer:
        raise ValidationError({"answer": "请填写拒绝接收的理由。"})
    _answer(transfer, user=user, status=Transfer.Status.REFUSED, answer=answer)
    case_event(
        case=transfer.case,
        kind=CaseEvent.Kind.TRANSFER_REFUSED,
        by=user,
        text=f"{transfer.to_county.name}拒绝接收：{answer}",
    )
    _audit(user, transfer.case, Action.UPDATE, "拒绝接收移交")
    return transfer


def _answer(transfer: Transfer, *, user: User, status: Transfer.Status, answer: str) -> None:
    transfer.status = status
    transfer.answered_by = user
    transfer.answered_at = clock.now()
    transfer.answer = answer
    transfer.save(update_fields=["status", "answered_by", "answered_at", "answer"])
