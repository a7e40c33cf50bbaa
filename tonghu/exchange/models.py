"""Packages exchanged between the residence county and the hukou county, the rows they
carried (linked to this county's children) and the 跨省通办 certification requests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.conf import settings
from django.db import models

from tonghu.privacy.fields import SealedJSONField

# Row values sealed at rest: who the child is and the statuses (敏感个人信息).
SEALED_ROW_KEYS = ("name", "birth_date", "id_number", "statuses", "since", "note")

# The hukou county's statuses the exchange carries: Child.difficulty code -> label.
HUKOU_STATUSES = {"orphan": "孤儿", "fuc": "事实无人抚养", "dibao": "低保"}


# The counts a package's summary keeps, in words.
SUMMARY_LABELS = {
    "rows": "行数",
    "received": "收到名单",
    "linked": "已关联",
    "by_id_number": "按身份证号关联",
    "by_name_birth_sex": "按姓名、出生日期和性别关联",
    "unlinked": "未能关联",
    "with_status": "有保障状态",
    "changed": "状态有变化",
    "not_found_there": "对方未找到",
    "rounds": "监测轮次",
    "round_figures": "轮次统计行",
    "live_figures": "实时统计行",
    "daily_figures": "每日统计行",
    "divisions_added": "新增区划",
}


class Kind(models.TextChoices):
    MIGRANTS = "migrants", "流动儿童名单"
    HUKOU_STATUS = "hukou_status", "户籍地保障状态"
    CERTIFY_REQUEST = "certify_request", "跨省通办核实请求"
    CERTIFY_ANSWER = "certify_answer", "跨省通办核实答复"
    FIGURES = "figures", "监测统计报送"


class Direction(models.TextChoices):
    OUT = "out", "发出"
    IN = "in", "收到"


class ExchangePackage(models.Model):
    """One package this county made (out) or imported (in). An imported package's
    (sender, package id) and (sender, recipient, sequence) are unique: a replay is refused."""

    county = models.ForeignKey(
        "divisions.Division", verbose_name="本县", on_delete=models.PROTECT, related_name="+"
    )
    direction = models.CharField("方向", max_length=3, choices=Direction.choices)
    package_id = models.UUIDField("交换包编号")
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    sender = models.CharField("发送县", max_length=6)
    recipient = models.CharField("接收县", max_length=6)
    sequence = models.PositiveIntegerField("序号")
    created_at = models.DateTimeField("生成时间")
    in_reply_to = models.UUIDField("答复的交换包", null=True, blank=True)
    rows = models.PositiveIntegerField("行数", default=0)
    sha256 = models.CharField("文件 SHA-256", max_length=64)
    summary = models.JSONField("结果摘要（只含编号和计数）", default=dict, blank=True)
    child_ids = models.JSONField("涉及儿童编号", default=list, blank=True)
    handled_at = models.DateTimeField("导出/导入时间", auto_now_add=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip

    class Meta:
        verbose_name = "交换包"
        verbose_name_plural = "交换包"
        ordering = ["-handled_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["direction", "sender", "package_id"], name="exchange_package_once"
            ),
            models.UniqueConstraint(
                fields=["direction", "sender", "recipient", "sequence"],
                name="exchange_sequence_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sender}→{self.recipient} #{self.sequence} {self.kind}"

    @property
    def summary_text(self) -> str:
        return summary_text(self.summary)


def summary_text(counts: Mapping[str, object]) -> str:
    return "，".join(f"{SUMMARY_LABELS.get(key, key)} {value}" for key, value in counts.items())


class ReceivedRound(models.Model):
    """A county's round whose figures came in a ``figures`` package (a city or province
    instance): the package may be replaced by a later one, a round run here never."""

    round = models.OneToOneField(
        "rounds.Round", on_delete=models.CASCADE, related_name="received", verbose_name="轮次"
    )
    package = models.ForeignKey(
        ExchangePackage, on_delete=models.PROTECT, related_name="+", verbose_name="交换包"
    )

    class Meta:
        verbose_name = "报送的监测轮次"
        verbose_name_plural = "报送的监测轮次"

    def __str__(self) -> str:
        return f"{self.round} ← {self.package}"


class LinkedBy(models.TextChoices):
    CHILD_ID = "child_id", "儿童编号"
    ID_NUMBER = "id_number", "身份证号"
    NAME_BIRTH_SEX = "name_birth_sex", "姓名、出生日期和性别"
    NONE = "", "未关联"


class ExchangeRecord(models.Model):
    """One row of an imported package, linked (or not) to a child of this county."""

    package = models.ForeignKey(ExchangePackage, on_delete=models.CASCADE, related_name="records")
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    sender = models.CharField("发送县", max_length=6)
    remote_child_id = models.CharField("对方儿童编号", max_length=32, blank=True)
    child = models.ForeignKey(
        "children.Child", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="exchange_records",
    )  # fmt: skip
    linked_by = models.CharField(
        "关联依据", max_length=16, choices=LinkedBy.choices, blank=True, default=LinkedBy.NONE
    )
    values = SealedJSONField("内容", default=dict, sealed_keys=SEALED_ROW_KEYS)

    class Meta:
        verbose_name = "交换记录"
        verbose_name_plural = "交换记录"
        ordering = ["package_id", "id"]
        indexes = [models.Index(fields=["child", "kind"], name="exchange_record_child")]

    def __str__(self) -> str:
        return f"{self.kind} {self.remote_child_id}"

    @property
    def status_labels(self) -> list[str]:
        return [HUKOU_STATUSES.get(code, code) for code in self.values.get("statuses") or []]


class Certify(models.TextChoices):
    """What the hukou county is asked to certify (跨省通办)."""

    ORPHAN = "orphan", "孤儿"
    FUC = "fuc", "事实无人抚养儿童"
    DISABILITY_ALLOWANCE = "disability_allowance", "残疾人两项补贴"


class Side(models.TextChoices):
    REQUESTER = "requester", "居住地（发起核实）"
    ANSWERER = "answerer", "户籍地（答复核实）"


class CertifyRequest(models.Model):
    """A 跨省通办 request as one side tracks it: sent by the residence county (已发出), received
    by the hukou county (待答复), then answered (已答复) both sides; open past its due date it
    is overdue (已逾期), like a referral."""

    class Status(models.TextChoices):
        SENT = "sent", "已发出"
        PENDING = "pending", "待答复"
        ANSWERED = "answered", "已答复"

    OPEN_STATUSES = (Status.SENT, Status.PENDING)

    request_id = models.UUIDField("请求编号")
    side = models.CharField("本方", max_length=10, choices=Side.choices)
    county = models.ForeignKey(
        "divisions.Division", verbose_name="本县", on_delete=models.PROTECT, related_name="+"
    )
    residence_county = models.CharField("居住地县", max_length=6)
    hukou_county = models.CharField("户籍地县", max_length=6)
    child = models.ForeignKey(
        "children.Child", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="certify_requests",
    )  # fmt: skip
    linked_by = models.CharField(
        "关联依据", max_length=16, choices=LinkedBy.choices, blank=True, default=LinkedBy.NONE
    )
    remote_child_id = models.CharField("对方儿童编号", max_length=32, blank=True)
    subject = models.CharField("核实事项", max_length=24, choices=Certify.choices)
    # The requester's identification of the child as received (answerer side only) and notes.
    values = SealedJSONField("内容", default=dict, sealed_keys=SEALED_ROW_KEYS)
    status = models.CharField("状态", max_length=10, choices=Status.choices)
    due_on = models.DateField("答复期限")
    requested_at = models.DateTimeField("发起时间")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    request_package = models.ForeignKey(
        ExchangePackage, null=True, on_delete=models.PROTECT, related_name="+"
    )
    certified = models.BooleanField("核实结果", null=True, blank=True)
    reference = models.CharField("答复文号", max_length=64, blank=True)
    answer_note = models.TextField("答复说明", blank=True)
    answered_at = models.DateTimeField("答复时间", null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    answer_package = models.ForeignKey(
        ExchangePackage, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "跨省通办核实请求"
        verbose_name_plural = "跨省通办核实请求"
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["side", "request_id"], name="certify_request_once")
        ]
        indexes = [models.Index(fields=["county", "status", "due_on"], name="certify_inbox")]

    def __str__(self) -> str:
        return f"{self.get_subject_display()} {self.request_id}"

    def is_overdue(self, today: dt.date) -> bool:
        return self.status in self.OPEN_STATUSES and self.due_on < today

    def status_label(self, today: dt.date) -> str:
        return "已逾期" if self.is_overdue(today) else self.get_status_display()

    @property
    def answer_label(self) -> str:
        if self.certified is None:
            return ""
        return "属实" if self.certified else "不属实"
