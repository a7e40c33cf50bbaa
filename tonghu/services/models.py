from __future__ import annotations

from django.conf import settings
from django.db import models


class Referral(models.Model):
    """A service pushed to a responsible department for one child (转介/推送任务).

    Created by the round that first finds the child eligible; kept (not duplicated) while
    later rounds find it eligible; closed with a reason when the child leaves or no longer
    qualifies.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "待接收"
        ACCEPTED = "accepted", "已接收"
        DELIVERED = "delivered", "已提供服务"
        DECLINED = "declined", "已退回"
        CLOSED = "closed", "已关闭"

    OPEN_STATUSES = (Status.PENDING, Status.ACCEPTED)

    child = models.ForeignKey("children.Child", on_delete=models.CASCADE, related_name="referrals")
    round = models.ForeignKey("rounds.Round", on_delete=models.PROTECT, related_name="referrals")
    service_code = models.CharField("服务编号", max_length=10)
    department = models.CharField("责任部门", max_length=24)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    due_on = models.DateField("答复期限")
    created_at = models.DateTimeField("推送时间", auto_now_add=True)
    accepted_at = models.DateTimeField("接收时间", null=True, blank=True)
    delivered_on = models.DateField("服务日期", null=True, blank=True)
    delivered_what = models.CharField("服务内容", max_length=200, blank=True)
    delivered_by = models.CharField("服务提供人", max_length=50, blank=True)
    declined_reason = models.CharField("退回理由", max_length=200, blank=True)
    closed_reason = models.CharField("关闭原因", max_length=100, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip

    class Meta:
        verbose_name = "转介任务"
        verbose_name_plural = "转介任务"
        ordering = ["due_on", "id"]
        indexes = [
            models.Index(fields=["department", "status", "due_on"], name="referral_inbox"),
            models.Index(fields=["child", "service_code"], name="referral_child_service"),
        ]

    def __str__(self) -> str:
        return f"{self.service_code} → {self.department}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class ServiceList(models.Model):
    """A county's own service list (区县清单), a policy profile file kept with the date it
    takes effect; a round uses the list in force at its reference date."""

    county = models.ForeignKey("divisions.Division", on_delete=models.PROTECT, related_name="+")
    effective_from = models.DateField("生效日期")
    file_name = models.CharField("文件名", max_length=200)
    content = models.TextField("清单内容（YAML）")
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    loaded_at = models.DateTimeField("载入时间", auto_now_add=True)

    class Meta:
        verbose_name = "区县服务清单"
        verbose_name_plural = "区县服务清单"
        ordering = ["county_id", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "effective_from"], name="one_service_list_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.county_id} {self.effective_from:%Y-%m-%d}"
