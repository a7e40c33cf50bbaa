"""The web protections hold on real requests: CSRF, a strict CSP, cookie flags, idle session
expiry, login lockout and the framing and sniffing headers."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tonghu.accounts.models import User
from tonghu.accounts.roles import Role
from tonghu.conftest import World

PASSWORD = "河南-测试-Passw0rd"
LOGIN = reverse("accounts:login")
LOGOUT = reverse("accounts:logout")
HOME = reverse("web:home")
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _with_password(user: User) -> User:
    user.set_password(PASSWORD)
    user.save()
    return user


def _login(client: Client, user: User) -> Any:
    return client.post(LOGIN, {"username": user.username, "password": PASSWORD})


def _csp(response: Any) -> dict[str, list[str]]:
    directives = (part.split() for part in response["Content-Security-Policy"].split(";"))
    return {words[0]: words[1:] for words in directives if words}


# --- CSRF -------------------------------------------------------------------------------------


def test_a_post_form_without_its_csrf_token_is_refused(world: World) -> None:
    user = world.users[Role.COUNTY_STAFF]
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    forged = client.post(LOGOUT)
    assert forged.status_code == 403
    assert "_auth_user_id" in client.session  # the forged logout did nothing

    token = CSRF_FIELD.search(client.get(HOME).content.decode())
    assert token is not None
    genuine = client.post(LOGOUT, {"csrfmiddlewaretoken": token.group(1)})
    assert genuine.status_code == 302
    assert "_auth_user_id" not in client.session


def test_the_login_form_needs_its_csrf_token(world: World) -> None:
    user = _with_password(world.users[Role.SUPERVISOR])
    client = Client(enforce_csrf_checks=True)
    assert _login(client, user).status_code == 403
    token = CSRF_FIELD.search(client.get(LOGIN).content.decode())
    assert token is not None
    response = client.post(
        LOGIN,
        {"username": user.username, "password": PASSWORD, "csrfmiddlewaretoken": token.group(1)},
    )
    assert response.status_code == 302


# --- headers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("signed_in", [False, True])
def test_the_content_security_policy_is_strict(world: World, signed_in: bool) -> None:
    client = Client()
    if signed_in:
        client.force_login(world.users[Role.COUNTY_STAFF])
    response = client.get(HOME if signed_in else LOGIN)
    assert response.status_code == 200
    csp = _csp(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"][0] == "'self'"
    assert [source for source in csp["script-src"][1:] if not source.startswith("'nonce-")] == []
    assert csp["style-src"] == ["'self'"]
    assert csp["img-src"] == ["'self'", "data:"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert "<script>" not in response.content.decode()  # no inline script without a nonce


@pytest.mark.parametrize("signed_in", [False, True])
def test_pages_cannot_be_framed_or_sniffed(world: World, signed_in: bool) -> None:
    client = Client()
    if signed_in:
        client.force_login(world.users[Role.CHILD_DIRECTOR])
    response = client.get(HOME if signed_in else LOGIN)
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_api_answers_carry_the_same_headers(world: World) -> None:
    client = Client()
    client.force_login(world.users[Role.SUPERVISOR])
    response = client.get("/api/accounts/me")
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


# --- cookies and sessions -----------------------------------------------------------------------


def test_the_session_cookie_is_http_only_same_site_and_ends_with_the_browser(
    world: World,
) -> None:
    user = _with_password(world.users[Role.CITY_STAFF])
    response = _login(Client(), user)
    cookie = response.cookies[django_settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert not cookie["secure"]  # plain HTTP by default (TONGHU_HTTPS off)
    assert not cookie["max-age"]  # no lasting cookie: it goes when the browser closes


def test_cookies_are_secure_behind_https(world: World, settings: Any) -> None:
    settings.SESSION_COOKIE_SECURE = True  # what TONGHU_HTTPS=1 sets
    settings.CSRF_COOKIE_SECURE = True
    user = _with_password(world.users[Role.CITY_STAFF])
    client = Client()
    client.get(LOGIN, secure=True)
    response = client.post(LOGIN, {"username": user.username, "password": PASSWORD}, secure=True)
    assert response.cookies[django_settings.SESSION_COOKIE_NAME]["secure"] is True
    assert client.cookies[django_settings.CSRF_COOKIE_NAME]["secure"] is True
    assert client.cookies[django_settings.CSRF_COOKIE_NAME]["httponly"] is True


def test_tonghu_https_turns_on_secure_cookies_redirects_and_hsts(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "TONGHU_HTTPS": "1",
        "TONGHU_SECRET_KEY": "k" * 50,
        "TONGHU_VAR_DIR": str(tmp_path),
    }
    names = [
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
    ]
    script = (
        "import json, tonghu.config.settings as s; "
        f"print(json.dumps({{n: getattr(s, n) for n in {names!r}}}))"
    )
    done = subprocess.run(  # noqa: S603  (our own interpreter and a fixed script)
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    values = json.loads(done.stdout.strip().splitlines()[-1])
    assert values == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31_536_000,
    }


def test_a_session_ends_after_the_idle_time_and_activity_extends_it(world: World) -> None:
    client = Client()
    client.force_login(world.users[Role.COUNTY_STAFF])
    assert client.get(HOME).status_code == 200
    key = client.session.session_key
    age = django_settings.SESSION_COOKIE_AGE
    assert client.session.get_expiry_age() == age

    # Nearly idle for the whole age: one more request gives it the full age again.
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() + dt.timedelta(seconds=60)
    )
    assert client.get(HOME).status_code == 200
    left = Session.objects.get(session_key=key).expire_date - timezone.now()
    assert age - 60 < left.total_seconds() <= age

    # Idle for longer than the age: the session is gone and the user must sign in again.
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )
    response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


# --- lockout --------------------------------------------------------------------------------------


def test_five_wrong_passwords_lock_the_account_with_a_chinese_message(world: World) -> None:
    user = _with_password(world.users[Role.SUPERVISOR])
    client = Client()
    for _ in range(4):
        wrong = client.post(LOGIN, {"username": user.username, "password": "wrong"})
        assert wrong.status_code == 200
        assert "请输入一个正确的" in wrong.content.decode()
    fifth = client.post(LOGIN, {"username": user.username, "password": "wrong"})
    assert fifth.status_code == 429
    locked = _login(client, user)
    assert locked.status_code == 429
    assert "账号已被暂时锁定" in locked.content.decode()
    assert "_auth_user_id" not in client.session
