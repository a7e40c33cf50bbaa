"""Through a whole round of the synthetic county, then a visit recorded on one of its children
(slow: the round runs once for the test)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django.utils import timezone

from tonghu.accounts.roles import Role
from tonghu.alerts.models import Alert
from tonghu.children.models import Child, DropoutRisk
from tonghu.conftest import make_user
from tonghu.notifications.models import Notification
from tonghu.rounds.models import Round
from tonghu.visits.services import visit_initial, visit_record

EMPTY_FINDINGS: dict[str, Any] = {
    "father_status": "", "father_away_code": "", "father_away_since": None,
    "mother_status": "", "mother_away_code": "", "mother_away_since": None,
    "actual_guardian": "", "guardianship_type": "", "entrusted_carer": "",
    "lives_alone": False, "vagrant": False, "psych": False, "disabled": False,
    "hardship": False,
}  # fmt: skip


def test_the_round_and_a_later_visit_raise_alerts(county_round: Path) -> None:
    round_ = Round.objects.get()
    raised = set(Alert.objects.values_list("child__child_id", "kind", "source", "source_ref"))
    present = Child.objects.filter(last_round=round_, present=True)
    ref = str(round_.pk)
    vagrant = present.filter(key_care__icontains='"vagrant"').values_list("child_id", flat=True)
    dropped = present.filter(dropout_risk=DropoutRisk.DROPPED_OUT).values_list(
        "child_id", flat=True
    )
    expected = {(found, "vagrant_or_missing", "round", ref) for found in vagrant}
    expected |= {(found, "dropout", "round", ref) for found in dropped}
    assert vagrant
    assert dropped
    assert expected <= raised
    # The synthetic county has a child found living alone by a visit.
    assert any(kind == "living_alone" for _, kind, _, _ in raised)

    child = present.filter(is_key_care=False, is_resident=True).order_by("child_id").first()
    assert child is not None
    assert not Alert.objects.filter(child=child).exists()
    director = make_user("u_director", Role.CHILD_DIRECTOR, child.residence_division_id)
    staff = make_user("u_staff", Role.COUNTY_STAFF, f"{child.residence_division_id[:6]}000000")
    token = uuid.uuid4()
    visit_record(
        user=director,
        child_id=child.child_id,
        token=token,
        findings={**EMPTY_FINDINGS, **visit_initial(child=child), "lives_alone": True},
        kind="home",
        visited_on=timezone.localdate(),
        note="",
        child_version=child.version,
    )
    # 独自居住 stands for the 监护缺失 the rules now derive from it.
    assert "no_guardian" in Child.objects.get(pk=child.pk).key_care
    alert = Alert.objects.get(child=child)
    assert (alert.kind, alert.source, alert.source_ref) == ("living_alone", "visit", str(token))
    note = Notification.objects.get(user=staff, key=f"alert-{alert.pk}")
    assert child.child_id in note.text
