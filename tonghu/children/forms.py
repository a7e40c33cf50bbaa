from __future__ import annotations

from django import forms

from tonghu.children.models import CORRECTABLE
from tonghu.children.selectors import CATEGORIES
from tonghu.pipeline.sources import STAGES
from tonghu.policy.rules import KEY_CARE_LABELS

AGE_BANDS = {
    "0-2": (0, 2),
    "3-5": (3, 5),
    "6-11": (6, 11),
    "12-14": (12, 14),
    "15-17": (15, 17),
}


class CorrectionForm(forms.Form):
    field = forms.ChoiceField(label="更正项目", choices=list(CORRECTABLE.items()))
    value = forms.CharField(label="正确的值", max_length=200)
    reason = forms.CharField(
        label="更正理由", max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
    # The file's version when the form was shown: a later save by someone else is a conflict.
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class ChildFilterForm(forms.Form):
    name = forms.CharField(label="姓名", max_length=50, required=False)
    id_number = forms.CharField(label="身份证号（完整18位）", max_length=18, required=False)
    category = forms.ChoiceField(
        label="类别",
        required=False,
        choices=[("", "全部"), *((key, label) for key, (label, _) in CATEGORIES.items())],
    )
    key_care = forms.ChoiceField(
        label="重点关爱情形", required=False, choices=[("", "全部"), *KEY_CARE_LABELS.items()]
    )
    division = forms.CharField(label="乡镇/村（代码）", max_length=12, required=False)
    age_band = forms.ChoiceField(
        label="年龄段", required=False, choices=[("", "全部"), *((k, f"{k}岁") for k in AGE_BANDS)]
    )
    stage = forms.ChoiceField(
        label="学段",
        required=False,
        choices=[("", "全部"), *((stage, stage) for stage in STAGES)],
    )
    hukou_province = forms.CharField(label="户籍省份（代码前两位）", max_length=2, required=False)
    include_departed = forms.BooleanField(label="含已离开", required=False)
