from __future__ import annotations

from django.conf import settings
from django.db import models

from tonghu.pipeline.sources import GUARDIANSHIP_TYPES, PARENT_STATES
from tonghu.privacy.fields import SealedTextField

PARENT_STATE_CHOICES = [(state, state) for state in PARENT_STATES]
GUARDIANSHIP_TYPE_CHOICES = [(kind, kind) for kind in GUARDIANSHIP_TYPES]


class Visit(models.Model):
    """One contact with a child: a home visit (入户走访) or a call/video contact (联系).

    ``token`` is made by the form when it is shown: a retried or double-tapped submission
    carries the same token and finds this visit instead of recording a second one.
    """

    class Kind(models.TextChoices):
        HOME = "home", "入户走访"
        CONTACT = "contact", "电话/视频联系"

    class Resolution(models.TextChoices):
        NONE = "", "无冲突"
        MINE = "mine", "以本次走访为准更新档案"
        KEEP = "keep", "保留档案现状，仅保存走访记录"

    child = models.ForeignKey("children.Child", on_delete=models.CASCADE, related_name="visits")
    kind = models.CharField("方式", max_length=8, choices=Kind.choices, default=Kind.HOME)
    visited_on = models.DateField("走访日期")
    visited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="走访人", on_delete=models.PROTECT
    )
    token = models.UUIDField("提交编号", unique=True)
    # Findings, in the visit_survey feed's terms (feeds.md); blank: not observed this time.
    father_status = models.CharField(
        "父亲状况", max_length=8, choices=PARENT_STATE_CHOICES, blank=True
    )
    father_away_code = models.CharField("父亲外出地区划代码", max_length=12, blank=True)
    father_away_since = models.DateField("父亲外出起始日期", null=True, blank=True)
    mother_status = models.CharField(
        "母亲状况", max_length=8, choices=PARENT_STATE_CHOICES, blank=True
    )
    mother_away_code = models.CharField("母亲外出地区划代码", max_length=12, blank=True)
    mother_away_since = models.DateField("母亲外出起始日期", null=True, blank=True)
    actual_guardian = models.CharField("实际照料人", max_length=50, blank=True)
    guardianship_type = models.CharField(
        "监护类型", max_length=8, choices=GUARDIANSHIP_TYPE_CHOICES, blank=True
    )
    entrusted_carer = models.CharField("委托照护人", max_length=50, blank=True)
    lives_alone = models.BooleanField("独自居住", default=False)
    vagrant = models.BooleanField("流浪", default=False)
    psych = models.BooleanField("心理或行为异常", default=False)
    disabled = models.BooleanField("残疾", default=False)
    hardship = models.BooleanField("家庭生活困难", default=False)
    note = SealedTextField("走访情况", blank=True)
    child_version = models.PositiveIntegerField("填写时的档案版本")
    resolution = models.CharField(
        "档案冲突处理", max_length=4, choices=Resolution.choices, blank=True
    )
    file_changes = models.JSONField("更新档案的项目", default=list, blank=True)
    created_at = models.DateTimeField("提交时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "走访记录"
        ordering = ["-visited_on", "-pk"]
        indexes = [models.Index(fields=["child", "visited_on"], name="visit_child_day")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.visited_on:%Y-%m-%d}"
