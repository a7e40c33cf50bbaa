from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models

from tonghu.divisions.models import Division
from tonghu.pipeline.compare import TRACKED
from tonghu.privacy.fields import BlindIndexField, SealedJSONField, SealedTextField
from tonghu.privacy.sensitive import SEALED_RECORD_KEYS

# The values a child director may correct on a file (field -> label).
CORRECTABLE = {
    field: TRACKED[field]
    for field in ("name", "sex", "birth_date", "hukou_code", "residence_since", "stage")
}
DATE_FIELDS = frozenset({"birth_date", "residence_since"})


def value_text(value: object) -> str:
    """A file's value as a correction records it (dates in ISO form, nothing as empty)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value)


def value_of(field: str, text: str) -> object:
    """The file's value for a correction's text (the inverse of ``value_text``)."""
    if field in DATE_FIELDS:
        return dt.date.fromisoformat(text) if text else None
    return text


class Sex(models.TextChoices):
    MALE = "男", "男"
    FEMALE = "女", "女"
    UNKNOWN = "", "未知"


class DropoutRisk(models.TextChoices):
    NONE = "", "无"
    DROPPED_OUT = "dropped_out", "辍学"
    NOT_ENROLLED = "not_enrolled", "适龄未入学"


class Child(models.Model):
    """One real child (一人一档): the ledger's unit, scoped by where the child lives now.

    The facts are those of the latest round that found the child, with staff corrections
    applied (see ``Correction``); ``present`` is false once a later round no longer finds it.
    """

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
    id_number = SealedTextField("身份证号", blank=True, plain_max_length=18)
    id_number_index = BlindIndexField("身份证号索引", source="id_number")
    hukou_code = models.CharField("户籍地代码", max_length=12, blank=True)
    hukou_province = models.CharField("户籍省份代码", max_length=2, blank=True, db_index=True)
    residence_code = models.CharField("居住地代码", max_length=12, blank=True)
    residence_since = models.DateField("来本地居住起始日期", null=True, blank=True)
    is_resident = models.BooleanField("基准日在本地居住", default=True)
    is_migrant = models.BooleanField("流动儿童", default=False)
    is_left_behind = models.BooleanField("留守儿童", default=False)
    is_key_care = models.BooleanField("重点关爱服务对象", default=False)
    in_difficulty = models.BooleanField("困境/保障情形", default=False)
    key_care = models.JSONField("重点关爱情形", default=list, blank=True)
    difficulty = models.JSONField("困境/保障情形代码", default=list, blank=True)
    dropout_risk = models.CharField(
        "控辍保学", max_length=12, choices=DropoutRisk.choices, blank=True
    )
    stage = models.CharField("当前学段", max_length=4, blank=True)
    flags = models.JSONField("其他事实", default=list, blank=True)
    services = models.JSONField("可享服务", default=list, blank=True)
    reasons = models.TextField("认定依据", blank=True)
    present = models.BooleanField("最近一轮仍在册", default=True)
    first_round = models.ForeignKey(
        "rounds.Round",
        verbose_name="首次发现轮次",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    last_round = models.ForeignKey(
        "rounds.Round",
        verbose_name="最近发现轮次",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    version = models.PositiveIntegerField("版本", default=1)

    class Meta:
        verbose_name = "儿童"
        verbose_name_plural = "儿童"
        ordering = ["residence_division_id", "child_id"]
        indexes = [
            models.Index(
                fields=["residence_division", "is_migrant"], name="child_division_migrant"
            ),
            models.Index(
                fields=["residence_division", "is_left_behind"], name="child_division_left"
            ),
            models.Index(fields=["residence_division", "is_key_care"], name="child_division_key"),
            models.Index(fields=["residence_division", "birth_date"], name="child_division_birth"),
            models.Index(fields=["residence_division", "stage"], name="child_division_stage"),
            models.Index(fields=["name"], name="child_name"),
            # The list's order: a jurisdiction's first page is read off the index.
            models.Index(fields=["residence_division", "child_id"], name="child_division_order"),
            # Counts of the children on the ledger (present) of a jurisdiction and of each of
            # its subdivisions: COUNT(*) read off this index alone (index-only scans).
            models.Index(fields=["residence_division", "present"], name="child_division_present"),
            # The children to visit (visits.selectors.TO_VISIT: the same condition) with what
            # their next due day needs: the worklist plans a town off the index alone.
            models.Index(
                fields=[
                    "residence_division",
                    "is_key_care",
                    "first_round",
                    "last_round",
                    "child_id",
                    "id",
                ],
                condition=models.Q(present=True)
                & (
                    models.Q(is_left_behind=True)
                    | models.Q(in_difficulty=True)
                    | models.Q(is_key_care=True)
                ),
                name="child_to_visit",
            ),
        ]

    def __str__(self) -> str:
        return self.child_id


class ChildRecord(models.Model):
    """One department record of a child in one round: its normalised values and its date."""

    round = models.ForeignKey("rounds.Round", on_delete=models.CASCADE, related_name="records")
    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="records")
    source = models.CharField("数据源", max_length=20)
    record_key = models.CharField("记录编号", max_length=64)
    record_date = models.DateField("记录日期", null=True)
    file = models.CharField("文件", max_length=255)
    row = models.PositiveIntegerField("行号")
    values = SealedJSONField("记录内容", default=dict, sealed_keys=SEALED_RECORD_KEYS)

    class Meta:
        verbose_name = "部门记录"
        verbose_name_plural = "部门记录"
        constraints = [
            models.UniqueConstraint(
                fields=["round", "source", "record_key"], name="one_record_per_round_key"
            )
        ]
        indexes = [models.Index(fields=["child", "round"], name="record_child_round")]

    def __str__(self) -> str:
        return f"{self.source} {self.record_key}"


class ChildChange(models.Model):
    """What a round changed in a child's file (or a correction did), and why."""

    class Kind(models.TextChoices):
        FOUND = "found", "首次发现"
        CHANGED = "changed", "变化"
        DEPARTED = "departed", "本轮未发现（离开）"
        RETURNED = "returned", "重新发现"
        MERGED = "merged", "合并"
        SPLIT = "split", "拆分"
        CORRECTED = "corrected", "人工更正"

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="changes")
    round = models.ForeignKey(
        "rounds.Round", null=True, on_delete=models.CASCADE, related_name="changes"
    )
    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    field = models.CharField("项目", max_length=32, blank=True)
    old_value = models.TextField("原值", blank=True)
    new_value = models.TextField("新值", blank=True)
    why = models.TextField("原因", blank=True)
    at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = "档案变化"
        verbose_name_plural = "档案变化"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["child", "at"], name="change_child_at")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.field}"

    @property
    def field_label(self) -> str:
        return TRACKED.get(self.field, self.field)


