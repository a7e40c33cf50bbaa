from __future__ import annotations

from django.conf import settings
from django.db import models

from tonghu.pipeline.sources import SOURCES_BY_NAME
from tonghu.rounds.models import Round


class FeedImport(models.Model):
    """One feed file taken into a round: its counts; its rows live in the round's feed store."""

    round = models.ForeignKey(
        Round, verbose_name="轮次", on_delete=models.PROTECT, related_name="imports"
    )
    source = models.CharField("数据来源", max_length=32)
    file_name = models.CharField("文件名", max_length=255)
    file_sha256 = models.CharField("文件摘要", max_length=64)
    file_size = models.BigIntegerField("文件大小")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="导入人", null=True, on_delete=models.PROTECT
    )
    created_at = models.DateTimeField("导入时间", auto_now_add=True)
    rows_read = models.IntegerField("读取行数", default=0)
    rows_accepted = models.IntegerField("接收行数", default=0)
    rows_repeated = models.IntegerField("重复行数", default=0)
    rows_rejected = models.IntegerField("拒收行数", default=0)
    warnings = models.IntegerField("警告数", default=0)
    parts = models.JSONField("分表统计", default=list)
    store_dir = models.CharField("存储目录", max_length=255)

    class Meta:
        verbose_name = "数据导入"
        verbose_name_plural = "数据导入"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["round", "file_sha256"], name="one_import_per_file")
        ]

    def __str__(self) -> str:
        return f"{self.file_name}（{self.round}）"

    @property
    def source_label(self) -> str:
        return SOURCES_BY_NAME[self.source].label
