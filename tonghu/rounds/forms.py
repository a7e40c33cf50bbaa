from django import forms


class RoundForm(forms.Form):
    as_of = forms.DateField(
        label="摸排基准日",
        widget=forms.DateInput(attrs={"type": "date"}),
        input_formats=["%Y-%m-%d"],
    )
