"""Demo accounts: one per role in the demo county (平顶山市新华区, see divisions/data)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.db import transaction

from tonghu.accounts.models import User
from tonghu.accounts.roles import Department, Role


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: Role
    division_code: str
    department: str = ""
    organisation: str = ""


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("director", Role.CHILD_DIRECTOR, "410402100201"),
    DemoAccount("supervisor", Role.SUPERVISOR, "410402100000"),
    DemoAccount("county", Role.COUNTY_STAFF, "410402000000"),
    # A second county staff member: help plans and closures need another person's approval.
    DemoAccount("county2", Role.COUNTY_STAFF, "410402000000"),
    DemoAccount("city", Role.CITY_STAFF, "410400000000"),
    DemoAccount("edu", Role.DEPARTMENT_OFFICER, "410402000000", Department.EDUCATION),
    DemoAccount("police", Role.DEPARTMENT_OFFICER, "410402000000", Department.PUBLIC_SECURITY),
    DemoAccount("reporter", Role.REPORTER, "410402100201", organisation="东湾村小学"),
    DemoAccount("admin", Role.SYSADMIN, "410402000000"),
    DemoAccount("auditor", Role.AUDITOR, "410402000000"),
)


@transaction.atomic
def demo_accounts_create(*, reset_passwords: bool = False) -> list[tuple[DemoAccount, str | None]]:
    """Create missing demo accounts; returns each with its new password (None if unchanged)."""
    results: list[tuple[DemoAccount, str | None]] = []
    for account in DEMO_ACCOUNTS:
        user = User.objects.filter(username=account.username).first()
        if user is not None and not reset_passwords:
            results.append((account, None))
            continue
        if user is None:
            user = User(username=account.username)
        user.role = account.role
        user.division_id = account.division_code
        user.department = account.department
        user.organisation = account.organisation
        password = secrets.token_urlsafe(9)
        user.set_password(password)
        user.full_clean()
        user.save()
        results.append((account, password))
    return results
