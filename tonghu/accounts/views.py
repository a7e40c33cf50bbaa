"""Sign-in (password, then the TOTP code where the user has a device) and the 双因素认证 page."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from tonghu.accounts.forms import CodeForm
from tonghu.accounts.models import User
from tonghu.accounts.two_factor import (
    CodeOutcome,
    Gate,
    confirmed_device,
    device_confirm,
    device_remove,
    gate_for,
    gate_url,
    locked_out_response,
    pending_device,
    qr_svg,
    secret_text,
    session_mark_verified,
    session_verified,
    sign_in_code_check,
    sign_in_locked,
    two_factor_required,
)
from tonghu.accounts.utils import acting_user

WRONG_CODE = "动态口令不正确，请重新输入。"
THROTTLED = "尝试过于频繁，请稍候几秒再输入新的动态口令。"


class SignInView(LoginView):
    """The password step; a user who owes a code (or a device) is sent on to that page."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_success_url(self) -> str:
        target = super().get_success_url()
        gate = gate_for(self.request.user)
        return gate_url(gate, next_url=target) if gate is not None else target


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@never_cache
@login_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """The second sign-in step: the code from the user's authenticator app."""
    user = acting_user(request)
    device = confirmed_device(user)
    target = _safe_next(request)
    if device is None or session_verified(request.user):
        return redirect(target)
    if sign_in_locked(request=request, user=user, device=device):
        return locked_out_response(request, user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        outcome = sign_in_code_check(
            request=request, user=user, device=device, code=form.cleaned_data["code"]
        )
        if outcome is CodeOutcome.ACCEPTED:
            return redirect(target)
        if outcome is CodeOutcome.LOCKED:
            return locked_out_response(request, user)
        form.add_error("code", THROTTLED if outcome is CodeOutcome.THROTTLED else WRONG_CODE)
    context = {"form": form, "next": target, "navigation": []}
    return render(request, "accounts/two_factor_verify.html", context)


@never_cache
@login_required
def two_factor(request: HttpRequest) -> HttpResponse:
    """Set up a TOTP device (secret, QR code, confirm with a code), or see that it is on."""
    user = acting_user(request)
    required = two_factor_required(user)
    if confirmed_device(user) is None:
        return _two_factor_setup(request, user=user, required=required)
    if not session_verified(request.user):
        return redirect(gate_url(Gate.VERIFY))
    context = {"enabled": True, "required": required, "form": CodeForm()}
    return render(request, "accounts/two_factor.html", context)


def _two_factor_setup(request: HttpRequest, *, user: User, required: bool) -> HttpResponse:
    device = pending_device(user=user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device_confirm(user=user, device=device, code=form.cleaned_data["code"]):
            session_mark_verified(request, device)
            messages.success(request, "已启用双因素认证。今后登录时，输入密码后还需输入动态口令。")
            return redirect(_safe_next(request) if "next" in request.GET else "accounts:two_factor")
        form.add_error("code", "动态口令不正确。请核对手机时间，稍候几秒后输入新的口令。")
    context = {
        "enabled": False,
        "required": required,
        "form": form,
        "secret": secret_text(device),
        "qr_svg": qr_svg(device),
    }
    if required:
        context["navigation"] = []  # nothing else opens until the device is set up
    return render(request, "accounts/two_factor.html", context)


@require_POST
@login_required
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    """Turn two-factor sign-in off with a current code (not where the role requires it)."""
    user = acting_user(request)
    form = CodeForm(request.POST)
    try:
        removed = form.is_valid() and device_remove(user=user, code=form.cleaned_data["code"])
    except PermissionDenied as refusal:
        messages.error(request, str(refusal))
        return redirect("accounts:two_factor")
    if removed:
        messages.success(request, "已停用双因素认证。")
    else:
        messages.error(request, "动态口令不正确，双因素认证未停用。")
    return redirect("accounts:two_factor")
