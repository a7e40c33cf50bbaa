from __future__ import annotations

from typing import cast

from django import forms

from tonghu.exchange.models import Certify, Kind
from tonghu.exchange.packages import MAX_PACKAGE_BYTES

# What a county makes from the exchange page (certification packages leave with their request).
EXPORT_KINDS = [
    (Kind.MIGRANTS.value, "流动儿童名单（发给户籍地县）"),
    (Kind.HUKOU_STATUS.value, "户籍地保障状态（答复居住地县最近一份名单）"),
    (Kind.FIGURES.value, "监测统计报送（发给本县所属市或省，不含儿童个人信息）"),
]


class ImportForm(forms.Form):
    file = forms.FileField(label="交换包文件（.tonghu）")

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        if not upload.size:
            raise forms.ValidationError("上传的文件是空的，请重新选择。")
        if upload.size > MAX_PACKAGE_BYTES:
            raise forms.ValidationError("文件过大，不是有效的交换包。")
        return upload


class ExportForm(forms.Form):
    kind = forms.ChoiceField(label="交换包类型", choices=EXPORT_KINDS)
    recipient = forms.ChoiceField(label="接收方")

    def __init__(self, *args: object, recipients: list[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        cast("forms.ChoiceField", self.fields["recipient"]).choices = recipients


class CertifyRequestForm(forms.Form):
    subject = forms.ChoiceField(label="请户籍地核实", choices=Certify.choices)
    note = forms.CharField(
        label="说明",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="如需对方注意的情况；请勿重复填写儿童的身份证号。",
    )


class CertifyAnswerForm(forms.Form):
    certified = forms.TypedChoiceField(
        label="核实结果",
        choices=[("yes", "属实"), ("no", "不属实")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    reference = forms.CharField(label="答复文号", max_length=64, help_text="如证明编号或审批文号")
    note = forms.CharField(
        label="答复说明", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
