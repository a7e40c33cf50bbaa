"""What each step records (required fields, in the users' words), and the report form.

The services bind these forms themselves, so the web page and any other caller share one
validation; ``step_record`` turns a valid form into the JSON kept on the case's history.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from tonghu import clock
from tonghu.accounts.roles import Department
from tonghu.accounts.scope import within
from tonghu.cases.machine import (
    CLOSURE_REASONS,
    EMERGENCY_MEASURES,
    HELP_MEASURES,
    INTERVENTIONS,
    PLACEMENTS,
    RISK_LEVELS,
    Step,
)
from tonghu.cases.models import SITUATIONS, Case, ReporterKind
from tonghu.divisions.codes import Level
from tonghu.divisions.models import Division

REQUIRED = "请填写此项。"
CHOOSE_ONE = "请至少选择一项。"
PLACEMENT_MEASURE = EMERGENCY_MEASURES[1]  # 临时安置: needs the place


def _choices(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(value, value) for value in values]


def _text(label: str, *, required: bool = True, rows: int = 3) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": rows}),
        error_messages={"required": REQUIRED},
    )


def _many(label: str, values: tuple[str, ...], *, required: bool = True) -> forms.Field:
    return forms.MultipleChoiceField(
        label=label,
        choices=_choices(values),
        required=required,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": CHOOSE_ONE},
    )


class StepForm(forms.Form):
    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.case = case


class AcceptForm(StepForm):
    police_unit = forms.CharField(
        label="受理单位", max_length=100, error_messages={"required": REQUIRED}
    )
    dispatch = _text("受理及出警情况")


class EmergencyForm(StepForm):
    measures = _many("应急处置措施", EMERGENCY_MEASURES)
    placement = forms.ChoiceField(
        label="临时安置去向", choices=[("", "（未安置）"), *_choices(PLACEMENTS)], required=False
    )
    note = _text("处置情况")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if PLACEMENT_MEASURE in data.get("measures", []) and not data.get("placement"):
            self.add_error("placement", "选择了临时安置，请填写安置去向。")
        if data.get("placement") and PLACEMENT_MEASURE not in data.get("measures", []):
            self.add_error("measures", "填写了安置去向，请同时勾选“临时安置”。")
        return data


class NotifyTownForm(StepForm):
    town = forms.ChoiceField(label="通报的乡镇（街道）", error_messages={"required": REQUIRED})
    note = _text("通报内容", required=False)

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, case=case, **kwargs)
        towns = Division.objects.filter(parent_id=case.county_id, level=Level.TOWN).order_by("code")
        self.fields["town"].choices = [("", "请选择"), *((t.code, t.name) for t in towns)]  # type: ignore[attr-defined]


class AssessForm(StepForm):
    safety = _text("安全处境")
    guardianship = _text("监护情况")
    health = _text("身心健康状况")
    risk = forms.ChoiceField(
        label="风险等级", choices=_choices(RISK_LEVELS), error_messages={"required": REQUIRED}
    )


class PlanForm(StepForm):
    measures = _many("帮扶措施", HELP_MEASURES)
    departments = forms.MultipleChoiceField(
        label="责任部门",
        choices=Department.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": CHOOSE_ONE},
    )
    plan = _text("帮扶方案", rows=5)
    intervention_needed = forms.BooleanField(label="需要监护干预", required=False)


class OpinionForm(StepForm):
    opinion = _text("审批意见", required=False, rows=2)


class ReturnForm(StepForm):
    opinion = _text("退回理由", rows=2)


class InterveneForm(StepForm):
    measures = _many("监护干预措施", INTERVENTIONS)
    note = _text("干预情况")


class NoteForm(StepForm):
    note = _text("情况说明")


class FollowUpForm(StepForm):
    visited_on = forms.DateField(
        label="回访日期",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": REQUIRED, "invalid": "请填写有效日期。"},
    )
    note = _text("回访情况")

    def clean_visited_on(self) -> dt.date:
        day: dt.date = self.cleaned_data["visited_on"]
        if day > clock.today():
            raise ValidationError("回访日期不能晚于今天。")
        return day


class ClosureForm(StepForm):
    reason = forms.ChoiceField(
        label="结案理由", choices=_choices(CLOSURE_REASONS), error_messages={"required": REQUIRED}
    )
    summary = _text("结案小结", rows=4)


STEP_FORMS: dict[Step, type[StepForm]] = {
    Step.ACCEPT: AcceptForm,
    Step.EMERGENCY: EmergencyForm,
    Step.NOTIFY_TOWN: NotifyTownForm,
    Step.ASSESS: AssessForm,
    Step.PROPOSE_PLAN: PlanForm,
    Step.APPROVE_PLAN: OpinionForm,
    Step.RETURN_PLAN: ReturnForm,
    Step.INTERVENE: InterveneForm,
    Step.FEEDBACK: NoteForm,
    Step.MONITOR: NoteForm,
    Step.FOLLOW_UP: FollowUpForm,
    Step.REQUEST_CLOSURE: ClosureForm,
    Step.APPROVE_CLOSURE: OpinionForm,
    Step.RETURN_CLOSURE: ReturnForm,
}


def step_record(form: StepForm) -> dict[str, Any]:
    """The valid form's values as JSON, each under its Chinese label."""
    record: dict[str, Any] = {}
    for name, value in form.cleaned_data.items():
        shown = _shown(name, value)
        if shown not in ("", None, []):
            record[str(form.fields[name].label)] = shown
    return record


