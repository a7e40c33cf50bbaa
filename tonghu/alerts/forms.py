from __future__ import annotations

from django import forms

from tonghu.alerts.models import Kind, Status

ALL = "all"


class FilterForm(forms.Form):
    status = forms.ChoiceField(
        label="状态", choices=[*Status.choices, (ALL, "全部")], required=False
    )
    kind = forms.ChoiceField(
        label="类型", choices=[("", "全部类型"), *Kind.choices], required=False
    )

    def status_value(self) -> str:
        """The status asked for: open by default, "" for all."""
        chosen = str(self.cleaned_data.get("status") or "") if self.is_valid() else ""
        if chosen == ALL:
            return ""
        return chosen or Status.OPEN

    def kind_value(self) -> str:
        return str(self.cleaned_data.get("kind") or "") if self.is_valid() else ""


class DismissForm(forms.Form):
    reason = forms.CharField(
        label="排除理由",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "请填写排除理由。"},
    )


class ToCaseForm(forms.Form):
    police_needed = forms.BooleanField(label="需公安处置", required=False)
    note = forms.CharField(
        label="说明（选填）",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
