from __future__ import annotations

from django import forms

from tonghu.audit.models import Action
from tonghu.audit.selectors import AuditFilter


class AuditSearchForm(forms.Form):
    username = forms.CharField(label="用户名", required=False, max_length=150)
    child_id = forms.CharField(label="儿童编号", required=False, max_length=32)
    action = forms.ChoiceField(
        label="操作", required=False, choices=[("", "全部"), *Action.choices]
    )
    since = forms.DateTimeField(label="起始时间", required=False)
    until = forms.DateTimeField(label="截止时间", required=False)

    def to_filter(self) -> AuditFilter:
        data = self.cleaned_data
        return AuditFilter(
            username=data["username"].strip(),
            child_id=data["child_id"].strip(),
            action=data["action"],
            since=data["since"],
            until=data["until"],
        )
