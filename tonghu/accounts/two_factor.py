"""Two-factor sign-in with a TOTP device (django-otp): who must use it, setting a device up,
checking the code at sign-in under the same lockout as passwords (django-axes), and the
middleware that holds a session which still owes its code (or its set-up) at that page."""

from __future__ import annotations

import datetime as dt
from base64 import b32encode
from collections.abc import Callable
from enum import StrEnum
from typing import Any
from urllib.parse import quote, urlencode

import django_otp
import segno
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off, get_credentials, get_lockout_response
from django.conf import settings
from django.contrib.auth import logout
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tonghu.accounts.models import ApiToken, User
from tonghu.audit.models import Action
from tonghu.audit.services import audit_record
from tonghu.services.lists import profile_for

ISSUER = "童护"  # the account's name in the authenticator app
DEVICE_NAME = "动态口令"
DEVICE_OBJECT = "two_factor_device"  # audit object type of set-up and removal
SIGN_IN_OBJECT = "two_factor"  # audit object type of code checks at sign-in


class Gate(StrEnum):
    """What a signed-in session must do before it may use the site."""

    VERIFY = "verify"  # enter the code of its confirmed device
    SETUP = "setup"  # its role requires a device and it has none yet


class CodeOutcome(StrEnum):
    ACCEPTED = "accepted"
    WRONG = "wrong"
    THROTTLED = "throttled"  # the device refuses codes for a few seconds after a wrong one
    LOCKED = "locked"


GATE_URLS = {Gate.VERIFY: "accounts:two_factor_verify", Gate.SETUP: "accounts:two_factor"}
API_REFUSALS = {
    Gate.VERIFY: (401, "请先输入动态口令完成登录。"),
    Gate.SETUP: (403, "您的角色须先设置双因素认证（动态口令）。"),
}


# --- who must do what ---------------------------------------------------------------------


def two_factor_required(user: User) -> bool:
    """Whether the policy profile in force for the user's county requires it of their role."""
    return user.role in profile_for(user).privacy.two_factor_roles


def confirmed_device(user: User) -> Any:
    """The user's confirmed TOTP device (a ``TOTPDevice``), or None."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def session_verified(user: object) -> bool:
    """Whether this session entered a code (``OTPMiddleware`` sets ``otp_device``)."""
    return getattr(user, "otp_device", None) is not None


def gate_for(user: object) -> Gate | None:
    """The step a signed-in user still owes before anything else, if any."""
    if not isinstance(user, User) or session_verified(user):
        return None
    if confirmed_device(user) is not None:
        return Gate.VERIFY
    if two_factor_required(user):
        return Gate.SETUP
    return None


def gate_url(gate: Gate, *, next_url: str = "") -> str:
    url = reverse(GATE_URLS[gate])
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


# --- setting a device up and removing it ----------------------------------------------------


def pending_device(*, user: User) -> Any:
    """The device being set up: made on the first visit, its secret kept until confirmed."""
    pending = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return pending or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def secret_text(device: Any) -> str:
    """The device's secret in base32, in groups of four for typing into an app by hand."""
    secret = b32encode(device.bin_key).decode("ascii")
    return " ".join(secret[start : start + 4] for start in range(0, len(secret), 4))


def provisioning_uri(device: Any) -> str:
    """The ``otpauth://`` address authenticator apps read from the QR code."""
    label = quote(f"{ISSUER}:{device.user.username}")
    query = urlencode(
        {
            "secret": b32encode(device.bin_key).decode("ascii"),
            "issuer": ISSUER,
            "algorithm": "SHA1",
            "digits": device.digits,
            "period": device.step,
        }
    )
    return f"otpauth://totp/{label}?{query}"


def qr_svg(device: Any) -> str:
    """An inline SVG QR code of the device's address (no script or style: fits the CSP)."""
    code = segno.make(provisioning_uri(device), error="m")
    return code.svg_inline(scale=4, border=2, light="#fff", svgclass="qr", title="动态口令二维码")


@transaction.atomic
def device_confirm(*, user: User, device: Any, code: str) -> bool:
    """Count ``device`` once it gives a right code; the user's other devices are removed."""
    if django_otp.verify_token(user, device.persistent_id, code) is None:
        return False
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
    device.confirmed = True
    audit_record(
        actor=user,
        action=Action.CREATE,
        object_type=DEVICE_OBJECT,
        object_ids=[device.pk],
        detail="启用双因素认证（动态口令）",
    )
    return True


@transaction.atomic
def device_remove(*, user: User, code: str) -> bool:
    """Turn two-factor sign-in off, given a current code; refused where the role requires it."""
    if two_factor_required(user):
        raise PermissionDenied("您的角色须使用双因素认证，不能停用。")
    device = confirmed_device(user)
    if device is None or django_otp.verify_token(user, device.persistent_id, code) is None:
        return False
    devices = TOTPDevice.objects.filter(user=user)
    removed = [str(pk) for pk in devices.values_list("pk", flat=True)]
    devices.delete()
    audit_record(
        actor=user,
        action=Action.DELETE,
        object_type=DEVICE_OBJECT,
        object_ids=removed,
        detail="停用双因素认证（动态口令）",
    )
    return True


