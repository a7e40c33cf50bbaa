from __future__ import annotations

from django.conf import settings
from django.db import models

from tonghu.divisions.models import Division
from tonghu.pipeline.classify import RECORD_LABELS

# Why a pair went to review (人工核实), in the words a clerk reads.
REVIEW_REASONS = {
    "same_id_conflict": "身份证号相同，但两条记录的性别和出生日期都不同",
    "different_ids": "两条记录的有效身份证号不同",
    "different_names": "姓名完全不同",
    "twins": "同日出生、家庭相同而姓名不同（双胞胎）",
    "same_source": "同一来源中两个不同的个人编号（每人只有一个）",
    "different_sex": "性别不同",
    "different_birth_dates": "出生日期不在同一月",
    "different_families": "家庭信息无一相同且不在同一乡镇",
    "ambiguous_child": "可归入不止一名儿童",
    "uncertain": "比对概率处于不确定区间",
    "settled": "比对概率处于不确定区间，但两条记录已由更有力的证据归入儿童",
}


class ReviewPair(models.Model):
    """Two records of one round the linkage could not decide on (人工核实)."""

    round = models.ForeignKey("rounds.Round", on_delete=models.CASCADE, related_name="review_pairs")
    record_id_l = models.CharField("记录甲", max_length=96)
    record_id_r = models.CharField("记录乙", max_length=96)
    child_id_l = models.CharField("记录甲所属儿童", max_length=32)
    child_id_r = models.CharField("记录乙所属儿童", max_length=32)
    match_probability = models.FloatField("比对概率")
    reason = models.CharField("原因", max_length=24)
    evidence = models.JSONField("各项比较", default=list)
    # 0 a twin question, 1 a decision that changes a child's category, 2 the rest
    # (tonghu.pipeline.round ranks the queue).
    priority = models.PositiveSmallIntegerField("优先级", default=2)

    class Meta:
        verbose_name = "待核实记录对"
        verbose_name_plural = "待核实记录对"
        ordering = ["priority", "-match_probability", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "record_id_l", "record_id_r"], name="one_review_pair_per_round"
            )
        ]

    def __str__(self) -> str:
        return f"{self.record_id_l} / {self.record_id_r}"

    @property
    def reason_text(self) -> str:
        return REVIEW_REASONS.get(self.reason, self.reason)

    @property
    def record_l_text(self) -> str:
        return record_text(self.record_id_l)

    @property
    def record_r_text(self) -> str:
        return record_text(self.record_id_r)


def record_text(record_id: str) -> str:
    """ "学籍 G4104…" for "edu_migrant|G4104…": how a clerk names a record."""
    source, _, key = record_id.partition("|")
    return f"{RECORD_LABELS.get(source, source)} {key}"


class LinkDecision(models.Model):
    """A clerk's decision on a pair of records, obeyed by every later round of the county
    (over the model and the rules): the same child, or two children."""

    county = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    record_id_l = models.CharField("记录甲", max_length=96)
    record_id_r = models.CharField("记录乙", max_length=96)
    same = models.BooleanField("是同一名儿童")
    note = models.CharField("说明", max_length=200, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    decided_at = models.DateTimeField("决定时间", auto_now=True)

    class Meta:
        verbose_name = "人工核实决定"
        verbose_name_plural = "人工核实决定"
        constraints = [
            models.UniqueConstraint(
                fields=["county", "record_id_l", "record_id_r"], name="one_decision_per_pair"
            )
        ]

    def __str__(self) -> str:
        return f"{self.record_id_l} {'=' if self.same else '≠'} {self.record_id_r}"
