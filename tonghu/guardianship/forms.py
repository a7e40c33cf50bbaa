from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils import timezone

from tonghu.guardianship.models import ParentContact
from tonghu.policy.profile import Assessment as AssessmentProfile

ANSWER_PREFIX = "answer_"
PHONE = re.compile(r"[0-9+\- ]{5,20}")


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _date_field(label: str, *, required: bool = True) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        widget=_date_input(),
        error_messages={"required": f"请填写{label}。", "invalid": "日期应写成 YYYY-MM-DD。"},
    )


class AssessmentForm(forms.Form):
    """One radio group per indicator of the profile's questionnaire, grouped by dimension."""

    assessed_on = _date_field("评估日期")
    note = forms.CharField(
        label="说明（选填）",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, assessment: AssessmentProfile, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.assessment = assessment
        choices = [(level.label, level.label) for level in assessment.levels]
        for indicator in assessment.indicators:
            self.fields[ANSWER_PREFIX + indicator.code] = forms.ChoiceField(
                label=indicator.name,
                choices=choices,
                widget=forms.RadioSelect,
                error_messages={
                    "required": f"请为“{indicator.name}”选择答案。",
                    "invalid_choice": f"“{indicator.name}”的答案不是可选项。",
                },
            )
        if not self.is_bound:
            self.initial.setdefault("assessed_on", timezone.localdate())

    def dimensions(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [
            (dimension.name, [self[ANSWER_PREFIX + item.code] for item in dimension.indicators])
            for dimension in self.assessment.dimensions
        ]

    def answers(self) -> dict[str, str]:
        return {
            indicator.code: str(self.cleaned_data[ANSWER_PREFIX + indicator.code])
            for indicator in self.assessment.indicators
        }


class AgreementForm(forms.Form):
    carer_name = forms.CharField(
        label="被委托照护人姓名",
        max_length=50,
        error_messages={"required": "请填写被委托照护人姓名。"},
    )
    relationship = forms.CharField(
        label="与儿童关系",
        max_length=20,
        help_text="如：祖父母、外祖父母、其他亲属",
        error_messages={"required": "请填写被委托照护人与儿童的关系。"},
    )
    phone = forms.CharField(label="联系电话（选填）", max_length=20, required=False)
    starts_on = _date_field("委托起始日期")
    ends_on = _date_field("委托截止日期（选填）", required=False)
    file = forms.FileField(
        label="协议扫描件（选填）",
        required=False,
        help_text="PDF、JPG 或 PNG，不超过 10 MB",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )

    def clean_phone(self) -> str:
        phone = str(self.cleaned_data["phone"]).strip()
        if phone and not PHONE.fullmatch(phone):
            raise forms.ValidationError("联系电话只能包含数字（可含 +、- 或空格）。")
        return phone


class UnfitForm(forms.Form):
    reason = forms.CharField(
        label="不适当的原因",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "请填写判定被委托照护人不适当的原因。"},
    )


class ContactForm(forms.Form):
    contacted_on = _date_field("联系日期")
    who = forms.ChoiceField(
        label="联系人",
        choices=ParentContact.Who.choices,
        error_messages={"required": "请选择联系人。", "invalid_choice": "请选择联系人。"},
    )
    channel = forms.ChoiceField(
        label="方式",
        choices=ParentContact.Channel.choices,
        error_messages={"required": "请选择联系方式。", "invalid_choice": "请选择联系方式。"},
    )
    note = forms.CharField(label="说明（选填）", max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("contacted_on", timezone.localdate())


class HandleForm(forms.Form):
    note = forms.CharField(
        label="处置情况",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "请填写处置情况。"},
    )
