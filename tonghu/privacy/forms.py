from __future__ import annotations

from django import forms

from tonghu.privacy.services import REASON_MAX_CHARS


class ReasonField(forms.CharField):
    def __init__(self, label: str) -> None:
        super().__init__(
            label=label,
            max_length=REASON_MAX_CHARS,
            widget=forms.Textarea(attrs={"rows": 2}),
            help_text="事由将记入审计日志，请勿填写儿童姓名或身份证号。",
        )


class ExportReasonForm(forms.Form):
    reason = ReasonField("导出事由")


class EmergencyAccessForm(forms.Form):
    id_number = forms.CharField(label="儿童身份证号", min_length=15, max_length=18)
    reason = ReasonField("紧急查阅事由")


class ReviewForm(forms.Form):
    note = forms.CharField(label="复核意见", max_length=REASON_MAX_CHARS, required=False)