# --- the code at sign-in ------------------------------------------------------------------


def _device_cooling_off(device: Any) -> bool:
    """Too many wrong codes in a row on the device itself, the last within the cool-off time.

    Axes forgets failures when the password is entered right again; the device does not,
    so logging in again does not buy another round of guesses."""
    last: dt.datetime | None = device.throttling_failure_timestamp
    if device.throttling_failure_count < settings.AXES_FAILURE_LIMIT or last is None:
        return False
    cool_off = get_cool_off()
    return cool_off is None or timezone.now() - last < cool_off


def sign_in_locked(*, request: HttpRequest, user: User, device: Any) -> bool:
    """Locked out like a password: by axes (account or address) or by the device's failures."""
    if not AxesProxyHandler.is_allowed(request, get_credentials(user.username)):
        return True
    return device is not None and _device_cooling_off(device)


def sign_in_code_check(*, request: HttpRequest, user: User, device: Any, code: str) -> CodeOutcome:
    """Check the code owed after the password; a right one marks the session verified."""
    if sign_in_locked(request=request, user=user, device=device):
        return CodeOutcome.LOCKED
    allowed, _ = device.verify_is_allowed()
    verified = django_otp.verify_token(user, device.persistent_id, code) if allowed else None
    if verified is not None:
        _sign_in_accepted(request=request, user=user, device=verified)
        return CodeOutcome.ACCEPTED
    _sign_in_failed(request=request, user=user, throttled=not allowed)
    if sign_in_locked(request=request, user=user, device=confirmed_device(user)):
        return CodeOutcome.LOCKED
    return CodeOutcome.WRONG if allowed else CodeOutcome.THROTTLED


def session_mark_verified(request: HttpRequest, device: Any) -> None:
    """The session has shown a code of ``device``: it counts as fully signed in."""
    request.session.cycle_key()  # a new session id for the raised session
    django_otp.login(request, device)


def _sign_in_accepted(*, request: HttpRequest, user: User, device: Any) -> None:
    session_mark_verified(request, device)
    if settings.AXES_RESET_ON_SUCCESS:
        AxesProxyHandler.reset_attempts(username=user.username)
    audit_record(
        actor=user,
        action=Action.LOGIN,
        object_type=SIGN_IN_OBJECT,
        object_ids=[device.pk],
        detail="动态口令验证通过",
    )


def _sign_in_failed(*, request: HttpRequest, user: User, throttled: bool) -> None:
    """Count the failure towards the axes lockout (the same one wrong passwords use)."""
    AxesProxyHandler.user_login_failed(
        sender=__name__, credentials=get_credentials(user.username), request=request
    )
    audit_record(
        actor=user,
        action=Action.LOGIN_FAILED,
        object_type=SIGN_IN_OBJECT,
        detail="动态口令尝试过于频繁" if throttled else "动态口令错误",
    )


def locked_out_response(request: HttpRequest, user: User) -> HttpResponse:
    """End the half-signed-in session and answer with the lockout page (as for passwords)."""
    credentials = get_credentials(user.username)
    logout(request)
    response: HttpResponse = get_lockout_response(request, None, credentials)
    return response


# --- the middleware -----------------------------------------------------------------------


def _always_open(path: str) -> bool:
    open_paths = (reverse("accounts:login"), reverse("accounts:logout"))
    return path in open_paths or path.startswith(settings.STATIC_URL or "/static/")


def _is_api(path: str) -> bool:
    return path.startswith("/api/")


def _bearer_of_same_user(request: HttpRequest, user: User) -> bool:
    """An API call with its own valid token for this user (tokens are a separate credential)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    found = ApiToken.objects.matching(token.strip())
    return found is not None and found.user_id == user.pk


def _held(request: HttpRequest) -> HttpResponse | None:
    """The answer for a request that must first go through the code or set-up page, if any."""
    path = request.path
    if _always_open(path):
        return None
    gate = gate_for(request.user)
    if gate is None or path == reverse(GATE_URLS[gate]):
        return None
    if _is_api(path):
        if isinstance(request.user, User) and _bearer_of_same_user(request, request.user):
            return None
        status, detail = API_REFUSALS[gate]
        return JsonResponse({"detail": detail}, status=status)
    next_url = request.get_full_path() if request.method in ("GET", "HEAD") else ""
    return HttpResponseRedirect(gate_url(gate, next_url=next_url))


class TwoFactorMiddleware:
    """Holds a signed-in but unverified session at the code page (or at set-up when its role
    requires a device it has not got); the JSON API answers 401/403 instead. Goes after
    ``django_otp.middleware.OTPMiddleware``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return _held(request) or self.get_response(request)
