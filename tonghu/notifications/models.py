from __future__ import annotations

from django.conf import settings
from django.db import models


class Notification(models.Model):
    """One in-app reminder for one user; ``key`` makes sending it again a no-op."""

    class Kind(models.TextChoices):
        VISIT_DUE = "visit_due", "走访到期"
        VISIT_OVERDUE = "visit_overdue", "走访逾期"
        CONTACT_LAPSED = "contact_lapsed", "亲子联系中断"
        CARER_UNFIT = "carer_unfit", "委托照护人不适当"
        GUARDIANSHIP = "guardianship", "监护缺失"
        CASE_NEW = "case_new", "新强制报告"
        CASE_STEP = "case_step", "案件待办"
        CASE_OVERDUE = "case_overdue", "案件逾期督办"
        CASE_TASK = "case_task", "会商任务"
        ALERT = "alert", "预警"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    text = models.CharField("内容", max_length=300)  # no names or ID numbers: child ids only
    url = models.CharField("链接", max_length=200, blank=True)
    key = models.CharField("去重键", max_length=120)
    created_at = models.DateTimeField("时间", auto_now_add=True)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "站内提醒"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="notification_once_per_key")
        ]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.key}"
