from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from tonghu.divisions.codes import pad
from tonghu.visits.models import GUARDIANSHIP_TYPE_CHOICES, PARENT_STATE_CHOICES, Visit

BLANK = [("", "（未了解）")]


class VisitForm(forms.Form):
    token = forms.UUIDField(widget=forms.HiddenInput)
    child_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    resolution = forms.ChoiceField(
        choices=Visit.Resolution.choices, required=False, widget=forms.HiddenInput
    )
    kind = forms.ChoiceField(
        label="方式", choices=Visit.Kind.choices, initial=Visit.Kind.HOME,
        widget=forms.RadioSelect,
    )  # fmt: skip
    visited_on = forms.DateField(
        label="走访日期", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "日期应写成 YYYY-MM-DD。"},
    )  # fmt: skip
    father_status = forms.ChoiceField(
        label="父亲状况", choices=BLANK + PARENT_STATE_CHOICES, required=False
    )
    father_away_code = forms.CharField(
        label="父亲外出地区划代码", required=False, max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )  # fmt: skip
    father_away_since = forms.DateField(
        label="父亲外出起始日期", required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )  # fmt: skip
    mother_status = forms.ChoiceField(
        label="母亲状况", choices=BLANK + PARENT_STATE_CHOICES, required=False
    )
    mother_away_code = forms.CharField(
        label="母亲外出地区划代码", required=False, max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )  # fmt: skip
    mother_away_since = forms.DateField(
        label="母亲外出起始日期", required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )  # fmt: skip
    actual_guardian = forms.CharField(label="实际照料人", required=False, max_length=50)
    guardianship_type = forms.ChoiceField(
        label="监护类型", choices=BLANK + GUARDIANSHIP_TYPE_CHOICES, required=False
    )
    entrusted_carer = forms.CharField(label="委托照护人", required=False, max_length=50)
    lives_alone = forms.BooleanField(label="独自居住", required=False)
    vagrant = forms.BooleanField(label="流浪", required=False)
    psych = forms.BooleanField(label="心理或行为异常", required=False)
    disabled = forms.BooleanField(label="残疾", required=False)
    hardship = forms.BooleanField(label="家庭生活困难", required=False)
    note = forms.CharField(
        label="走访情况", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean_visited_on(self) -> Any:
        day = self.cleaned_data["visited_on"]
        if day > timezone.localdate():
            raise forms.ValidationError("走访日期不能晚于今天。")
        return day

    def _clean_code(self, name: str) -> str:
        code = str(self.cleaned_data.get(name) or "").strip()
        if code and not (code.isdigit() and len(code) in {6, 9, 12}):
            raise forms.ValidationError("区划代码应为6、9或12位数字。")
        return pad(code) if code else ""

    def clean_father_away_code(self) -> str:
        return self._clean_code("father_away_code")

    def clean_mother_away_code(self) -> str:
        return self._clean_code("mother_away_code")
