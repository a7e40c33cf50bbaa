"""Objects the scope matrix (tonghu/accounts/tests/test_scope_matrix.py) asks the
conference URLs about: a case in the village of the role's in-scope child (or its nearest
out-of-scope one), with one conference task of the role's department (education otherwise)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.urls import reverse

from tonghu import clock
from tonghu.accounts.roles import Department, Role
from tonghu.cases.models import Case
from tonghu.children.models import Child
from tonghu.conferences.models import Conference, ConferenceTask
from tonghu.conftest import World

RECORDERS = frozenset({Role.COUNTY_STAFF, Role.SUPERVISOR})
HANDLERS = frozenset({Role.DEPARTMENT_OFFICER, Role.COUNTY_STAFF})
VIEWERS = RECORDERS | HANDLERS


def make_case(
    number: str, village: str, *, child: Child | None = None, state: str = "assessed"
) -> Case:
    """A case made directly, at ``state``, in ``village`` (county from the code)."""
    now = clock.now()
    return Case.objects.create(
        number=number,
        county_id=village[:6] + "000000",
        division_id=village,
        child=child,
        state=state,
        state_since=now,
        opened_at=now,
        due_at=None if state == "closed" else now + dt.timedelta(days=5),
        closed_at=now if state == "closed" else None,
    )


def case_for(world: World, role: Role, inside: bool) -> Case:
    child = world.child_in(role) if inside else world.child_out(role)
    village = child.residence_division_id
    found = Case.objects.filter(number=f"AJT{village}").first()
    return found or make_case(f"AJT{village}", village, child=child)


def case_number(world: World, role: Role, inside: bool) -> str:
    return case_for(world, role, inside).number


def task(world: World, role: Role, inside: bool) -> int:
    """The pending task of the role's department on the case (made on first use)."""
    case = case_for(world, role, inside)
    department = world.users[role].department or Department.EDUCATION.value
    found = ConferenceTask.objects.filter(case=case, department=department).first()
    if found is not None:
        return found.pk
    conference = Conference.objects.create(
        case=case,
        held_on=clock.today(),
        departments=[Department.CIVIL_AFFAIRS.value, department],
        decisions="落实临时照护，教育部门安排复学。",
        recorded_by=world.users[Role.COUNTY_STAFF],
        recorded_at=clock.now(),
    )
    return ConferenceTask.objects.create(
        conference=conference,
        case=case,
        department=department,
        task="安排儿童复学",
        due_on=clock.today() + dt.timedelta(days=15),
    ).pk


def task_marker(world: World, role: Role, inside: bool) -> str:
    return f'id="conference-task-{task(world, role, inside)}"'


def tasks_url(world: World, role: Role, inside: bool) -> str:
    """Both tasks exist before the page is asked for: only the in-scope one may show."""
    task(world, role, True)
    task(world, role, False)
    return reverse("conferences:tasks")


def task_url(name: str) -> Callable[[World, Role, bool], str]:
    def url(world: World, role: Role, inside: bool) -> str:
        return reverse(name, args=[task(world, role, inside)])

    return url


def new_url(world: World, role: Role, inside: bool) -> str:
    return reverse("conferences:new", args=[case_number(world, role, inside)])
