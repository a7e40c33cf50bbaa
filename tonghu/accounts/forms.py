from __future__ import annotations

import re

from django import forms

CODE_PATTERN = re.compile(r"\d{6}")


class CodeForm(forms.Form):
    """The 6-digit code an authenticator app shows (spaces and dashes typed with it are fine)."""

    code = forms.CharField(
        label="动态口令",
        max_length=12,
        error_messages={"required": "请输入动态口令。"},
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "autofocus": True,
                "size": 8,
            }
        ),
    )

    def clean_code(self) -> str:
        code = re.sub(r"[\s-]", "", self.cleaned_data["code"])
        if not CODE_PATTERN.fullmatch(code):
            raise forms.ValidationError("请输入手机应用中显示的 6 位数字。")
        return code
