from __future__ import annotations

from django import forms


class DeliverForm(forms.Form):
    delivered_on = forms.DateField(label="服务日期", widget=forms.DateInput(attrs={"type": "date"}))
    what = forms.CharField(label="服务内容", max_length=200)
    by_whom = forms.CharField(label="服务提供人", max_length=50)


class DeclineForm(forms.Form):
    reason = forms.CharField(label="退回理由", max_length=200)
