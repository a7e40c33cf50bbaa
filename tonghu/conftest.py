"""Shared fixtures: a small jurisdiction tree with one user per role and children placed
so that each role has a nearest child outside its scope (sibling village, town, county, city)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest

from tonghu.accounts.models import User
from tonghu.accounts.roles import Department, Role
from tonghu.children.models import Child
from tonghu.divisions.models import Division

TREE = (
    # code, name, level, parent
    ("410000000000", "河南省", "province", None),
    ("410100000000", "郑州市", "city", "410000000000"),
    ("410102000000", "中原区", "county", "410100000000"),
    ("410102001000", "林山寨街道", "town", "410102000000"),
    ("410102001001", "测试社区", "village", "410102001000"),
    ("410400000000", "平顶山市", "city", "410000000000"),
    ("410402000000", "新华区", "county", "410400000000"),
    ("410402100000", "焦店镇", "town", "410402000000"),
    ("410402100201", "东湾村", "village", "410402100000"),
    ("410402100202", "西湾村", "village", "410402100000"),
    ("410402200000", "滍阳乡", "town", "410402000000"),
    ("410402200201", "北渡村", "village", "410402200000"),
    ("410403000000", "卫东区", "county", "410400000000"),
    ("410403001000", "东安路街道", "town", "410403000000"),
    ("410403001001", "东安社区", "village", "410403001000"),
)

# Where each role's test user sits, and the sibling division just outside its scope.
ROLE_PLACES: dict[Role, tuple[str, str]] = {
    Role.CHILD_DIRECTOR: ("410402100201", "410402100202"),
    Role.SUPERVISOR: ("410402100000", "410402200000"),
    Role.COUNTY_STAFF: ("410402000000", "410403000000"),
    Role.CITY_STAFF: ("410400000000", "410100000000"),
    Role.DEPARTMENT_OFFICER: ("410402000000", "410403000000"),
    Role.REPORTER: ("410402100201", "410402100202"),
    Role.SYSADMIN: ("410402000000", "410403000000"),
    Role.AUDITOR: ("410402000000", "410403000000"),
}
# A child living in the first village under each division above.
CHILD_HOMES = {
    "410402100201": "410402100201",
    "410402100202": "410402100202",
    "410402100000": "410402100201",
    "410402200000": "410402200201",
    "410402000000": "410402100201",
    "410403000000": "410403001001",
    "410400000000": "410402100201",
    "410100000000": "410102001001",
}


@dataclass
class World:
    users: dict[Role, User] = field(default_factory=dict)
    children_by_home: dict[str, Child] = field(default_factory=dict)

    def child_in(self, role: Role) -> Child:
        return self.children_by_home[CHILD_HOMES[ROLE_PLACES[role][0]]]

    def child_out(self, role: Role) -> Child:
        return self.children_by_home[CHILD_HOMES[ROLE_PLACES[role][1]]]

    def division_in(self, role: Role) -> str:
        return ROLE_PLACES[role][0]

    def division_out(self, role: Role) -> str:
        return ROLE_PLACES[role][1]


def make_tree() -> None:
    Division.objects.bulk_create(
        Division(code=code, name=name, level=level, parent_id=parent)
        for code, name, level, parent in TREE
    )


def make_user(username: str, role: Role, division_code: str, **extra: str) -> User:
    """A user without a usable password (tests log in with force_login; hashing is slow)."""
    user = User(username=username, role=role, division_id=division_code, **extra)
    user.set_unusable_password()
    user.full_clean()
    user.save()
    return user


@pytest.fixture
def world(db: None) -> World:
    make_tree()
    built = World()
    for role, (home, _) in ROLE_PLACES.items():
        extra = {"department": Department.EDUCATION} if role == Role.DEPARTMENT_OFFICER else {}
        built.users[role] = make_user(f"u_{role.value}", role, home, **extra)
    for number, village in enumerate(sorted(set(CHILD_HOMES.values())), start=1):
        built.children_by_home[village] = Child.objects.create(
            child_id=f"C{number:06d}",
            name=f"测试儿童{number}",
            sex="女" if number % 2 else "男",
            birth_date=dt.date(2015, 1, number),
            residence_division_id=village,
        )
    return built