def _shown(name: str, value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if name == "town":
        return Division.objects.filter(code=value).values_list("name", flat=True).first()
    if name == "departments":
        return [Department(code).label for code in value]
    if isinstance(value, bool):
        return "是" if value else "否"
    return value


# --- the report form ------------------------------------------------------------------


class ReportForm(forms.Form):
    reporter_kind = forms.ChoiceField(
        label="报告主体", choices=ReporterKind.choices, error_messages={"required": REQUIRED}
    )
    organisation = forms.CharField(label="报告单位", max_length=100, required=False)
    situations = forms.MultipleChoiceField(
        label="发现的情形",
        choices=SITUATIONS,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": CHOOSE_ONE},
    )
    place = forms.ChoiceField(label="发现地（乡镇/村居）", error_messages={"required": REQUIRED})
    place_detail = forms.CharField(label="详细地点", max_length=200, required=False)
    occurred_at = forms.DateTimeField(
        label="发现时间",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        error_messages={"required": REQUIRED, "invalid": "请填写有效的日期和时间。"},
    )
    observed = _text("发现的情况（看到、听到的事实）", rows=5)
    child_id = forms.CharField(label="台账儿童编号", max_length=14, required=False)
    child_name = forms.CharField(label="儿童姓名", max_length=50, required=False)
    child_sex = forms.ChoiceField(
        label="儿童性别", choices=[("", "不详"), ("男", "男"), ("女", "女")], required=False
    )
    child_age = forms.IntegerField(
        label="儿童年龄（周岁）",
        min_value=0,
        max_value=17,
        required=False,
        error_messages={
            "min_value": "年龄应在0至17周岁之间。",
            "max_value": "年龄应在0至17周岁之间。",
            "invalid": "请填写整数。",
        },
    )
    child_id_number = forms.CharField(label="儿童身份证号（如知道）", max_length=18, required=False)

    def __init__(self, *args: Any, places: list[Division], staff: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.places = {place.code: place for place in places}
        self.fields["place"].choices = [("", "请选择"), *((p.code, p.name) for p in places)]  # type: ignore[attr-defined]
        if not staff:
            del self.fields["child_id"]

    def clean_occurred_at(self) -> dt.datetime:
        at: dt.datetime = self.cleaned_data["occurred_at"]
        if at > clock.now() + dt.timedelta(minutes=5):
            raise ValidationError("发现时间不能晚于现在。")
        return at

    def clean_child_id_number(self) -> str:
        number = str(self.cleaned_data["child_id_number"]).strip().upper()
        if number and (len(number) != 18 or not number[:17].isdigit()):
            raise ValidationError("身份证号应为18位（最后一位可为X）；不知道可不填。")
        return number

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        described = any(data.get(f) for f in ("child_id", "child_name", "child_id_number"))
        if not described and not data.get("child_age") and not data.get("child_sex"):
            raise ValidationError("请至少填写儿童的姓名、年龄、性别或台账编号之一，以便找到儿童。")
        return data

    @property
    def place_division(self) -> Division:
        return self.places[self.cleaned_data["place"]]


# --- the case page's other forms ------------------------------------------------------


class FileForm(forms.Form):
    file = forms.FileField(label="材料文件（PDF、JPG、PNG，不超过10 MB）")
    description = forms.CharField(label="说明", max_length=100)


class LinkChildForm(forms.Form):
    child_id = forms.CharField(label="台账儿童编号", max_length=14)


class TransferForm(forms.Form):
    to_county = forms.ChoiceField(label="接收区县")
    reason = forms.CharField(label="移交原因", max_length=200)

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        """The other counties of the case's province (a move across provinces goes through
        the exchange between residence and hukou places, not a transfer)."""
        super().__init__(*args, **kwargs)
        province = case.county_id[:2]
        counties = (
            Division.objects.filter(within("code", province), level=Level.COUNTY)
            .exclude(code=case.county_id)
            .order_by("code")
        )
        self.fields["to_county"].choices = [  # type: ignore[attr-defined]
            ("", "请选择"),
            *((county.code, county.name) for county in counties),
        ]


class TransferAcceptForm(forms.Form):
    division = forms.ChoiceField(label="儿童现居乡镇（街道）或村（社区）")

    def __init__(self, *args: Any, places: list[Division], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["division"].choices = [("", "请选择"), *((p.code, p.name) for p in places)]  # type: ignore[attr-defined]
