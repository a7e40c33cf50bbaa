"""Recording a case conference and working its tasks: each action checks who may take it,
writes the case's history, the audit entry and the reminders, in one transaction.

Reminder texts and audit details name cases by number and tasks by department, never a
child's or a participant's name.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse

from tonghu import clock
from tonghu.accounts.models import User
from tonghu.accounts.roles import Department, Role
from tonghu.audit.models import Action
from tonghu.audit.services import audit_record
from tonghu.cases.models import Case, CaseEvent
from tonghu.cases.selectors import access_case
from tonghu.cases.services import case_event, cases_policy
from tonghu.conferences.models import Conference, ConferenceTask, department_label
from tonghu.conferences.selectors import access_handled_task, may_record
from tonghu.divisions.codes import Level, prefix
from tonghu.notifications.models import Notification
from tonghu.notifications.services import Reminder, notify

DEPARTMENTS = frozenset(Department.values)


@dataclass(frozen=True)
class TaskInput:
    """One task the conference gives a department; no ``due_on``: the profile's limit."""

    department: str
    task: str
    due_on: dt.date | None = None


# --- shared --------------------------------------------------------------------------


def conference_task_days(case: Case) -> int:
    """The profile's time limit for conference tasks in the case's county (会商任务答复期限)."""
    return cases_policy(case).conference_task_days


def _history(case: Case, user: User, text: str, data: dict[str, Any]) -> None:
    case_event(case=case, kind=CaseEvent.Kind.CONFERENCE, by=user, text=text, data=data)


def _audit(user: User, case: Case, object_type: str, ids: Sequence[str], detail: str) -> None:
    audit_record(
        actor=user,
        action=Action.CREATE if object_type == "conference" else Action.UPDATE,
        object_type=object_type,
        object_ids=[*ids, case.number],
        child_ids=[case.child.child_id] if case.child else [],
        detail=detail,
    )


def _task_url(task: ConferenceTask) -> str:
    return reverse("conferences:task", args=[task.pk])


# --- recording -----------------------------------------------------------------------


@transaction.atomic
def conference_record(
    *,
    user: User,
    number: str,
    held_on: dt.date,
    departments: Sequence[str],
    participants: str,
    decisions: str,
    tasks: Sequence[TaskInput] = (),
) -> Conference:
    """Record a conference held on an open case and the tasks it gave departments; the
    departments' officers are told. Refusals raise ValidationError in Chinese."""
    if not may_record(user):
        raise PermissionDenied("只有区县民政工作人员和乡镇（街道）儿童督导员可以记录会商。")
    case = _locked_case(user=user, number=number)
    if not case.is_open:
        raise ValidationError("案件已结案，不能再会商。")
    chosen = list(dict.fromkeys(departments))
    default_due = held_on + dt.timedelta(days=conference_task_days(case))
    problems = [
        *_conference_problems(held_on=held_on, departments=chosen, decisions=decisions),
        *_task_problems(tasks, held_on=held_on),
    ]
    if problems:
        raise ValidationError(problems)
    conference = Conference.objects.create(
        case=case,
        held_on=held_on,
        departments=chosen,
        participants=participants.strip(),
        decisions=decisions.strip(),
        recorded_by=user,
        recorded_at=clock.now(),
    )
    created = ConferenceTask.objects.bulk_create(
        ConferenceTask(
            conference=conference,
            case=case,
            department=row.department,
            task=row.task.strip()[:500],
            due_on=row.due_on or default_due,
        )
        for row in tasks
    )
    _record_written(user, case, conference, created)
    _tell_departments(case, created)
    return conference


def _locked_case(*, user: User, number: str) -> Case:
    found = access_case(user=user, number=number)
    # Lock the row alone (PostgreSQL refuses FOR UPDATE over nullable joins): a closure
    # waits for the conference, so it counts the new tasks.
    case = Case.objects.select_for_update().get(pk=found.pk)
    case.child = found.child
    return case


def _conference_problems(*, held_on: dt.date, departments: list[str], decisions: str) -> list[str]:
    problems = []
    if held_on > clock.today():
        problems.append("会商日期不能晚于今天。")
    unknown = [code for code in departments if code not in DEPARTMENTS]
    if unknown:
        problems.append(f"不认识的部门：{'、'.join(unknown)}。")
    if len(departments) < 2:
        problems.append("会商须有两个以上部门参加。")
    if not decisions.strip():
        problems.append("请填写会商决定。")
    return problems


def _task_problems(tasks: Sequence[TaskInput], *, held_on: dt.date) -> list[str]:
    problems = []
    for number, row in enumerate(tasks, start=1):
        if row.department not in DEPARTMENTS:
            problems.append(f"第{number}项任务请选择责任部门。")
        if not row.task.strip():
            problems.append(f"第{number}项任务请填写任务内容。")
        if row.due_on is not None and row.due_on < held_on:
            problems.append(f"第{number}项任务的办理期限不能早于会商日期。")
    return problems


