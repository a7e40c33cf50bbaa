"""Workers in and just outside each role's scope, for the scope matrix."""

from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse

from tonghu.accounts.models import User
from tonghu.accounts.roles import Role
from tonghu.conftest import CHILD_HOMES, ROLE_PLACES, World, make_user


def worker_id(world: World, role: Role, inside: bool) -> int:
    """The fixture's child director (in every viewer's scope, and the director themself),
    or a director of a village just outside the role's scope."""
    if inside:
        return world.users[Role.CHILD_DIRECTOR].pk
    village = CHILD_HOMES[ROLE_PLACES[role][1]]
    username = f"u_roster_{village}"
    found = User.objects.filter(username=username).first()
    return (found or make_user(username, Role.CHILD_DIRECTOR, village)).pk


def worker_marker(world: World, role: Role, inside: bool) -> str:
    return f'id="worker-{worker_id(world, role, inside)}"'


def roster_url(world: World, role: Role, inside: bool) -> str:
    """The roster page, once both workers exist: only the in-scope one may show."""
    worker_id(world, role, True)
    worker_id(world, role, False)
    return reverse("roster:list")


def worker_url(name: str) -> Callable[[World, Role, bool], str]:
    def url(world: World, role: Role, inside: bool) -> str:
        return reverse(name, args=[worker_id(world, role, inside)])

    return url
