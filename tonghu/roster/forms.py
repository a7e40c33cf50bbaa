from __future__ import annotations

from decimal import Decimal

from django import forms

from tonghu.roster.models import HOURS_MAX, HOURS_MIN, PHONE_VALIDATOR


class TrainingForm(forms.Form):
    on = forms.DateField(
        label="培训日期",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": "请填写培训日期。", "invalid": "请按 年-月-日 填写培训日期。"},
    )
    topic = forms.CharField(
        label="培训主题", max_length=100, error_messages={"required": "请填写培训主题。"}
    )
    hours = forms.DecimalField(
        label="学时",
        max_digits=4,
        decimal_places=1,
        min_value=HOURS_MIN,
        max_value=HOURS_MAX,
        error_messages={
            "required": "请填写学时。",
            "invalid": "学时应为数字，如 2 或 1.5。",
            "min_value": "学时应大于 0。",
            "max_value": "学时不能超过 100。",
            "max_decimal_places": "学时最多保留 1 位小数。",
            "max_digits": "学时不能超过 100。",
        },
    )
    organiser = forms.CharField(label="组织单位（可选）", max_length=100, required=False)

    def clean_hours(self) -> Decimal:
        hours: Decimal = self.cleaned_data["hours"]
        if hours <= 0:
            raise forms.ValidationError("学时应大于 0。")
        return hours


class WorkerForm(forms.Form):
    phone = forms.CharField(
        label="手机号码",
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    appointed_on = forms.DateField(
        label="任职日期",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "请按 年-月-日 填写任职日期。"},
    )
    note = forms.CharField(label="备注（可选）", max_length=200, required=False)

    def clean_phone(self) -> str:
        phone = "".join(str(self.cleaned_data.get("phone", "")).split())
        if phone:
            PHONE_VALIDATOR(phone)
        return phone
