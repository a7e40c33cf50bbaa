"""Two-factor sign-in: setting a TOTP device up, the code after the password, the lockout,
roles the policy profile obliges, and how the JSON API answers a session that owes its code."""

from __future__ import annotations

import datetime as dt
import time
from base64 import b32encode
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tonghu.accounts.models import ApiToken, User
from tonghu.accounts.roles import Role
from tonghu.accounts.two_factor import provisioning_uri
from tonghu.audit.models import Action, AuditEntry
from tonghu.conftest import World
from tonghu.services.lists import service_list_load

PASSWORD = "河南-测试-Passw0rd"
HOME = reverse("web:home")
SETUP = reverse("accounts:two_factor")
VERIFY = reverse("accounts:two_factor_verify")
DISABLE = reverse("accounts:two_factor_disable")
LOGIN = reverse("accounts:login")


def _code(device: Any, *, steps_ahead: int = 0) -> str:
    """What the user's authenticator app shows now (or ``steps_ahead`` periods later)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def _wrong_code(device: Any) -> str:
    right = {_code(device, steps_ahead=step) for step in (-1, 0, 1)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in right)


def _seconds_pass(device: Any, seconds: int) -> None:
    """Move the device's last failure back, as if the user had waited before typing again."""
    earlier = timezone.now() - dt.timedelta(seconds=seconds)
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=earlier)


def _with_password(user: User) -> User:
    user.set_password(PASSWORD)
    user.save()
    return user


def _device(user: User) -> Any:
    return TOTPDevice.objects.create(user=user, name="动态口令", confirmed=True)


def _password_login(user: User) -> tuple[Client, Any]:
    client = Client()
    response = client.post(LOGIN, {"username": user.username, "password": PASSWORD})
    return client, response


def _verified_client(user: User, device: Any) -> Client:
    """A session that has already entered its code (as after the verify page)."""
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def county_requires_two_factor(world: World, tmp_path: Path) -> None:
    """新华区's own list, in force since 2020, obliges 区县民政工作人员 to use two factors."""
    path = tmp_path / "xinhua.yaml"
    path.write_text(
        "extends: default\nprivacy:\n  two_factor_roles: [county_staff]\n", encoding="utf-8"
    )
    service_list_load(county_code="410402", path=path, effective_from=dt.date(2020, 1, 1))


# --- setting a device up ----------------------------------------------------------------------


def test_setup_shows_the_secret_and_a_qr_code_and_counts_only_after_a_right_code(
    world: World,
) -> None:
    user = world.users[Role.CHILD_DIRECTOR]
    client = Client()
    client.force_login(user)
    page = client.get(SETUP)
    assert page.status_code == 200
    html = page.content.decode()
    device = TOTPDevice.objects.get(user=user)
    assert not device.confirmed
    secret = b32encode(device.bin_key).decode()
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in html
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert "style=" not in svg  # the CSP allows no inline styles
    assert "<script>" not in html
    assert f"secret={secret}" in provisioning_uri(device)
    assert page["Cache-Control"].startswith("max-age=0")

    wrong = client.post(SETUP, {"code": _wrong_code(device)})
    assert "动态口令不正确" in wrong.content.decode()
    device.refresh_from_db()
    assert not device.confirmed

    _seconds_pass(device, 5)
    confirmed = client.post(SETUP, {"code": _code(device)}, follow=True)
    assert "已启用双因素认证" in confirmed.content.decode()
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(HOME).status_code == 200  # this session showed a code already
    entry = AuditEntry.objects.get(action=Action.CREATE, object_type="two_factor_device")
    assert entry.actor == user
    assert entry.object_ids == [str(device.pk)]


def test_reloading_the_setup_page_keeps_the_same_secret(world: World) -> None:
    client = Client()
    client.force_login(world.users[Role.SUPERVISOR])
    first = client.get(SETUP).content.decode()
    second = client.get(SETUP).content.decode()
    secret = first.split("<code>")[1].split("</code>")[0]
    assert len(secret.replace(" ", "")) == 32
    assert secret == second.split("<code>")[1].split("</code>")[0]
    assert TOTPDevice.objects.filter(user=world.users[Role.SUPERVISOR]).count() == 1


def test_a_device_not_yet_confirmed_asks_nothing_at_login(world: World) -> None:
    user = _with_password(world.users[Role.CHILD_DIRECTOR])
    TOTPDevice.objects.create(user=user, name="动态口令", confirmed=False)
    client, response = _password_login(user)
    assert response["Location"] == HOME
    assert client.get(HOME).status_code == 200


