from __future__ import annotations

from typing import Any

from django import forms

from tonghu.accounts.models import User
from tonghu.feeds.selectors import uploadable_sources
from tonghu.pipeline.sources import SOURCES_BY_NAME


class UploadForm(forms.Form):
    file = forms.FileField(label="数据文件（CSV 或 XLSX）")
    source = forms.ChoiceField(label="数据来源", required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(name, SOURCES_BY_NAME[name].label) for name in uploadable_sources(user=user)]
        self.fields["source"].choices = [("", "按文件名识别"), *choices]  # type: ignore[attr-defined]
