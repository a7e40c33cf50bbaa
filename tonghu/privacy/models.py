"""Break-the-glass (紧急查阅): a time-limited grant to open one child's file outside one's
jurisdiction, with the stated reason, for the auditor to review."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tonghu import clock


class EmergencyAccessQuerySet(models.QuerySet["EmergencyAccess"]):
    def active(self) -> EmergencyAccessQuerySet:
        return self.filter(expires_at__gt=clock.now())

    def unreviewed(self) -> EmergencyAccessQuerySet:
        return self.filter(reviewed_at__isnull=True)


class EmergencyAccess(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="查阅人",
        on_delete=models.PROTECT,
        related_name="emergency_grants",
    )
    child = models.ForeignKey(
        "children.Child",
        verbose_name="儿童",
        on_delete=models.CASCADE,
        related_name="emergency_grants",
    )
    reason = models.TextField("紧急查阅事由")
    opened_at = models.DateTimeField("开始时间")
    expires_at = models.DateTimeField("有效期至")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="复核人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField("复核时间", null=True, blank=True)
    review_note = models.TextField("复核意见", blank=True)

    objects = EmergencyAccessQuerySet.as_manager()

    class Meta:
        verbose_name = "紧急查阅"
        verbose_name_plural = "紧急查阅"
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["user", "child", "expires_at"], name="emergency_user_child"),
            models.Index(fields=["reviewed_at", "-opened_at"], name="emergency_review"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.child_id}"

    @property
    def is_active(self) -> bool:
        return self.expires_at > clock.now()
