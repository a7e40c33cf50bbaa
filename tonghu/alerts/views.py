"""The 预警 list and its two actions; thin: the services check, write and audit."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from tonghu.accounts.models import User
from tonghu.accounts.utils import acting_user
from tonghu.alerts.forms import DismissForm, FilterForm, ToCaseForm
from tonghu.alerts.models import Alert
from tonghu.alerts.selectors import access_alert
from tonghu.alerts.services import alert_dismiss, alert_to_case, alerts_page


@login_required
@require_GET
def alert_list(request: HttpRequest) -> HttpResponse:
    return _list(request, user=acting_user(request))


@login_required
@require_POST
def dismiss(request: HttpRequest, alert_id: int) -> HttpResponse:
    user = acting_user(request)
    alert = access_alert(user=user, alert_id=alert_id)  # 404 for others and out of scope
    form = DismissForm(request.POST)
    try:
        _check(form)
        alert_dismiss(user=user, alert_id=alert.pk, reason=form.cleaned_data["reason"])
    except ValidationError as error:
        return _refused(request, user=user, alert=alert, error=error)
    messages.success(
        request, f"已排除儿童 {alert.child.child_id} 的{alert.get_kind_display()}预警。"
    )
    return redirect("alerts:list")


@login_required
@require_POST
def to_case(request: HttpRequest, alert_id: int) -> HttpResponse:
    user = acting_user(request)
    alert = access_alert(user=user, alert_id=alert_id)  # 404 for others and out of scope
    form = ToCaseForm(request.POST)
    try:
        _check(form)
        case = alert_to_case(
            user=user,
            alert_id=alert.pk,
            police_needed=form.cleaned_data["police_needed"],
            note=form.cleaned_data["note"],
        )
    except ValidationError as error:
        return _refused(request, user=user, alert=alert, error=error)
    messages.success(request, f"儿童 {alert.child.child_id} 的预警已转为案件 {case.number}。")
    return redirect(reverse("cases:detail", args=[case.number]))


def _check(form: Form) -> None:
    if not form.is_valid():
        raise ValidationError([str(text) for texts in form.errors.values() for text in texts])


def _refused(
    request: HttpRequest, *, user: User, alert: Alert, error: ValidationError
) -> HttpResponse:
    text = f"预警 {alert.pk}（儿童 {alert.child.child_id}）未能处理：{'；'.join(error.messages)}"
    return _list(request, user=user, error=text, status=400)


def _list(request: HttpRequest, *, user: User, error: str = "", status: int = 200) -> HttpResponse:
    form = FilterForm(request.GET)
    page = alerts_page(
        user=user,
        status=form.status_value(),
        kind=form.kind_value(),
        page_number=_page_number(request),
    )
    query = urlencode({key: request.GET[key] for key in ("status", "kind") if request.GET.get(key)})
    context = {
        "form": form,
        "page": page,
        "query": query,
        "error": error,
        "dismiss_form": DismissForm(),
        "case_form": ToCaseForm(),
    }
    return render(request, "alerts/list.html", context, status=status)


def _page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    return int(raw) if raw.isdigit() else 1
