from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from tonghu.accounts.utils import acting_user
from tonghu.privacy.forms import EmergencyAccessForm, ExportReasonForm, ReviewForm
from tonghu.privacy.selectors import (
    REVIEW_PAGE_ROWS,
    access_grant,
    emergency_grants_for_review,
)
from tonghu.privacy.services import (
    emergency_access_open,
    emergency_access_review,
    may_break_glass,
)
from tonghu.services.lists import profile_for


def export_with_reason(
    request: HttpRequest, *, title: str, export: Callable[[str], HttpResponse]
) -> HttpResponse:
    """An export of personal data: GET asks for the reason, POST exports with it (the
    export function checks the right and writes the audit entry with the reason)."""
    form = ExportReasonForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            return export(form.cleaned_data["reason"])
        except ValidationError as error:
            form.add_error("reason", error)
    status = 400 if form.is_bound else 200
    context = {"form": form, "title": title}
    return render(request, "privacy/export_reason.html", context, status=status)


@login_required
def emergency_open(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    if not may_break_glass(user):
        raise PermissionDenied("您的角色不能紧急查阅辖区外的儿童档案。")
    form = EmergencyAccessForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            grant = emergency_access_open(user=user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("children:detail", child_id=grant.child.child_id)
    status = 400 if form.is_bound else 200
    hours = profile_for(user).privacy.break_glass_hours
    return render(request, "privacy/emergency.html", {"form": form, "hours": hours}, status=status)


@login_required
def emergency_review_list(request: HttpRequest) -> HttpResponse:
    grants = emergency_grants_for_review(user=acting_user(request))[:REVIEW_PAGE_ROWS]
    return render(request, "privacy/review.html", {"grants": grants, "form": ReviewForm()})


@login_required
@require_POST
def emergency_review(request: HttpRequest, grant_id: int) -> HttpResponse:
    user = acting_user(request)
    grant = access_grant(user=user, grant_id=grant_id)
    form = ReviewForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            emergency_access_review(grant=grant, auditor=user, note=form.cleaned_data["note"])
        except ValidationError as exc:
            error = "；".join(exc.messages)
    if error:
        grants = emergency_grants_for_review(user=user)[:REVIEW_PAGE_ROWS]
        context = {"grants": grants, "form": form, "error": error}
        return render(request, "privacy/review.html", context, status=400)
    return redirect("privacy:review")
