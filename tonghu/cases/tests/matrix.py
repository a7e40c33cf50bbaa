"""Objects the scope matrix (tonghu/accounts/tests/test_scope_matrix.py) asks the case and
report URLs about: each in the role's scope (inside) or its nearest neighbour's."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from tonghu import clock
from tonghu.accounts.roles import Role
from tonghu.cases.machine import State
from tonghu.cases.models import Case, CaseFile, Report, Transfer
from tonghu.conftest import World
from tonghu.divisions.codes import Level
from tonghu.web.attachments import files_dir

# Who reaches a case page at all (each step then has its own roles, tested in test_loop).
CASE_ROLES = frozenset({Role.CHILD_DIRECTOR, Role.SUPERVISOR, Role.COUNTY_STAFF, Role.CITY_STAFF})
REPORTERS = frozenset(
    {
        Role.CHILD_DIRECTOR,
        Role.SUPERVISOR,
        Role.COUNTY_STAFF,
        Role.DEPARTMENT_OFFICER,
        Role.REPORTER,
    }
)
VIEWERS = frozenset({*CASE_ROLES, Role.DEPARTMENT_OFFICER})
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _village(world: World, role: Role, inside: bool) -> str:
    child = world.child_in(role) if inside else world.child_out(role)
    return child.residence_division_id


def case(world: World, role: Role, inside: bool, *, state: State = State.TOWN_NOTIFIED) -> Case:
    """A case in the village of the role's in-scope (or out-of-scope) child; escalated to the
    city so that city staff, too, have it in their share."""
    village = _village(world, role, inside)
    now = clock.now()
    made, _ = Case.objects.get_or_create(
        number=f"AJ{village}{int(inside)}",
        defaults={
            "county_id": f"{village[:6]}000000",
            "division_id": village,
            "state": state,
            "state_since": now,
            "opened_at": now,
            "due_at": now - dt.timedelta(hours=1),
            "escalations": 2,
            "escalated_to": Level.CITY,
        },
    )
    return made


def case_url(name: str) -> Callable[[World, Role, bool], str]:
    return lambda w, r, i: reverse(name, args=[case(w, r, i).number])


def step_url(world: World, role: Role, inside: bool) -> str:
    return reverse("cases:step", args=[case(world, role, inside).number, "assess"])


def step_payload() -> dict[str, object]:
    return {
        "version": "1",
        "safety": "安全",
        "guardianship": "尚可",
        "health": "良好",
        "risk": "低",
    }


def overdue_url(world: World, role: Role, inside: bool) -> str:
    """The overdue list, with an overdue case inside the role's scope and one outside."""
    case(world, role, True)
    case(world, role, False)
    return reverse("cases:overdue")


def overdue_marker(world: World, role: Role, inside: bool) -> str:
    return f'id="overdue-{case(world, role, inside).number}"'


def _var_dir_for_this_test() -> None:
    override_settings(VAR_DIR=Path(settings.FEED_STORE_DIR).parent / "var").enable()


def file_url(world: World, role: Role, inside: bool) -> str:
    _var_dir_for_this_test()
    kept = case(world, role, inside)
    relative = f"{kept.county_id[:6]}/{kept.number}.png"
    path = files_dir("case_files") / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(PNG)
    made = CaseFile.objects.create(
        case=kept,
        description="照片",
        file_path=relative,
        file_type="png",
        file_size=len(PNG),
        uploaded_by=world.users[Role.COUNTY_STAFF],
        uploaded_at=clock.now(),
    )
    return reverse("cases:file", args=[kept.number, made.pk])


def file_add_url(world: World, role: Role, inside: bool) -> str:
    _var_dir_for_this_test()
    return reverse("cases:file_add", args=[case(world, role, inside).number])


def file_payload() -> dict[str, object]:
    from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: PLC0415

    return {
        "file": SimpleUploadedFile("p.png", PNG, content_type="image/png"),
        "description": "照片",
    }


def transfer_answer_url(world: World, role: Role, inside: bool) -> str:
    """A transfer into the role's county (inside) or into the neighbouring county."""
    to_county = "410402000000" if inside else "410403000000"
    from_county = "410403000000" if inside else "410402000000"
    now = clock.now()
    kept = Case.objects.create(
        number=f"AJT{int(inside)}{role.value[:8]}",
        county_id=from_county,
        division_id=f"{from_county[:6]}{'001001' if inside else '100201'}",
        state=State.REPORTED,
        state_since=now,
        opened_at=now,
    )
    made = Transfer.objects.create(
        case=kept,
        from_county_id=from_county,
        to_county_id=to_county,
        reason="迁居",
        asked_by=world.users[Role.COUNTY_STAFF],
        asked_at=now,
        due_at=now + dt.timedelta(days=7),
    )
    return reverse("cases:transfer_answer", args=[made.pk, "accept"])


def receipt_url(world: World, role: Role, inside: bool) -> str:
    """A report filed by the role's own user (inside) or by someone else (outside)."""
    kept = case(world, role, True)
    reporter = world.users[role] if inside else world.users[Role.SYSADMIN]
    made = Report.objects.create(
        receipt_no=f"BG{role.value[:10]}{int(inside)}",
        case=kept,
        reporter=reporter,
        reporter_kind="staff",
        situations=["abandoned"],
        place_id=kept.division_id,
        occurred_at=clock.now(),
        observed="无人照料",
        reported_at=clock.now(),
    )
    return reverse("reports:receipt", args=[made.receipt_no])
