"""Objects the scope matrix (tonghu/accounts/tests/test_scope_matrix.py) asks the alerts URLs
about: an open alert of the role's in-scope child or of its nearest out-of-scope one."""

from __future__ import annotations

from django.urls import reverse

from tonghu import clock
from tonghu.accounts.roles import Role
from tonghu.alerts.models import Alert, Kind, Source, Status
from tonghu.conftest import World

HANDLERS = frozenset({Role.SUPERVISOR, Role.COUNTY_STAFF})


def alert(world: World, role: Role, inside: bool) -> int:
    """The open alert of the child (made on first use)."""
    child = world.child_in(role) if inside else world.child_out(role)
    found = Alert.objects.filter(child=child, status=Status.OPEN).first()
    if found is None:
        found = Alert.objects.create(
            child=child,
            kind=Kind.LIVING_ALONE,
            source=Source.VISIT,
            source_ref="matrix",
            detail="走访发现独自居住",
            raised_at=clock.now(),
        )
    return found.pk


def alert_marker(world: World, role: Role, inside: bool) -> str:
    return f'id="alert-{alert(world, role, inside)}"'


def list_url(world: World, role: Role, inside: bool) -> str:
    """Both alerts exist before the page is asked for: only the in-scope one may show."""
    alert(world, role, True)
    alert(world, role, False)
    return reverse("alerts:list")


def dismiss_url(world: World, role: Role, inside: bool) -> str:
    return reverse("alerts:dismiss", args=[alert(world, role, inside)])


def case_url(world: World, role: Role, inside: bool) -> str:
    return reverse("alerts:to_case", args=[alert(world, role, inside)])
