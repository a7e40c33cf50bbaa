"""Objects the scope matrix (tonghu/accounts/tests/test_scope_matrix.py) asks the exchange
URLs about: a package made and a 跨省通办 request kept by the role's own office (inside) or
by the neighbouring one (outside)."""

from __future__ import annotations

import datetime as dt
import uuid

from django.urls import reverse

from tonghu import clock
from tonghu.accounts.roles import Role
from tonghu.conftest import World
from tonghu.exchange.files import outbox
from tonghu.exchange.models import CertifyRequest, Direction, ExchangePackage, Kind, Side
from tonghu.exchange.services import package_file_name

EXCHANGERS = frozenset({Role.COUNTY_STAFF, Role.CITY_STAFF})
COUNTY_OFFICE = frozenset({Role.COUNTY_STAFF})


def _office(world: World, role: Role, inside: bool) -> str:
    return world.division_in(role) if inside else world.division_out(role)


def package(world: World, role: Role, inside: bool) -> int:
    """A package the office made, its file in the office's outbox (made on first use)."""
    office = _office(world, role, inside)
    sender = office[:6]
    found = ExchangePackage.objects.filter(county_id=office, direction=Direction.OUT).first()
    if found is not None:
        return found.pk
    sequence = ExchangePackage.objects.filter(sender=sender).count() + 1
    made = ExchangePackage.objects.create(
        county_id=office,
        direction=Direction.OUT,
        package_id=uuid.uuid4(),
        kind=Kind.MIGRANTS,
        sender=sender,
        recipient="410102",
        sequence=sequence,
        created_at=clock.now(),
        sha256="0" * 64,
    )
    folder = outbox(sender)
    folder.mkdir(parents=True, exist_ok=True)
    name = package_file_name(
        sender=sender, recipient="410102", sequence=sequence, kind=Kind.MIGRANTS
    )
    (folder / name).write_bytes(b"TONGHU-EXCHANGE 1\n")
    return made.pk


def download_url(world: World, role: Role, inside: bool) -> str:
    return reverse("exchange:download", args=[package(world, role, inside)])


def packages_url(world: World, role: Role, inside: bool) -> str:
    """Both offices' packages exist before the page is asked for."""
    package(world, role, True)
    package(world, role, False)
    return reverse("exchange:home")


def certify_request(world: World, role: Role, inside: bool) -> int:
    """A request the office must answer (made on first use)."""
    office = _office(world, role, inside)
    found = CertifyRequest.objects.filter(county_id=office).first()
    if found is not None:
        return found.pk
    return CertifyRequest.objects.create(
        request_id=uuid.uuid4(),
        side=Side.ANSWERER,
        county_id=office,
        residence_county="410102",
        hukou_county=office[:6],
        subject="orphan",
        status=CertifyRequest.Status.PENDING,
        due_on=clock.today() + dt.timedelta(days=15),
        requested_at=clock.now(),
    ).pk


def certify_url(world: World, role: Role, inside: bool) -> str:
    return reverse("exchange:certify", args=[certify_request(world, role, inside)])


def certify_marker(world: World, role: Role, inside: bool) -> str:
    return f'href="{certify_url(world, role, inside)}"'


def certify_list_url(world: World, role: Role, inside: bool) -> str:
    certify_request(world, role, True)
    certify_request(world, role, False)
    return reverse("exchange:certify_list")


def certify_new_url(world: World, role: Role, inside: bool) -> str:
    child = world.child_in(role) if inside else world.child_out(role)
    return reverse("exchange:certify_new", args=[child.child_id])