def _record_written(
    user: User, case: Case, conference: Conference, tasks: list[ConferenceTask]
) -> None:
    """The case's history and the audit entry of a new conference (no names in either)."""
    counts = f"{len(conference.departments)}个部门，{len(tasks)}项任务"
    data = {
        "conference": conference.pk,
        "held_on": conference.held_on.isoformat(),
        "departments": conference.departments,
        "tasks": [
            {"id": t.pk, "department": t.department, "due_on": t.due_on.isoformat()} for t in tasks
        ],
    }
    _history(case, user, f"会商：{counts}", data)
    ids = [str(conference.pk), *(str(t.pk) for t in tasks)]
    _audit(user, case, "conference", ids, f"记录案件会商（{counts}）")


def task_officers(case: Case, departments: Iterable[str]) -> dict[str, list[User]]:
    """The active officers of each department at the case's county or its city; for civil
    affairs also the county's civil-affairs staff."""
    wanted = set(departments)
    places = [case.county_id, prefix(case.county_id, Level.CITY).ljust(12, "0")]
    query = Q(role=Role.DEPARTMENT_OFFICER, department__in=wanted, division_id__in=places)
    if Department.CIVIL_AFFAIRS in wanted:
        query |= Q(role=Role.COUNTY_STAFF, division_id=case.county_id)
    found: dict[str, list[User]] = defaultdict(list)
    for person in User.objects.filter(query, is_active=True).order_by("pk"):
        found[person.department or Department.CIVIL_AFFAIRS].append(person)
    return found


def _tell_departments(case: Case, tasks: list[ConferenceTask]) -> None:
    officers = task_officers(case, (task.department for task in tasks))
    notify(
        reminders=[
            Reminder(
                user=person,
                kind=Notification.Kind.CASE_TASK,
                text=f"案件 {case.number} 会商确定了本部门的任务，"
                f"请于 {task.due_on:%Y-%m-%d} 前接收并办理。",
                url=_task_url(task),
                key=f"conference_task:{task.pk}",
            )
            for task in tasks
            for person in officers.get(task.department, [])
        ]
    )


# --- working a task ------------------------------------------------------------------


def _open_task(user: User, task_id: int) -> ConferenceTask:
    found = access_handled_task(user=user, task_id=task_id)
    task = ConferenceTask.objects.select_for_update().get(pk=found.pk)
    task.case = found.case
    if not task.is_open:
        raise ValidationError(f"该会商任务{task.get_status_display()}，不能再处理。")
    return task


def _handled(user: User, task: ConferenceTask, status: ConferenceTask.Status) -> ConferenceTask:
    """Save the task's new status with who and when, and write it down everywhere."""
    task.status = status
    task.handled_by = user
    task.handled_at = clock.now()
    task.save(update_fields=["status", "answer", "handled_by", "handled_at"])
    what = f"会商任务（{department_label(task.department)}）{task.get_status_display()}"
    _history(task.case, user, what, {"task": task.pk, "status": status.value})
    _audit(user, task.case, "conference_task", [str(task.pk)], what)
    if status != ConferenceTask.Status.ACCEPTED:
        _tell_recorder(user, task, what)
    return task


def _tell_recorder(user: User, task: ConferenceTask, what: str) -> None:
    recorder = task.conference.recorded_by
    if recorder.pk == user.pk or not recorder.is_active:
        return
    reminder = Reminder(
        user=recorder,
        kind=Notification.Kind.CASE_TASK,
        text=f"案件 {task.case.number} 的{what}。",
        url=_task_url(task),
        key=f"conference_task:{task.pk}:{task.status}",
    )
    notify(reminders=[reminder])


@transaction.atomic
def conference_task_accept(*, user: User, task_id: int) -> ConferenceTask:
    task = _open_task(user, task_id)
    if task.status == ConferenceTask.Status.ACCEPTED:
        raise ValidationError("该会商任务已接收，请在完成后记录完成情况。")
    return _handled(user, task, ConferenceTask.Status.ACCEPTED)


@transaction.atomic
def conference_task_done(*, user: User, task_id: int, answer: str) -> ConferenceTask:
    task = _open_task(user, task_id)
    if not answer.strip():
        raise ValidationError("请填写任务完成情况。")
    task.answer = answer.strip()
    return _handled(user, task, ConferenceTask.Status.DONE)


@transaction.atomic
def conference_task_decline(*, user: User, task_id: int, reason: str) -> ConferenceTask:
    task = _open_task(user, task_id)
    if not reason.strip():
        raise ValidationError("请填写退回理由。")
    task.answer = reason.strip()
    return _handled(user, task, ConferenceTask.Status.DECLINED)
