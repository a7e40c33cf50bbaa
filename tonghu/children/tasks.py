"""核实 tasks: who sees which (a department officer its department's, civil-affairs staff
theirs) and answering one. Only what the check needs is shown: the child's name, birth date
and the disputed value, never the rest of the file (minimum necessary)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from tonghu.accounts.roles import Capability, Department
from tonghu.accounts.scope import access, scoped
from tonghu.audit.models import Action
from tonghu.audit.services import audit_record
from tonghu.children.models import VerificationTask

if TYPE_CHECKING:
    from tonghu.accounts.models import User


def tasks_for(*, user: User) -> QuerySet[VerificationTask]:
    """The tasks of the user's department (civil affairs for staff without one) in the
    user's jurisdiction."""
    department = user.department or Department.CIVIL_AFFAIRS.value
    return scoped(
        VerificationTask.objects.filter(department=department).select_related("child", "round"),
        user=user,
        capability=Capability.ANSWER_TASKS,
        field="child__residence_division_id",
    )


def access_task(*, user: User, task_id: int) -> VerificationTask:
    return access(tasks_for(user=user), pk=task_id)


@transaction.atomic
def task_answer(*, user: User, task_id: int, answer: str) -> VerificationTask:
    task = access_task(user=user, task_id=task_id)
    answer = answer.strip()
    if not answer:
        raise ValidationError("请填写核实结果。")
    if task.status == VerificationTask.Status.DONE:
        raise ValidationError("该任务已核实。")
    task.status = VerificationTask.Status.DONE
    task.answer = answer
    task.answered_by = user
    task.answered_at = timezone.now()
    task.save(update_fields=["status", "answer", "answered_by", "answered_at"])
    audit_record(
        actor=user,
        action=Action.UPDATE,
        object_type="verification_task",
        object_ids=[str(task.pk)],
        child_ids=[task.child.child_id],
        detail="答复核实任务",
    )
    return task
