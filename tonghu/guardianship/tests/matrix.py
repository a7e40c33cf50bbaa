"""Objects the scope matrix (tonghu/accounts/tests/test_scope_matrix.py) asks the
guardianship URLs about: each for the role's in-scope child or its nearest out-of-scope one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from tonghu.accounts.roles import Role
from tonghu.children.models import Child
from tonghu.conftest import World
from tonghu.guardianship.models import Assessment, CareAgreement, InterventionTask
from tonghu.guardianship.services import care_files_dir
from tonghu.policy import load_profile

EDITORS = frozenset({Role.CHILD_DIRECTOR, Role.SUPERVISOR, Role.COUNTY_STAFF})
PDF = b"%PDF-1.4\n% test agreement\n"


def _child(world: World, role: Role, inside: bool) -> Child:
    return world.child_in(role) if inside else world.child_out(role)


def child_id(world: World, role: Role, inside: bool) -> str:
    return _child(world, role, inside).child_id


def left_behind(world: World, role: Role, inside: bool) -> str:
    """The child, made a left-behind one (only those have a contact log)."""
    child = _child(world, role, inside)
    Child.objects.filter(pk=child.pk).update(is_left_behind=True)
    return child.child_id


def assessment_payload() -> dict[str, object]:
    answers = {f"answer_{item.code}": "好" for item in load_profile().assessment.indicators}
    return {**answers, "assessed_on": timezone.localdate().isoformat(), "note": ""}


def agreement_payload() -> dict[str, object]:
    return {
        "carer_name": "测试照护人",
        "relationship": "祖母",
        "phone": "",
        "starts_on": "2025-01-01",
        "ends_on": "",
    }


def contact_payload() -> dict[str, object]:
    return {"contacted_on": timezone.localdate().isoformat(), "who": "mother", "channel": "video"}


def _var_dir_for_this_test() -> None:
    """Point VAR_DIR at this test's own temporary folder (beside FEED_STORE_DIR, which the
    autouse ``_feed_store`` fixture sets per test). This override is stacked on that
    fixture's and is discarded with it when the test ends."""
    folder = Path(settings.FEED_STORE_DIR).parent / "var"
    if Path(settings.VAR_DIR) != folder:
        override_settings(VAR_DIR=folder).enable()


def agreement(world: World, role: Role, inside: bool, *, with_file: bool = False) -> int:
    child = _child(world, role, inside)
    relative = ""
    if with_file:
        _var_dir_for_this_test()
        relative = f"{child.residence_division_id[:6]}/{child.child_id}.pdf"
        path = care_files_dir() / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(PDF)
    kept = CareAgreement.objects.create(
        child=child,
        carer_name="测试照护人",
        relationship="祖母",
        starts_on=dt.date(2025, 1, 1),
        file_path=relative,
        file_type=CareAgreement.FileType.PDF if with_file else CareAgreement.FileType.NONE,
        file_size=len(PDF) if with_file else 0,
    )
    return kept.pk


def agreement_url(name: str, *, with_file: bool = False) -> Callable[[World, Role, bool], str]:
    def url(world: World, role: Role, inside: bool) -> str:
        pk = agreement(world, role, inside, with_file=with_file)
        return reverse(name, args=[child_id(world, role, inside), pk])

    return url


def task(world: World, role: Role, inside: bool) -> int:
    """The open intervention task of the child (made on first use)."""
    child = _child(world, role, inside)
    found = child.intervention_tasks.filter(status=InterventionTask.Status.OPEN).first()
    if found is not None:
        return found.pk
    assessment = Assessment.objects.create(
        child=child,
        assessed_on=dt.date(2025, 6, 1),
        answers={},
        score=10,
        grade="监护缺失",
        colour="红",
        profile_key="default",
    )
    return InterventionTask.objects.create(child=child, assessment=assessment).pk


def task_marker(world: World, role: Role, inside: bool) -> str:
    return f'id="intervention-{task(world, role, inside)}"'


def tasks_url(world: World, role: Role, inside: bool) -> str:
    """Both tasks exist before the page is asked for: only the in-scope one may show."""
    task(world, role, True)
    task(world, role, False)
    return reverse("guardianship:tasks")
