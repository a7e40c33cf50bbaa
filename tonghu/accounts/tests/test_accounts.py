from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tonghu.accounts.demo import DEMO_ACCOUNTS, demo_accounts_create
from tonghu.accounts.models import ApiToken, User
from tonghu.accounts.roles import Role
from tonghu.audit.models import Action, AuditEntry
from tonghu.conftest import World, make_user

PASSWORD = "河南-测试-Passw0rd"


def _with_password(user: User) -> User:
    user.set_password(PASSWORD)
    user.save()
    return user


def _login(client: Client, username: str, password: str) -> int:
    response = client.post(reverse("accounts:login"), {"username": username, "password": password})
    return response.status_code


def test_login_uses_argon2_and_lands_on_home(world: World) -> None:
    user = _with_password(world.users[Role.CHILD_DIRECTOR])
    assert user.password.startswith("argon2")
    client = Client()
    response = client.post(
        reverse("accounts:login"), {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("web:home")
    assert AuditEntry.objects.filter(actor=user, action=Action.LOGIN).count() == 1


def test_wrong_password_gives_a_chinese_error_and_is_audited(world: World) -> None:
    user = _with_password(world.users[Role.SUPERVISOR])
    response = Client().post(
        reverse("accounts:login"), {"username": user.username, "password": "wrong"}
    )
    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode()
    failed = AuditEntry.objects.get(action=Action.LOGIN_FAILED)
    assert failed.actor_username == user.username
    assert failed.client_address == "127.0.0.1"


def test_repeated_failures_lock_the_account_even_for_the_right_password(world: World) -> None:
    user = _with_password(world.users[Role.COUNTY_STAFF])
    client = Client()
    for _ in range(5):
        _login(client, user.username, "wrong")
    response = client.post(
        reverse("accounts:login"), {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 429
    assert "账号已被暂时锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_four_failures_do_not_lock(world: World) -> None:
    user = _with_password(world.users[Role.COUNTY_STAFF])
    client = Client()
    for _ in range(4):
        _login(client, user.username, "wrong")
    assert _login(client, user.username, PASSWORD) == 302


def test_login_without_csrf_token_is_refused(world: World) -> None:
    user = _with_password(world.users[Role.CITY_STAFF])
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        reverse("accounts:login"), {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 403
    assert "CSRF" in response.content.decode()


def test_pages_carry_security_headers(world: World) -> None:
    response = Client().get(reverse("accounts:login"))
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "'unsafe-inline'" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("role", "division", "message"),
    [
        (Role.CHILD_DIRECTOR, "410402000000", "儿童主任应属于村级区划"),
        (Role.SUPERVISOR, "410402100201", "儿童督导员应属于乡级区划"),
        (Role.CITY_STAFF, "410402000000", "市级民政工作人员应属于地级区划"),
    ],
)
def test_a_role_must_sit_at_its_level(
    world: World, role: Role, division: str, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        make_user("misplaced", role, division)


def test_a_department_officer_needs_a_department(world: World) -> None:
    with pytest.raises(ValidationError, match="必须指定所属部门"):
        make_user("nodept", Role.DEPARTMENT_OFFICER, "410402000000")


def test_only_system_administrators_are_staff(world: World) -> None:
    assert [u.username for u in User.objects.filter(is_staff=True)] == ["u_sysadmin"]


def test_a_changed_scope_applies_on_the_next_request(world: World) -> None:
    user = world.users[Role.COUNTY_STAFF]
    client = Client()
    client.force_login(user)
    child_url = reverse("children:detail", args=[world.child_in(Role.COUNTY_STAFF).child_id])
    assert client.get(child_url).status_code == 200
    user.division_id = "410403000000"
    user.save()
    # The open session ends at once (back to the login page); signed in again, the new
    # scope applies: the child of the old county is "not found".
    assert client.get(child_url).status_code == 302
    client.force_login(user)
    assert client.get(child_url).status_code == 404
    user.is_active = False
    user.save()
    assert client.get(child_url).status_code == 302


def test_api_token_authenticates_and_only_its_hash_is_stored(world: World) -> None:
    user = world.users[Role.SUPERVISOR]
    _, plain = ApiToken.issue(user=user, name="测试")
    assert not ApiToken.objects.filter(key_hash=plain).exists()
    response = Client().get("/api/accounts/me", headers={"authorization": f"Bearer {plain}"})
    assert response.status_code == 200
    assert response.json()["division_code"] == "410402100000"
    assert response.json()["role_label"] == "儿童督导员"
    wrong = Client().get("/api/accounts/me", headers={"authorization": "Bearer nope"})
    assert wrong.status_code == 401
    user.is_active = False
    user.save()
    refused = Client().get("/api/accounts/me", headers={"authorization": f"Bearer {plain}"})
    assert refused.status_code == 401


def test_token_command_prints_a_working_token(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("token_create", "u_auditor")
    plain = capsys.readouterr().out.strip()
    response = Client().get("/api/accounts/me", headers={"authorization": f"Bearer {plain}"})
    assert response.json()["username"] == "u_auditor"


@pytest.mark.django_db
def test_demo_accounts_one_per_role_with_passwords_shown_once() -> None:
    call_command("divisions_load", "--demo", verbosity=0)
    first = demo_accounts_create()
    assert {account.role for account, _ in first} == set(Role)
    assert all(password for _, password in first)
    account, password = first[0]
    assert password is not None
    assert (
        Client()
        .post(reverse("accounts:login"), {"username": account.username, "password": password})
        .status_code
        == 302
    )
    second = demo_accounts_create()
    assert all(password is None for _, password in second)
    assert User.objects.count() == len(DEMO_ACCOUNTS)
