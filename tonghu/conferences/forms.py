from __future__ import annotations

from typing import Any

from django import forms

from tonghu import clock
from tonghu.accounts.roles import Department
from tonghu.conferences.services import TaskInput

TASK_ROWS = 5  # task rows offered on the form


def _date_field(label: str, *, required: bool = True) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": f"请填写{label}。", "invalid": "日期应写成 YYYY-MM-DD。"},
    )


class ConferenceForm(forms.Form):
    """A conference with up to TASK_ROWS task rows (department, task, optional time limit)."""

    held_on = _date_field("会商日期")
    departments = forms.MultipleChoiceField(
        label="参加部门",
        choices=Department.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="至少两个部门（含民政）。",
        error_messages={"required": "请选择参加会商的部门。", "invalid_choice": "部门无效。"},
    )
    participants = forms.CharField(
        label="参加人员（选填）",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="单位和姓名，如：县教育局 张某。",
    )
    decisions = forms.CharField(
        label="会商决定",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "请填写会商决定。"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "（不分配）"), *Department.choices]
        for row in range(TASK_ROWS):
            self.fields[f"task_{row}_department"] = forms.ChoiceField(
                label="责任部门", choices=choices, required=False
            )
            self.fields[f"task_{row}_text"] = forms.CharField(
                label="任务内容", required=False, max_length=500
            )
            self.fields[f"task_{row}_due_on"] = _date_field("办理期限（选填）", required=False)
        if not self.is_bound:
            self.initial.setdefault("held_on", clock.today())

    def task_rows(self) -> list[tuple[int, forms.BoundField, forms.BoundField, forms.BoundField]]:
        return [
            (
                row + 1,
                self[f"task_{row}_department"],
                self[f"task_{row}_text"],
                self[f"task_{row}_due_on"],
            )
            for row in range(TASK_ROWS)
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for row in range(TASK_ROWS):
            department = cleaned.get(f"task_{row}_department")
            text = str(cleaned.get(f"task_{row}_text") or "").strip()
            if department and not text:
                self.add_error(f"task_{row}_text", "请填写任务内容。")
            elif text and not department:
                self.add_error(f"task_{row}_department", "请选择责任部门。")
        return cleaned

    def tasks(self) -> list[TaskInput]:
        """The filled task rows (call after is_valid)."""
        data = self.cleaned_data
        return [
            TaskInput(
                department=data[f"task_{row}_department"],
                task=data[f"task_{row}_text"],
                due_on=data[f"task_{row}_due_on"],
            )
            for row in range(TASK_ROWS)
            if data.get(f"task_{row}_department")
        ]


class DoneForm(forms.Form):
    answer = forms.CharField(
        label="完成情况",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "请填写任务完成情况。"},
    )


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label="退回理由",
        max_length=500,
        error_messages={"required": "请填写退回理由。"},
    )
