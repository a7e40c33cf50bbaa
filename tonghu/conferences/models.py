"""案件会商: a multi-department conference on a protection case, and the follow-up tasks it
assigns to departments, which each department accepts, completes or returns (like 转介任务)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tonghu import clock
from tonghu.accounts.roles import Department
from tonghu.privacy.fields import SealedTextField


def department_label(code: str) -> str:
    try:
        return Department(code).label
    except ValueError:
        return code


class Conference(models.Model):
    """One conference held on a case: who took part, what was decided."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="conferences")
    held_on = models.DateField("会商日期")
    departments = models.JSONField("参加部门", default=list)  # Department codes
    participants = SealedTextField("参加人员", blank=True)  # names and units as typed
    decisions = SealedTextField("会商决定")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="记录人", on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField("记录时间")

    class Meta:
        verbose_name = verbose_name_plural = "案件会商"
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.held_on:%Y-%m-%d}"

    @property
    def department_labels(self) -> list[str]:
        return [department_label(code) for code in self.departments]


class ConferenceTask(models.Model):
    """A task the conference gave one department, with its time limit and answer."""

    class Status(models.TextChoices):
        PENDING = "pending", "待接收"
        ACCEPTED = "accepted", "已接收"
        DONE = "done", "已完成"
        DECLINED = "declined", "已退回"

    OPEN_STATUSES = (Status.PENDING, Status.ACCEPTED)

    conference = models.ForeignKey(Conference, on_delete=models.CASCADE, related_name="tasks")
    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, related_name="conference_tasks"
    )
    department = models.CharField("责任部门", max_length=24, choices=Department.choices)
    task = models.CharField("任务内容", max_length=500)
    due_on = models.DateField("办理期限")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    answer = models.TextField("办理情况或退回理由", blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="办理人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    handled_at = models.DateTimeField("办理时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "会商任务"
        ordering = ["due_on", "id"]
        indexes = [
            models.Index(fields=["department", "status", "due_on"], name="conference_task_inbox"),
            models.Index(fields=["case", "status"], name="conference_task_case"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.department}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_on < clock.today()
