"""One 预警 per child and kind while it is open: raised by a finding, then dismissed with a
reason or turned into a protection case."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from tonghu.children.models import Child


class Kind(models.TextChoices):
    LIVING_ALONE = "living_alone", "独自居住"
    VAGRANT_OR_MISSING = "vagrant_or_missing", "流浪或失踪"
    DROPOUT = "dropout", "辍学"
    NO_GUARDIAN = "no_guardian", "监护缺失"


class Source(models.TextChoices):
    ROUND = "round", "监测摸排"
    VISIT = "visit", "入户走访"
    ASSESSMENT = "assessment", "家庭监护能力评估"


class Status(models.TextChoices):
    OPEN = "open", "待处理"
    DISMISSED = "dismissed", "已排除"
    CASE = "case", "已转案件"


class Alert(models.Model):
    """A finding that needs staff to look: ``source_ref`` names what raised it (a round id, a
    visit token, an assessment id); ``detail`` says what was found, never a name or ID."""

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField("预警类型", max_length=20, choices=Kind.choices)
    source = models.CharField("来源", max_length=12, choices=Source.choices)
    source_ref = models.CharField("来源编号", max_length=40)
    detail = models.CharField("发现情况", max_length=300, blank=True)
    raised_at = models.DateTimeField("预警时间")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.OPEN)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="处理人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    handled_at = models.DateTimeField("处理时间", null=True, blank=True)
    reason = models.TextField("排除理由", blank=True)
    case = models.ForeignKey(
        "cases.Case",
        verbose_name="保护案件",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="alerts",
    )

    class Meta:
        verbose_name = verbose_name_plural = "预警"
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["child", "kind"],
                condition=Q(status="open"),
                name="alert_one_open_per_child_kind",
            )
        ]
        indexes = [
            models.Index(fields=["child", "source", "source_ref"], name="alert_child_source"),
            models.Index(fields=["status", "-raised_at"], name="alert_status_raised"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk}"
