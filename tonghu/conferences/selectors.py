"""Scoped reads of conferences and their tasks.

A department officer sees its own department's tasks for cases within its jurisdiction, and
of each only what the work needs (case number, task, time limit, status, the place). County
civil affairs and town supervisors see the tasks of the cases in their scope; county civil
affairs may also mark them. Everyone else sees none; one task out of reach answers 404.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Prefetch, QuerySet

from tonghu.accounts.roles import Role
from tonghu.accounts.scope import access, scope_q
from tonghu.conferences.models import Conference, ConferenceTask

if TYPE_CHECKING:
    from tonghu.accounts.models import User
    from tonghu.cases.models import Case

RECORDERS = frozenset({Role.COUNTY_STAFF, Role.SUPERVISOR})  # may record a conference


def may_record(user: User) -> bool:
    """Whether the user's role records conferences (the case itself is gated separately)."""
    return user.is_active and user.role in RECORDERS


def sees_tasks(user: User) -> bool:
    return user.is_active and (user.role == Role.DEPARTMENT_OFFICER or user.role in RECORDERS)


def _tasks() -> QuerySet[ConferenceTask]:
    return ConferenceTask.objects.select_related("case", "case__division", "conference")


def tasks_for(*, user: User) -> QuerySet[ConferenceTask]:
    """The tasks the user may see."""
    if not sees_tasks(user):
        return ConferenceTask.objects.none()
    tasks = _tasks()
    if user.role == Role.DEPARTMENT_OFFICER:
        tasks = tasks.filter(department=user.department)
    return tasks.filter(scope_q(user, "case__division_id"))


def tasks_handled_by(*, user: User) -> QuerySet[ConferenceTask]:
    """The tasks the user may accept, complete or return: the officers of the task's
    department and the county's civil affairs."""
    if not handles_tasks(user):
        return ConferenceTask.objects.none()
    return tasks_for(user=user)


def access_task(*, user: User, task_id: int) -> ConferenceTask:
    """One task the user may see, or 404 for missing and forbidden alike."""
    return access(tasks_for(user=user), pk=task_id)


def access_handled_task(*, user: User, task_id: int) -> ConferenceTask:
    """One task the user may act on, or 404 for missing and forbidden alike."""
    return access(tasks_handled_by(user=user), pk=task_id)


def conferences_of(*, case: Case) -> QuerySet[Conference]:
    """The case's conferences, newest first, each with its tasks (two queries in all)."""
    tasks = ConferenceTask.objects.select_related("handled_by").order_by("id")
    return (
        Conference.objects.filter(case=case)
        .select_related("recorded_by")
        .prefetch_related(Prefetch("tasks", queryset=tasks))
    )


def handles_tasks(user: User) -> bool:
    """Whether the user's role may accept, complete or return the tasks it sees."""
    return user.is_active and user.role in (Role.DEPARTMENT_OFFICER, Role.COUNTY_STAFF)


def conference_context(*, user: User, case: Case) -> dict[str, object]:
    """What ``conferences/_case_conferences.html`` needs on a case page the user may see."""
    return {
        "conferences": list(conferences_of(case=case)),
        "can_confer": may_record(user) and case.is_open,
    }


def open_tasks_count(*, case: Case) -> int:
    """Tasks of the case still waiting (待接收 or 已接收): the case may not close while any."""
    return ConferenceTask.objects.filter(case=case, status__in=ConferenceTask.OPEN_STATUSES).count()
