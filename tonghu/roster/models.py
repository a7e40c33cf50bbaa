"""The roster (儿童主任/儿童督导员台账): a worker's contact and appointment, and training records.

Directors and supervisors are accounts (``accounts.User`` with the role and the division they
serve); this app keeps what the ledger adds to an account.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from tonghu.privacy.fields import SealedTextField
from tonghu.privacy.sensitive import mask_phone

PHONE_VALIDATOR = RegexValidator(r"^1[3-9]\d{9}$", "请填写 11 位手机号码（以 1 开头）。")
HOURS_MIN = Decimal("0.1")
HOURS_MAX = Decimal("100")


class Worker(models.Model):
    """What the roster keeps about a child director or supervisor beyond the account."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="账号",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="roster_profile",
    )
    phone = SealedTextField(
        "手机号码", blank=True, plain_max_length=11, validators=[PHONE_VALIDATOR]
    )
    appointed_on = models.DateField("任职日期", null=True, blank=True)
    note = models.CharField("备注", max_length=200, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "儿童主任/督导员信息"
        verbose_name_plural = "儿童主任/督导员信息"

    def __str__(self) -> str:
        return str(self.user_id)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)


class Training(models.Model):
    """One training a director or supervisor attended (培训档案)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="参训人员",
        on_delete=models.CASCADE,
        related_name="trainings",
    )
    on = models.DateField("培训日期")
    topic = models.CharField("培训主题", max_length=100)
    hours = models.DecimalField(
        "学时",
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(HOURS_MIN), MaxValueValidator(HOURS_MAX)],
    )
    organiser = models.CharField("组织单位", max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "培训记录"
        verbose_name_plural = "培训记录"
        ordering = ["-on", "-id"]
        indexes = [models.Index(fields=["user", "on"], name="training_user_on")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(hours__gt=0, hours__lte=HOURS_MAX), name="training_hours_range"
            )
        ]

    def __str__(self) -> str:
        return f"{self.on:%Y-%m-%d} {self.topic}"
