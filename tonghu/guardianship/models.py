"""家庭监护能力评估 (kept with history), 监护缺失 intervention tasks, 委托照护 agreements and the
left-behind children's parent–child contact log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from tonghu.children.models import Child
from tonghu.policy.profile import GRADE_COLOURS, GUARDIANSHIP_GRADES
from tonghu.privacy.fields import SealedTextField
from tonghu.privacy.sensitive import mask_phone

GRADE_CHOICES = [(grade, grade) for grade in GUARDIANSHIP_GRADES]
COLOUR_CHOICES = [(colour, colour) for colour in GRADE_COLOURS]


class Assessment(models.Model):
    """One 家庭监护能力评估 of a child: never changed, a new one is recorded instead."""

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="assessments")
    assessed_on = models.DateField("评估日期")
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="评估人",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    answers = models.JSONField("各指标答案", default=dict)  # indicator code -> level label
    score = models.DecimalField("总分", max_digits=4, decimal_places=1)
    grade = models.CharField("监护等级", max_length=8, choices=GRADE_CHOICES)
    colour = models.CharField("赋色", max_length=2, choices=COLOUR_CHOICES)
    note = models.TextField("说明", blank=True)
    profile_key = models.CharField("评估所依政策配置", max_length=40)
    created_at = models.DateTimeField("记录时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "家庭监护能力评估"
        # The latest assessment first: by its date, then by when it was recorded.
        ordering = ["-assessed_on", "-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["child", "-assessed_on", "-created_at", "-id"],
                name="assessment_child_latest",
            )
        ]

    def __str__(self) -> str:
        return f"{self.assessed_on:%Y-%m-%d} {self.grade}"


class InterventionTask(models.Model):
    """监护缺失: a task for the county's civil affairs staff to intervene (one open per child)."""

    class Status(models.TextChoices):
        OPEN = "open", "待处置"
        HANDLED = "handled", "已处置"

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="intervention_tasks")
    assessment = models.ForeignKey(
        Assessment, verbose_name="评估", on_delete=models.PROTECT, related_name="tasks"
    )
    status = models.CharField(
        "状态", max_length=8, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="处置人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    handled_at = models.DateTimeField("处置时间", null=True, blank=True)
    note = models.TextField("处置情况", blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "监护缺失干预任务"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["child"], condition=Q(status="open"), name="one_open_intervention_per_child"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_status_display()} {self.pk}"


class CareAgreement(models.Model):
    """委托照护: who cares for the child while the parents are away, with the scanned agreement
    kept outside the web root (``settings.VAR_DIR / "care_files" / file_path``)."""

    class FileType(models.TextChoices):
        NONE = "", "无"
        PDF = "pdf", "PDF"
        JPG = "jpg", "JPG"
        PNG = "png", "PNG"

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="care_agreements")
    carer_name = models.CharField("被委托照护人", max_length=50)
    relationship = models.CharField("与儿童关系", max_length=20)
    phone = SealedTextField("联系电话", blank=True, plain_max_length=20)
    starts_on = models.DateField("委托起始日期")
    ends_on = models.DateField("委托截止日期", null=True, blank=True)
    file_path = models.CharField("协议扫描件", max_length=200, blank=True)  # under care_files
    file_type = models.CharField("扫描件类型", max_length=3, choices=FileType.choices, blank=True)
    file_size = models.PositiveIntegerField("扫描件大小（字节）", default=0)
    fit = models.BooleanField("照护能力适当", default=True)
    unfit_reason = models.TextField("不适当原因", blank=True)
    judged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="评判人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    judged_at = models.DateTimeField("评判时间", null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "委托照护协议"
        ordering = ["-starts_on", "-id"]

    def __str__(self) -> str:
        return f"委托照护 {self.pk}"

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)


class ParentContact(models.Model):
    """外出父母与留守子女的一次联系 (每周至少一次, by the profile)."""

    class Who(models.TextChoices):
        FATHER = "father", "父亲"
        MOTHER = "mother", "母亲"
        BOTH = "both", "父母"

    class Channel(models.TextChoices):
        PHONE = "phone", "电话"
        VIDEO = "video", "视频"
        HOME = "home", "回家探望"
        OTHER = "other", "其他"

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="parent_contacts")
    contacted_on = models.DateField("联系日期")
    who = models.CharField("联系人", max_length=8, choices=Who.choices)
    channel = models.CharField("方式", max_length=8, choices=Channel.choices)
    note = models.CharField("说明", max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "亲子联系记录"
        ordering = ["-contacted_on", "-id"]
        indexes = [models.Index(fields=["child", "contacted_on"], name="contact_child_day")]

    def __str__(self) -> str:
        return f"{self.contacted_on:%Y-%m-%d} {self.get_channel_display()}"