class Correction(models.Model):
    """A child director's correction of one value, kept over later rounds.

    A later round keeps the correction while its data still says what the correction
    replaced (``replaced_value``); if the data comes to say something else again, the
    correction is suspended and a 核实 task asks which is right.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "有效"
        CONFLICT = "conflict", "与新数据冲突，待核实"
        RETIRED = "retired", "已撤销"

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="corrections")
    field = models.CharField("项目", max_length=32)
    value = models.CharField("更正值", max_length=200)
    replaced_value = models.CharField("原值", max_length=200, blank=True)
    reason = models.TextField("更正理由")
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.ACTIVE)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="更正人", on_delete=models.PROTECT
    )
    corrected_at = models.DateTimeField("更正时间", auto_now_add=True)

    class Meta:
        verbose_name = "人工更正"
        verbose_name_plural = "人工更正"
        ordering = ["-corrected_at", "-id"]

    def __str__(self) -> str:
        return f"{self.field}: {self.value}"

    @property
    def field_label(self) -> str:
        return CORRECTABLE.get(self.field, self.field)


class VerificationTask(models.Model):
    """A 核实 task: a value the data and a correction (or two departments) disagree on."""

    class Status(models.TextChoices):
        OPEN = "open", "待核实"
        DONE = "done", "已核实"

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="verification_tasks")
    round = models.ForeignKey("rounds.Round", null=True, on_delete=models.CASCADE, related_name="+")
    field = models.CharField("项目", max_length=32)
    department = models.CharField("负责核实的部门", max_length=24)
    record_source = models.CharField("数据源", max_length=20, blank=True)
    record_key = models.CharField("记录编号", max_length=64, blank=True)
    detail = models.TextField("需核实的内容")
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.OPEN)
    answer = models.TextField("核实结果", blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    answered_at = models.DateTimeField("核实时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "核实任务"
        verbose_name_plural = "核实任务"
        ordering = ["status", "-created_at"]

    def __str__(self) -> str:
        return f"核实 {self.field}"