# --- the code at sign-in ----------------------------------------------------------------------


def test_login_asks_for_the_code_after_the_password(world: World) -> None:
    user = _with_password(world.users[Role.COUNTY_STAFF])
    device = _device(user)
    client = Client()
    children = reverse("children:list")
    response = client.post(
        f"{LOGIN}?next={children}",
        {"username": user.username, "password": PASSWORD, "next": children},
    )
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY)
    assert "_auth_user_id" in client.session
    assert DEVICE_ID_SESSION_KEY not in client.session
    held = client.get(HOME)
    assert held.status_code == 302
    assert held["Location"].startswith(VERIFY)

    page = client.get(response["Location"])
    assert "输入动态口令" in page.content.decode()
    done = client.post(VERIFY, {"code": _code(device), "next": children})
    assert done.status_code == 302
    assert done["Location"] == children
    assert client.get(children).status_code == 200
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    passed = AuditEntry.objects.get(action=Action.LOGIN, object_type="two_factor")
    assert passed.actor == user


def test_the_code_page_does_not_send_on_to_another_site(world: World) -> None:
    user = _with_password(world.users[Role.COUNTY_STAFF])
    device = _device(user)
    client, _ = _password_login(user)
    done = client.post(VERIFY, {"code": _code(device), "next": "https://evil.example/"})
    assert done["Location"] == HOME


def test_a_wrong_code_is_refused_in_chinese_and_audited(world: World) -> None:
    user = _with_password(world.users[Role.SUPERVISOR])
    device = _device(user)
    client, _ = _password_login(user)
    response = client.post(VERIFY, {"code": _wrong_code(device)})
    assert response.status_code == 200
    assert "动态口令不正确，请重新输入。" in response.content.decode()
    assert client.get(HOME).status_code == 302
    not_digits = client.post(VERIFY, {"code": "abc"})
    assert "请输入手机应用中显示的 6 位数字" in not_digits.content.decode()
    failed = AuditEntry.objects.get(action=Action.LOGIN_FAILED, object_type="two_factor")
    assert failed.actor == user
    assert failed.detail == "动态口令错误"


def test_a_right_code_typed_at_once_after_a_wrong_one_waits(world: World) -> None:
    user = _with_password(world.users[Role.SUPERVISOR])
    device = _device(user)
    client, _ = _password_login(user)
    client.post(VERIFY, {"code": _wrong_code(device)})
    hurried = client.post(VERIFY, {"code": _code(device)})
    assert "尝试过于频繁" in hurried.content.decode()
    _seconds_pass(device, 5)
    assert client.post(VERIFY, {"code": _code(device)})["Location"] == HOME


def test_five_wrong_codes_lock_the_account_like_wrong_passwords(world: World) -> None:
    user = _with_password(world.users[Role.COUNTY_STAFF])
    device = _device(user)
    client, _ = _password_login(user)
    for _ in range(4):
        assert client.post(VERIFY, {"code": _wrong_code(device)}).status_code == 200
    locked = client.post(VERIFY, {"code": _wrong_code(device)})
    assert locked.status_code == 429
    assert "账号已被暂时锁定" in locked.content.decode()
    assert "_auth_user_id" not in client.session

    again, response = _password_login(user)
    assert response.status_code == 429
    assert "账号已被暂时锁定" in response.content.decode()
    assert "_auth_user_id" not in again.session
    assert AuditEntry.objects.filter(action=Action.LOGIN_FAILED, actor=user).count() == 5


def test_logging_in_again_does_not_reset_the_count_of_wrong_codes(world: World) -> None:
    user = _with_password(world.users[Role.COUNTY_STAFF])
    device = _device(user)
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_count=5, throttling_failure_timestamp=timezone.now()
    )
    client, response = _password_login(user)  # the password is right: axes forgets
    assert response["Location"].startswith(VERIFY)
    refused = client.post(VERIFY, {"code": _code(device)})
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session

    _seconds_pass(device, 31 * 60)  # after the cool-off time the code is taken again
    client, _ = _password_login(user)
    assert client.post(VERIFY, {"code": _code(device)})["Location"] == HOME


# --- roles the profile obliges ------------------------------------------------------------------


