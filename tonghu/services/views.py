from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_POST

from tonghu.accounts.roles import Capability
from tonghu.accounts.scope import require
from tonghu.accounts.utils import acting_user
from tonghu.audit.models import Action
from tonghu.audit.services import audit_record
from tonghu.policy.rules import describe
from tonghu.services.coverage import HEADER as COVERAGE_HEADER
from tonghu.services.coverage import coverage_table, service_coverage
from tonghu.services.forms import DeclineForm, DeliverForm
from tonghu.services.lists import only_county_with_lists, profile_for, profile_in_force
from tonghu.services.models import Referral
from tonghu.services.selectors import access_referral, inbox_page
from tonghu.services.services import referral_accept, referral_decline, referral_deliver
from tonghu.web.exports import xlsx_bytes, xlsx_response

if TYPE_CHECKING:
    from tonghu.accounts.models import User


def public_list(request: HttpRequest) -> HttpResponse:
    """The service list in force, in plain Chinese, for families (宣传解读): no login."""
    county = request.GET.get("county", "")
    if not (county.isdigit() and len(county) == 6):
        county = only_county_with_lists() or ""
    profile = profile_in_force(county_code=county, day=timezone.localdate())
    items = [
        {
            "code": item.code,
            "name": item.name,
            "who": describe(item.who),
            "content": item.content,
            "responsible": item.responsible,
        }
        for item in profile.services.items
    ]
    context = {"profile": profile, "items": items}
    return render(request, "services/public.html", context)


STATUS_FILTERS = {"open": Referral.OPEN_STATUSES, "done": (Referral.Status.DELIVERED,)}


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """A department's referrals: only what the service needs (name, age, village, service)."""
    user = acting_user(request)
    require(user, Capability.VIEW_REFERRALS)
    shown = request.GET.get("status", "open")
    raw = request.GET.get("page", "1")
    page = inbox_page(
        user=user,
        statuses=STATUS_FILTERS.get(shown, Referral.OPEN_STATUSES),
        overdue_on=timezone.localdate() if shown == "overdue" else None,
        page_number=int(raw) if raw.isdigit() else 1,
    )
    _named(list(page.object_list), user)
    context = {"page": page, "shown": shown, "today": timezone.localdate()}
    return render(request, "services/inbox.html", context)


@login_required
@require_POST
def act(request: HttpRequest, referral_id: int) -> HttpResponse:
    user = acting_user(request)
    action = request.POST.get("action", "")
    error = ""
    try:
        if action == "accept":
            referral_accept(user=user, referral_id=referral_id)
        elif action == "deliver":
            form = DeliverForm(request.POST)
            if not form.is_valid():
                raise ValidationError("请填写服务日期、服务内容和服务提供人。")
            referral_deliver(user=user, referral_id=referral_id, **form.cleaned_data)
        elif action == "decline":
            declined = DeclineForm(request.POST)
            if not declined.is_valid():
                raise ValidationError("请填写退回理由。")
            referral_decline(user=user, referral_id=referral_id, **declined.cleaned_data)
        else:
            error = "未知的操作。"
    except ValidationError as exc:
        error = "；".join(exc.messages)
    (referral,) = _named([access_referral(user=user, referral_id=referral_id)], user)
    context = {"referral": referral, "error": error, "today": timezone.localdate()}
    return render(request, "services/_referral.html", context)


def _named(referrals: list[Referral], user: User) -> list[Referral]:
    """Each referral with the name its service has in the list in force for the user."""
    names = {item.code: item.name for item in profile_for(user).services.items}
    for referral in referrals:
        referral.service_name = names.get(referral.service_code, "")  # type: ignore[attr-defined]
    return referrals


@login_required
def coverage(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    names = {item.code: item.name for item in profile_for(user).services.items}
    rows = service_coverage(user=user, names=names)
    if request.GET.get("format") == "xlsx":
        content = xlsx_bytes([("服务实现程度", COVERAGE_HEADER, coverage_table(rows))])
        audit_record(
            actor=user, action=Action.EXPORT, object_type="service_coverage",
            detail="导出服务实现程度统计",
        )  # fmt: skip
        return xlsx_response(content, f"服务实现程度-{user.division_id[:6]}.xlsx")
    return render(request, "services/coverage.html", {"rows": rows})
