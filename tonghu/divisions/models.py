from __future__ import annotations

from django.db import models

from tonghu.divisions.codes import Level, prefix, town_kind


class Division(models.Model):
    """One node of the jurisdiction tree (行政区划), keyed by its 12-digit statistical code."""

    code = models.CharField("区划代码", max_length=12, primary_key=True)
    name = models.CharField("名称", max_length=100)
    level = models.CharField(
        "层级", max_length=8, choices=[(level.value, level.label) for level in Level]
    )
    parent = models.ForeignKey(
        "self",
        verbose_name="上级",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    central_urban = models.BooleanField("中心城区", default=False)

    class Meta:
        verbose_name = "行政区划"
        verbose_name_plural = "行政区划"
        ordering = ["code"]
        indexes = [models.Index(fields=["level", "code"], name="division_level_code")]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    @property
    def level_enum(self) -> Level:
        return Level(self.level)

    @property
    def prefix(self) -> str:
        """Every division in this one's subtree has a code starting with this prefix."""
        return prefix(self.code, self.level_enum)

    @property
    def town_kind(self) -> str | None:
        return town_kind(self.code) if self.level == Level.TOWN else None
