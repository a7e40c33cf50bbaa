"""Figures the dashboard and reports add up, so that they never read children one by one.

Three kinds, by how they stay current:
- ``RoundFigure``: written once per round by its batch step (tonghu.pipeline.summarise);
- ``LiveFigure``: counters the actions bump in their own transaction (a visit recorded, a case
  opened or closed, a step taken, a service delivered), per division and month;
- ``DailyFigure``: states that change with time alone (a visit falling due, a referral running
  late, the latest assessment grade), recomputed per county by ``tonghu stats refresh``.
"""

from __future__ import annotations

from django.db import models


class RoundFigure(models.Model):
    """Children of one group, dimension and category in a division, at the round's base date.

    ``level`` says how the rows are summed: per village (the finest the division table knows;
    a child whose village is unknown keeps its town's or the county's code), per town, and for
    the county, so that any page reads only the rows of its own level.
    """

    round = models.ForeignKey("rounds.Round", on_delete=models.CASCADE, related_name="figures")
    level = models.CharField("汇总层级", max_length=8, default="village")
    division_code = models.CharField("区划代码", max_length=12)
    group = models.CharField("人群", max_length=12)
    dimension = models.CharField("统计项", max_length=16)
    category = models.CharField("分类", max_length=32, blank=True)
    n = models.PositiveIntegerField("儿童数")

    class Meta:
        verbose_name = "轮次统计"
        verbose_name_plural = "轮次统计"
        indexes = [
            models.Index(fields=["round", "level", "division_code"], name="figure_round_level")
        ]

    def __str__(self) -> str:
        return f"{self.division_code} {self.group} {self.dimension} {self.category}={self.n}"


class Measure(models.TextChoices):
    # counted live, by the actions (LiveFigure):
    VISIT_HOME = "visit_home", "入户走访"
    VISIT_CONTACT = "visit_contact", "联系"
    CASE_OPENED = "case_opened", "新立案件"
    CASE_CLOSED = "case_closed", "结案"
    CASE_CLOSE_DAYS = "case_close_days", "结案用时（日）合计"
    CASE_STEPS = "case_steps", "办理环节"
    CASE_STEPS_LATE = "case_steps_late", "逾期办理环节"
    SERVICE_DELIVERED = "service_delivered", "已提供服务"
    # recomputed each day per county (DailyFigure):
    VISIT_STATUS = "visit_status", "走访计划状态"
    REFERRAL_OPEN = "referral_open", "未办结转介"
    REFERRAL_OVERDUE = "referral_overdue", "逾期转介"
    ASSESSMENT_GRADE = "assessment_grade", "最近一次监护评估"


class LiveFigure(models.Model):
    division_code = models.CharField("区划代码", max_length=12)
    measure = models.CharField("指标", max_length=24, choices=Measure.choices)
    category = models.CharField("分类", max_length=32, blank=True)
    month = models.DateField("月份")  # the first day of the month
    n = models.BigIntegerField("数值", default=0)

    class Meta:
        verbose_name = "实时统计"
        verbose_name_plural = "实时统计"
        constraints = [
            models.UniqueConstraint(
                fields=["division_code", "measure", "category", "month"], name="one_live_figure"
            )
        ]
        indexes = [models.Index(fields=["measure", "division_code"], name="live_measure_division")]

    def __str__(self) -> str:
        return f"{self.division_code} {self.measure} {self.month:%Y-%m}={self.n}"


class DailyFigure(models.Model):
    county_code = models.CharField("区县代码", max_length=6)
    division_code = models.CharField("区划代码", max_length=12)
    measure = models.CharField("指标", max_length=24, choices=Measure.choices)
    category = models.CharField("分类", max_length=32, blank=True)
    n = models.PositiveIntegerField("数值")
    computed_on = models.DateField("统计日期")

    class Meta:
        verbose_name = "每日统计"
        verbose_name_plural = "每日统计"
        indexes = [
            models.Index(fields=["measure", "division_code"], name="daily_measure_division"),
            models.Index(fields=["county_code"], name="daily_county"),
        ]

    def __str__(self) -> str:
        return f"{self.division_code} {self.measure} {self.category}={self.n}"
