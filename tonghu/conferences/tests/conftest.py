from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pytest

from tonghu.accounts.models import User
from tonghu.accounts.roles import Department, Role
from tonghu.cases.models import Case
from tonghu.conferences.models import Conference
from tonghu.conferences.services import TaskInput, conference_record
from tonghu.conferences.tests.matrix import make_case
from tonghu.conftest import Clock, World, make_user

VILLAGE = "410402100201"  # 东湾村, in the world's county 新华区
CIVIL, EDUCATION, HEALTH = Department.CIVIL_AFFAIRS, Department.EDUCATION, Department.HEALTH


@pytest.fixture
def case(world: World, clock: Clock) -> Case:
    return make_case("AJ410402202611230001", VILLAGE, child=world.children_by_home[VILLAGE])


@pytest.fixture
def health_officer(world: World) -> User:
    """A health officer at the city: the case's county is in its jurisdiction."""
    return make_user("u_health_city", Role.DEPARTMENT_OFFICER, "410400000000", department=HEALTH)


def record(
    world: World,
    case: Case,
    *,
    tasks: Sequence[TaskInput] = (),
    departments: Sequence[str] = (CIVIL, EDUCATION),
    held_on: dt.date | None = None,
    role: Role = Role.COUNTY_STAFF,
) -> Conference:
    return conference_record(
        user=world.users[role],
        number=case.number,
        held_on=held_on or dt.date(2026, 11, 20),
        departments=departments,
        participants="县民政局 王某；县教育局 李某",
        decisions="落实临时照护；教育部门安排复学。",
        tasks=tasks,
    )
