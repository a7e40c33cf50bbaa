"""Recording a visit: once per form, findings through the round's rules, conflicts shown."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tonghu.accounts.models import User
from tonghu.accounts.roles import Role
from tonghu.audit.models import AuditEntry
from tonghu.children.models import Child, ChildChange
from tonghu.children.services import child_correct
from tonghu.conftest import make_user
from tonghu.visits.models import Visit
from tonghu.visits.selectors import worklist
from tonghu.visits.services import VisitConflictError, visit_initial, visit_record


def _director(child: Child) -> User:
    return make_user(f"director_{child.residence_division_id}", Role.CHILD_DIRECTOR,
                     child.residence_division_id)  # fmt: skip


def _left_behind() -> Child:
    child = Child.objects.filter(is_left_behind=True, present=True).order_by("child_id").first()
    assert child is not None
    return child


def _findings(child: Child, **changes: Any) -> dict[str, Any]:
    base = {
        "father_status": "", "father_away_code": "", "father_away_since": None,
        "mother_status": "", "mother_away_code": "", "mother_away_since": None,
        "actual_guardian": "", "guardianship_type": "", "entrusted_carer": "",
        "lives_alone": False, "vagrant": False, "psych": False, "disabled": False,
        "hardship": False,
    }  # fmt: skip
    base.update(visit_initial(child=child))
    base.update(changes)
    return base


def _record(user: User, child: Child, **kwargs: Any) -> Any:
    defaults: dict[str, Any] = {
        "token": uuid.uuid4(), "kind": "home", "note": "",
        "child_version": Child.objects.get(pk=child.pk).version,
        "findings": _findings(child),
    }  # fmt: skip
    defaults.update(kwargs)
    from django.utils import timezone  # noqa: PLC0415

    return visit_record(user=user, child_id=child.child_id, visited_on=timezone.localdate(),
                        **defaults)  # fmt: skip


def test_form_starts_from_the_last_visit_and_confirming_changes_nothing(county_round: Path) -> None:
    child = _left_behind()
    initial = visit_initial(child=child)
    assert initial["father_status"] == "外出务工" or initial["mother_status"] == "外出务工"
    outcome = _record(_director(child), child)
    assert outcome.created
    assert outcome.visit.file_changes == []
    after = Child.objects.get(pk=child.pk)
    assert after.is_left_behind
    assert after.version == child.version


def test_parents_back_home_ends_left_behind_through_the_rules(county_round: Path) -> None:
    child = _left_behind()
    findings = _findings(child, father_status="在家", mother_status="在家",
                         father_away_code="", mother_away_code="")  # fmt: skip
    outcome = _record(_director(child), child, findings=findings)
    after = Child.objects.get(pk=child.pk)
    assert not after.is_left_behind
    assert "is_left_behind" in outcome.visit.file_changes
    assert after.version == child.version + 1
    change = ChildChange.objects.get(child=child, field="is_left_behind")
    assert change.kind == ChildChange.Kind.CHANGED
    assert "走访" in change.why
    assert AuditEntry.objects.filter(object_type="visit", action="create").count() == 1


def test_living_alone_makes_the_child_key_care(county_round: Path) -> None:
    child = Child.objects.filter(present=True, is_key_care=False, is_resident=True).order_by(
        "child_id").first()  # fmt: skip
    assert child is not None
    _record(_director(child), child, findings=_findings(child, lives_alone=True))
    after = Child.objects.get(pk=child.pk)
    assert "no_guardian" in after.key_care
    assert after.is_key_care
    assert "监护缺失" in after.reasons


def test_the_same_form_token_saves_one_visit(county_round: Path) -> None:
    child = _left_behind()
    user = _director(child)
    token = uuid.uuid4()
    first = _record(user, child, token=token)
    again = _record(user, child, token=token)
    assert first.created
    assert not again.created
    assert again.visit.pk == first.visit.pk
    assert Visit.objects.filter(child=child).count() == 1


def test_a_file_changed_meanwhile_is_a_conflict_the_director_resolves(county_round: Path) -> None:
    child = _left_behind()
    user = _director(child)
    seen_version = child.version
    child_correct(
        user=user, child_id=child.child_id, field="stage", value="初中", reason="核实",
        version=child.version,
    )  # fmt: skip
    findings = _findings(child, father_status="在家", mother_status="在家")
    with pytest.raises(VisitConflictError) as raised:
        _record(user, child, findings=findings, child_version=seen_version)
    assert any(change.field == "stage" for change in raised.value.changes)
    assert not Visit.objects.filter(child=child).exists()  # nothing saved silently
    kept = _record(user, child, findings=findings, child_version=seen_version, resolution="keep")
    assert kept.visit.file_changes == []
    assert Child.objects.get(pk=child.pk).is_left_behind
    mine = _record(user, child, findings=findings, child_version=seen_version, resolution="mine")
    assert "is_left_behind" in mine.visit.file_changes
    assert not Child.objects.get(pk=child.pk).is_left_behind


def test_worklist_shows_the_village_due_visits_and_a_visit_moves_it(county_round: Path) -> None:
    child = _left_behind()
    user = _director(child)
    items = worklist(user=user)
    assert items
    assert all(i.child.residence_division_id == child.residence_division_id for i in items)
    mine = next(i for i in items if i.child.pk == child.pk)
    _record(user, child)
    moved = next(i for i in worklist(user=user) if i.child.pk == child.pk)
    assert moved.due.on > mine.due.on or moved.due.kind != mine.due.kind


def test_post_conflict_page_then_resolution(county_round: Path) -> None:
    child = _left_behind()
    user = _director(child)
    client = Client()
    client.force_login(user)
    page = client.get(reverse("visits:new", args=[child.child_id]))
    assert page.status_code == 200
    form = page.context["form"]
    data = {name: value for name, value in form.initial.items() if value not in (None, False)}
    data["visited_on"] = data["visited_on"].isoformat()
    data["kind"] = "home"
    child_correct(
        user=user, child_id=child.child_id, field="stage", value="初中", reason="核实",
        version=child.version,
    )  # fmt: skip
    conflict = client.post(reverse("visits:new", args=[child.child_id]), data)
    assert conflict.status_code == 409
    assert "档案在您填写期间已被修改" in conflict.content.decode()
    data["resolution"] = "keep"
    saved = client.post(reverse("visits:new", args=[child.child_id]), data, follow=True)
    assert saved.status_code == 200
    assert "已保存入户走访" in saved.content.decode()
    assert Visit.objects.filter(child=child).count() == 1


def test_future_date_refused_in_chinese(county_round: Path) -> None:
    child = _left_behind()
    client = Client()
    client.force_login(_director(child))
    response = client.post(reverse("visits:new", args=[child.child_id]), {
        "token": str(uuid.uuid4()), "child_version": child.version, "kind": "home",
        "visited_on": "2999-01-01",
    })  # fmt: skip
    assert response.status_code == 400
    assert "走访日期不能晚于今天" in response.content.decode()
    assert not Visit.objects.exists()


def test_the_next_round_reads_the_visit_like_a_feed(
    county_round: Path, synthetic_county: Path, tmp_path: Path
) -> None:
    from django.core.management import call_command  # noqa: PLC0415

    child = _left_behind()
    findings = _findings(child, father_status="在家", mother_status="在家",
                         father_away_code="", mother_away_code="")  # fmt: skip
    outcome = _record(_director(child), child, findings=findings)
    Visit.objects.filter(pk=outcome.visit.pk).update(visited_on="2025-12-01")
    call_command("round_run", str(synthetic_county / "feeds"), as_of="2025-12-31",
                 export=str(tmp_path / "next"))  # fmt: skip
    after = Child.objects.get(pk=child.pk)
    assert after.last_round.as_of.isoformat() == "2025-12-31"  # type: ignore[union-attr]
    assert after.child_id == child.child_id
    assert after.present
    assert not after.is_left_behind  # the visit is the child's latest visit record
    assert after.records.filter(round=after.last_round, source="visit_survey",
                                record_key__startswith="TV").exists()  # fmt: skip
