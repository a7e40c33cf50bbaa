"""强制报告 (reports with receipt numbers), the protection case they open or join, every step
taken on it, its evidence files and its transfers between counties."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from tonghu.cases.machine import STATE_LABELS, State, Step
from tonghu.privacy.fields import ALL_KEYS, BlindIndexField, SealedJSONField, SealedTextField
from tonghu.web.attachments import FILE_TYPE_CHOICES

STATE_CHOICES = [(state.value, label) for state, label in STATE_LABELS.items()]

# The nine situations of the 2020 强制报告 opinions, then the Wuqing list.
SITUATIONS: tuple[tuple[str, str], ...] = (
    ("abnormal_injury", "生殖器官或隐私部位遭受或疑似遭受非正常损伤"),
    ("sexual_under14", "不满14周岁女性遭受或疑似遭受性侵害、怀孕、流产"),
    ("pregnancy_over14", "14周岁以上女性因性侵害怀孕、流产"),
    ("multiple_injuries", "身体存在多处损伤、严重营养不良、意识不清等疑似遭受侵害"),
    ("disabled_or_dead", "因自杀、重大伤害、非正常原因伤残、死亡"),
    ("abandoned", "被遗弃或长期处于无人照料状态"),
    ("trafficked", "来源不明、失踪或被拐卖、收买"),
    ("begging", "被组织乞讨"),
    ("other_serious", "其他严重侵害或疑似严重侵害"),
    ("alone_or_missing", "脱离监护单独居住生活或失踪"),
    ("guardian_failing", "监护人丧失监护能力或不履行监护职责"),
    ("violence", "疑似遭受家庭暴力、意外伤害或不法侵害"),
)
SITUATION_LABELS = dict(SITUATIONS)


class ReporterKind(models.TextChoices):
    """The mandated reporters of the 2020 opinions, and staff reporting in their work."""

    VILLAGE_COMMITTEE = "village_committee", "居（村）民委员会"
    SCHOOL = "school", "中小学校"
    KINDERGARTEN = "kindergarten", "幼儿园"
    TRAINING = "training", "校外培训机构"
    CHILDCARE = "childcare", "托育机构"
    HOSPITAL = "hospital", "医院"
    MATERNAL = "maternal", "妇幼保健院"
    EMERGENCY_CENTRE = "emergency_centre", "急救中心"
    CLINIC = "clinic", "诊所"
    WELFARE = "welfare", "儿童福利机构"
    RELIEF = "relief", "救助管理机构"
    MINOR_PROTECTION = "minor_protection", "未成年人救助保护机构"
    SOCIAL_WORK = "social_work", "社会工作服务机构"
    HOTEL = "hotel", "旅店、宾馆"
    STAFF = "staff", "工作人员（工作中发现）"


class Source(models.TextChoices):
    REPORT = "report", "强制报告"
    ALERT = "alert", "预警转案件"


class Case(models.Model):
    """One child's protection case; every report on the child while it is open joins it."""

    number = models.CharField("案件编号", max_length=24, unique=True)
    county = models.ForeignKey(
        "divisions.Division", verbose_name="承办区县", on_delete=models.PROTECT, related_name="+"
    )
    # Where the child is: the reported place, then the town notified or the child's village.
    division = models.ForeignKey(
        "divisions.Division", verbose_name="所在地", on_delete=models.PROTECT, related_name="+"
    )
    child = models.ForeignKey(
        "children.Child",
        verbose_name="台账儿童",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    source = models.CharField("来源", max_length=8, choices=Source.choices, default=Source.REPORT)
    situations = models.JSONField("报告情形", default=list)
    state = models.CharField("环节", max_length=16, choices=STATE_CHOICES, default=State.REPORTED)
    state_since = models.DateTimeField("进入本环节时间")
    due_at = models.DateTimeField("本环节办理期限", null=True, blank=True)
    # How many levels above the step's owner the overdue step has been raised (0: none).
    escalations = models.PositiveSmallIntegerField("升级督办次数", default=0)
    escalated_to = models.CharField("已升级至", max_length=8, blank=True)  # divisions Level
    pending_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="提交审批人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    needs_intervention = models.BooleanField("需监护干预", default=False)
    monitoring_since = models.DateField("跟踪监测起始日", null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged"
    )
    opened_at = models.DateTimeField("立案时间")
    closed_at = models.DateTimeField("结案时间", null=True, blank=True)
    version = models.PositiveIntegerField("版本", default=1)  # two staff never overwrite

    class Meta:
        verbose_name = verbose_name_plural = "保护案件"
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["division", "state"], name="case_scope_state"),
            models.Index(fields=["state", "due_at"], name="case_due"),
        ]
        constraints = [
            # One open case per ledger child: more reports join it.
            models.UniqueConstraint(
                fields=["child"],
                condition=Q(child__isnull=False) & ~Q(state=State.CLOSED),
                name="case_one_open_per_child",
            )
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def state_label(self) -> str:
        return STATE_LABELS[State(self.state)]

    @property
    def is_open(self) -> bool:
        return self.state != State.CLOSED


class Report(models.Model):
    """A 强制报告 as filed: the reporter gets its receipt number and later sees only its phase."""

    receipt_no = models.CharField("回执号", max_length=24, unique=True)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="报告人", on_delete=models.PROTECT, related_name="+"
    )
    reporter_kind = models.CharField("报告主体", max_length=20, choices=ReporterKind.choices)
    organisation = models.CharField("报告单位", max_length=100, blank=True)
    situations = models.JSONField("报告情形")
    place = models.ForeignKey(
        "divisions.Division", verbose_name="发现地", on_delete=models.PROTECT, related_name="+"
    )
    place_detail = models.CharField("详细地点", max_length=200, blank=True)
    occurred_at = models.DateTimeField("发现时间")
    observed = SealedTextField("发现的情况")
    child = models.ForeignKey(
        "children.Child", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    child_name = models.CharField("儿童姓名", max_length=50, blank=True)
    child_sex = models.CharField("儿童性别", max_length=2, blank=True)
    child_age = models.PositiveSmallIntegerField("儿童年龄", null=True, blank=True)
    child_id_number = SealedTextField("儿童身份证号", blank=True, plain_max_length=18)
    child_id_number_index = BlindIndexField("儿童身份证号索引", source="child_id_number")
    reported_at = models.DateTimeField("报告时间")

    class Meta:
        verbose_name = verbose_name_plural = "强制报告"
        ordering = ["-reported_at", "-id"]
        indexes = [models.Index(fields=["reporter", "-reported_at"], name="report_reporter")]

    def __str__(self) -> str:
        return self.receipt_no

    @property
    def situation_labels(self) -> list[str]:
        return [SITUATION_LABELS.get(code, code) for code in self.situations]


class CaseEvent(models.Model):
    """One thing done on a case: a step with what it recorded, a report joining, an escalation,
    a file, a transfer. Never changed; the case's history is these rows in order."""

    class Kind(models.TextChoices):
        OPENED = "opened", "立案"
        REPORT_JOINED = "report_joined", "新报告并入"
        STEP = "step", "办理"
        ESCALATED = "escalated", "逾期升级督办"
        FILE_ADDED = "file_added", "上传材料"
        CHILD_LINKED = "child_linked", "关联台账儿童"
        MERGED = "merged", "并案"
        TRANSFER_ASKED = "transfer_asked", "申请移交"
        TRANSFER_ACCEPTED = "transfer_accepted", "接收移交"
        TRANSFER_REFUSED = "transfer_refused", "拒绝移交"
        CONFERENCE = "conference", "会商"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField("类型", max_length=20, choices=Kind.choices)
    step = models.CharField(
        "步骤", max_length=20, blank=True, choices=[(s.value, s.value) for s in Step]
    )
    from_state = models.CharField("原环节", max_length=16, blank=True)
    to_state = models.CharField("新环节", max_length=16, blank=True)
    data = SealedJSONField("记录内容", default=dict, sealed_keys=ALL_KEYS)
    text = models.CharField("摘要", max_length=300, blank=True)
    at = models.DateTimeField("时间")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    late = models.BooleanField("逾期办理", default=False)

    class Meta:
        verbose_name = verbose_name_plural = "案件办理记录"
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.text}"