@pytest.mark.usefixtures("county_requires_two_factor")
def test_a_required_role_is_sent_to_set_up_before_anything_else(world: World) -> None:
    user = world.users[Role.COUNTY_STAFF]
    client = Client()
    client.force_login(user)
    for url in (HOME, reverse("children:list"), VERIFY, "/admin/"):
        held = client.get(url)
        assert held.status_code == 302
        assert held["Location"].startswith(SETUP)
    page = client.get(SETUP)
    assert "您的角色须使用双因素认证" in page.content.decode()
    device = TOTPDevice.objects.get(user=user)
    client.post(SETUP, {"code": _code(device)})
    assert client.get(HOME).status_code == 200

    other = Client()  # a role the list does not name, in the same county
    other.force_login(world.users[Role.AUDITOR])
    assert other.get(HOME).status_code == 200


@pytest.mark.usefixtures("county_requires_two_factor")
def test_a_required_role_cannot_turn_it_off(world: World) -> None:
    user = world.users[Role.COUNTY_STAFF]
    device = _device(user)
    client = _verified_client(user, device)
    page = client.get(SETUP).content.decode()
    assert "不能停用" in page
    assert DISABLE not in page
    response = client.post(DISABLE, {"code": _code(device)}, follow=True)
    assert "您的角色须使用双因素认证，不能停用。" in response.content.decode()
    assert TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    assert not AuditEntry.objects.filter(action=Action.DELETE).exists()


def test_the_default_profile_obliges_no_one(world: World) -> None:
    for user in world.users.values():
        client = Client()
        client.force_login(user)
        assert client.get(HOME).status_code == 200, user.role


# --- turning it off -----------------------------------------------------------------------------


def test_turning_it_off_needs_a_current_code_and_is_audited(world: World) -> None:
    user = _with_password(world.users[Role.CITY_STAFF])
    device = _device(user)
    client = _verified_client(user, device)
    kept = client.post(DISABLE, {"code": _wrong_code(device)}, follow=True)
    assert "动态口令不正确，双因素认证未停用。" in kept.content.decode()
    assert TOTPDevice.objects.filter(user=user).exists()

    _seconds_pass(device, 5)
    removed = client.post(DISABLE, {"code": _code(device)}, follow=True)
    assert "已停用双因素认证" in removed.content.decode()
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    entry = AuditEntry.objects.get(action=Action.DELETE, object_type="two_factor_device")
    assert entry.actor == user
    assert entry.object_ids == [str(device.pk)]
    _, response = _password_login(user)
    assert response["Location"] == HOME


def test_a_session_that_owes_its_code_cannot_reach_setup_or_turn_it_off(world: World) -> None:
    user = world.users[Role.CITY_STAFF]
    device = _device(user)
    client = Client()
    client.force_login(user)
    assert client.get(SETUP)["Location"].startswith(VERIFY)
    refused = client.post(DISABLE, {"code": _code(device)})
    assert refused["Location"].startswith(VERIFY)
    assert TOTPDevice.objects.filter(user=user).exists()
    assert client.get("/admin/")["Location"].startswith(VERIFY)


# --- the JSON API -------------------------------------------------------------------------------


def test_the_api_answers_json_to_a_session_that_owes_its_code(world: World) -> None:
    user = world.users[Role.SUPERVISOR]
    device = _device(user)
    client = Client()
    client.force_login(user)
    response = client.get("/api/accounts/me")
    assert response.status_code == 401
    assert response.json() == {"detail": "请先输入动态口令完成登录。"}
    assert response["X-Content-Type-Options"] == "nosniff"
    assert _verified_client(user, device).get("/api/accounts/me").status_code == 200


@pytest.mark.usefixtures("county_requires_two_factor")
def test_the_api_answers_403_to_a_required_role_without_a_device(world: World) -> None:
    client = Client()
    client.force_login(world.users[Role.COUNTY_STAFF])
    response = client.get("/api/accounts/me")
    assert response.status_code == 403
    assert "设置双因素认证" in response.json()["detail"]


def test_bearer_tokens_are_a_separate_credential(world: World) -> None:
    user = world.users[Role.SUPERVISOR]
    _device(user)
    _, plain = ApiToken.issue(user=user, name="测试")
    bearer = {"authorization": f"Bearer {plain}"}
    assert Client().get("/api/accounts/me", headers=bearer).status_code == 200
    session = Client()
    session.force_login(user)
    assert session.get("/api/accounts/me", headers=bearer).status_code == 200
    # Someone else's token does not open the API to a session that owes its code.
    _, other = ApiToken.issue(user=world.users[Role.AUDITOR], name="测试")
    foreign = session.get("/api/accounts/me", headers={"authorization": f"Bearer {other}"})
    assert foreign.status_code == 401
