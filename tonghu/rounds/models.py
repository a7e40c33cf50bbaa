from __future__ import annotations

from django.conf import settings
from django.db import models

from tonghu.divisions.models import Division


class RoundStatus(models.TextChoices):
    OPEN = "open", "收集数据中"
    CLOSED = "closed", "已结束"
    DONE = "done", "已完成认定"


class Round(models.Model):
    """One monitoring round (一轮监测摸排) of a county, at its reference date (摸排基准日)."""

    county = models.ForeignKey(
        Division, verbose_name="区县", on_delete=models.PROTECT, related_name="rounds"
    )
    as_of = models.DateField("摸排基准日")
    status = models.CharField(
        "状态", max_length=8, choices=RoundStatus.choices, default=RoundStatus.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="创建人", null=True, on_delete=models.PROTECT
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    profile = models.CharField("政策配置", max_length=40, blank=True)
    engine = models.CharField("比对引擎", max_length=8, blank=True)
    input_hash = models.CharField("输入指纹", max_length=64, blank=True)
    summary = models.JSONField("本轮概况", default=dict, blank=True)
    model_json = models.TextField("比对模型参数", blank=True)
    completed_at = models.DateTimeField("完成时间", null=True, blank=True)
    # The random token written beside the round's results in the store (tonghu.rounds.store):
    # results found under this round's id without it are another database's, or stale.
    store_token = models.CharField("结果文件标识", max_length=32, blank=True)

    class Meta:
        verbose_name = "监测摸排轮次"
        verbose_name_plural = "监测摸排轮次"
        ordering = ["-as_of", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["county", "as_of"], name="one_round_per_county_date")
        ]

    def __str__(self) -> str:
        return f"{self.county.name} {self.as_of:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        return self.status == RoundStatus.OPEN