class CaseFile(models.Model):
    """Evidence or a document on a case, kept outside the web root (VAR_DIR/case_files)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="files")
    report = models.ForeignKey(
        Report, null=True, blank=True, on_delete=models.CASCADE, related_name="files"
    )
    description = models.CharField("说明", max_length=100, blank=True)
    file_path = models.CharField(max_length=200)
    file_type = models.CharField("类型", max_length=3, choices=FILE_TYPE_CHOICES)
    file_size = models.PositiveIntegerField("大小")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField("上传时间")

    class Meta:
        verbose_name = verbose_name_plural = "案件材料"
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.description or f"材料 {self.pk}"


class Transfer(models.Model):
    """A case handed to another county's civil affairs when the child moves there."""

    class Status(models.TextChoices):
        PENDING = "pending", "待接收"
        ACCEPTED = "accepted", "已接收"
        REFUSED = "refused", "已拒绝"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="transfers")
    from_county = models.ForeignKey(
        "divisions.Division", verbose_name="移出区县", on_delete=models.PROTECT, related_name="+"
    )
    to_county = models.ForeignKey(
        "divisions.Division", verbose_name="接收区县", on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField("移交原因", max_length=200)
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.PENDING)
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    asked_at = models.DateTimeField("申请时间")
    due_at = models.DateTimeField("接收期限")
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField("答复时间", null=True, blank=True)
    answer = models.CharField("答复意见", max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "案件移交"
        ordering = ["-asked_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(status="pending"), name="transfer_one_pending"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.to_county_id}"
