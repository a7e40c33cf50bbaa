from __future__ import annotations

from django.db import models

from tonghu.divisions.models import Division


class Sex(models.TextChoices):
    MALE = "男", "男"
    FEMALE = "女", "女"
    UNKNOWN = "", "未知"


class Child(models.Model):
    """One real child (一人一档): the ledger's unit, scoped by where the child lives now."""

    child_id = models.CharField("儿童编号", max_length=32, unique=True)
    name = models.CharField("姓名", max_length=50)
    sex = models.CharField("性别", max_length=1, choices=Sex.choices, blank=True)
    birth_date = models.DateField("出生日期", null=True, blank=True)
    residence_division = models.ForeignKey(
        Division,
        verbose_name="居住地",
        on_delete=models.PROTECT,
        related_name="resident_children",
    )

    class Meta:
        verbose_name = "儿童"
        verbose_name_plural = "儿童"
        ordering = ["residence_division_id", "child_id"]

    def __str__(self) -> str:
        return self.child_id
