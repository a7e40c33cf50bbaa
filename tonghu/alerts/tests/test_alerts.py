"""Raising alerts from the three sources, once per open kind; dismissing and turning into cases."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from tonghu.accounts.roles import Role
from tonghu.alerts.models import Alert, Kind, Source, Status
from tonghu.alerts.selectors import alerts_for
from tonghu.alerts.services import (
    Finding,
    alert_dismiss,
    alert_to_case,
    alerts_from_round,
    alerts_raise,
)
from tonghu.audit.models import AuditEntry
from tonghu.cases.models import Case, CaseEvent
from tonghu.children.models import Child, ChildRecord, DropoutRisk
from tonghu.conftest import Clock, World, make_user
from tonghu.guardianship.services import assessment_record
from tonghu.guardianship.tests.conftest import answers
from tonghu.notifications.models import Notification
from tonghu.rounds.models import Round

pytestmark = pytest.mark.django_db
COUNTY = "410402000000"
# The county's three villages: 东湾村 and 西湾村 in 焦店镇, 北渡村 in 滍阳乡.
EAST, WEST, NORTH = "410402100201", "410402100202", "410402200201"
OTHER_COUNTY = "410403001001"


def _in_round(child: Child, round_: Round, **facts: Any) -> Child:
    """The child as the round loaded it, with the given facts."""
    if facts.get("key_care"):
        facts.setdefault("is_key_care", True)
    Child.objects.filter(pk=child.pk).update(last_round=round_, present=True, **facts)
    return Child.objects.get(pk=child.pk)


def _visit_record(child: Child, round_: Round, day: dt.date, *, alone: bool) -> None:
    ChildRecord.objects.create(
        round=round_,
        child=child,
        source="visit_survey",
        record_key=f"V-{child.child_id}-{day:%Y%m%d}",
        record_date=day,
        file="visit.csv",
        row=1,
        values={"lives_alone": alone, "vagrant": False},
    )


def _raised() -> set[tuple[str, str, str, str]]:
    return set(
        Alert.objects.filter(status=Status.OPEN).values_list(
            "child__child_id", "kind", "source", "source_ref"
        )
    )


def _finding(child: Child, kind: Kind = Kind.LIVING_ALONE, ref: str = "v1") -> Finding:
    return Finding(child=child, kind=kind, source=Source.VISIT, ref=ref, detail="走访发现独自居住")


def test_a_round_raises_for_its_present_children_from_their_facts(
    world: World, clock: Clock
) -> None:
    round_ = world.rounds[COUNTY]
    east, west, north = (world.children_by_home[code] for code in (EAST, WEST, NORTH))
    # Living alone by the latest visit record; the 监护缺失 the rules derive from it is not
    # raised separately.
    _in_round(east, round_, key_care=["no_guardian"])
    _visit_record(east, round_, dt.date(2025, 3, 1), alone=False)
    _visit_record(east, round_, dt.date(2025, 5, 1), alone=True)
    _in_round(west, round_, key_care=["hardship", "vagrant"], dropout_risk=DropoutRisk.DROPPED_OUT)
    # Alone once, not any more: only the key care 监护缺失 (from the civil-affairs status).
    _in_round(north, round_, key_care=["no_guardian"])
    _visit_record(north, round_, dt.date(2025, 3, 1), alone=True)
    _visit_record(north, round_, dt.date(2025, 5, 1), alone=False)
    # Another county's child, and a child no longer found: nothing.
    other = world.rounds["410403000000"]
    _in_round(world.children_by_home[OTHER_COUNTY], other, key_care=["vagrant"])
    gone = _in_round(world.children_by_home["410102001001"], round_, key_care=["vagrant"])
    Child.objects.filter(pk=gone.pk).update(present=False)

    raised = alerts_from_round(round_=round_)

    ref = str(round_.pk)
    assert _raised() == {
        (east.child_id, "living_alone", "round", ref),
        (west.child_id, "vagrant_or_missing", "round", ref),
        (west.child_id, "dropout", "round", ref),
        (north.child_id, "no_guardian", "round", ref),
    }
    assert len(raised) == 4
    alert = Alert.objects.get(child=east)
    assert alert.raised_at == clock.now
    assert alert.detail == "监测摸排（基准日2025-06-30）：走访发现独自居住"
    assert east.name not in alert.detail
    entry = AuditEntry.objects.get(object_type="alert")
    assert (entry.action, entry.actor_username) == ("create", "system")
    assert {child.child_id for child in entry.children.all()} == {
        east.child_id,
        west.child_id,
        north.child_id,
    }


def test_a_round_reads_its_children_in_a_fixed_number_of_queries(world: World) -> None:
    round_ = world.rounds[COUNTY]
    children = [world.children_by_home[code] for code in (EAST, WEST, NORTH)]
    _in_round(children[0], round_, key_care=["vagrant"])
    with CaptureQueriesContext(connection) as one:
        alerts_from_round(round_=round_)
    Alert.objects.all().delete()
    for child in children:
        _in_round(child, round_, key_care=["vagrant"], dropout_risk=DropoutRisk.DROPPED_OUT)
        _visit_record(child, round_, dt.date(2025, 5, 1), alone=True)
    with CaptureQueriesContext(connection) as three:
        assert len(alerts_from_round(round_=round_)) == 9
    assert len(three.captured_queries) == len(one.captured_queries)


def test_raising_twice_keeps_one_open_alert_and_one_reminder(world: World) -> None:
    child = world.child_in(Role.CHILD_DIRECTOR)
    first = alerts_raise(findings=[_finding(child), _finding(child, ref="v2")])
    assert len(first) == 1
    assert alerts_raise(findings=[_finding(child, ref="v3")]) == []
    assert Alert.objects.filter(child=child).count() == 1
    supervisor, staff = world.users[Role.SUPERVISOR], world.users[Role.COUNTY_STAFF]
    assert Notification.objects.filter(user=supervisor).count() == 1
    assert Notification.objects.filter(user=staff).count() == 1


def test_reminders_go_to_the_town_supervisors_and_county_staff_only(world: World) -> None:
    child = world.child_in(Role.CHILD_DIRECTOR)
    other_town = make_user("u_sup_other", Role.SUPERVISOR, "410402200000")
    other_county = make_user("u_staff_other", Role.COUNTY_STAFF, "410403000000")
    [alert] = alerts_raise(findings=[_finding(child)])
    notes = Notification.objects.all()
    assert {note.user for note in notes} == {
        world.users[Role.SUPERVISOR],
        world.users[Role.COUNTY_STAFF],
    }
    for note in notes:
        assert note.kind == Notification.Kind.ALERT
        assert note.text == f"预警：儿童 {child.child_id} 独自居住（来源：入户走访），请排查处置。"
        assert note.url == "/alerts/"
        assert note.key == f"alert-{alert.pk}"
        assert child.name not in note.text
    assert not Notification.objects.filter(user__in=[other_town, other_county]).exists()


def test_reminders_for_many_children_take_a_fixed_number_of_queries(world: World) -> None:
    children = list(world.children_by_home.values())  # in two counties, three towns
    with CaptureQueriesContext(connection) as one:
        alerts_raise(findings=[_finding(world.children_by_home[EAST])])
    with CaptureQueriesContext(connection) as many:
        alerts_raise(findings=[_finding(child, Kind.DROPOUT) for child in children])
    assert len(many.captured_queries) == len(one.captured_queries)


def test_after_dismissal_a_later_finding_raises_a_new_alert(world: World) -> None:
    round_ = world.rounds[COUNTY]
    child = _in_round(world.children_by_home[EAST], round_, key_care=["vagrant"])
    [alert] = alerts_from_round(round_=round_)
    alert_dismiss(user=world.users[Role.SUPERVISOR], alert_id=alert.pk, reason="已返家")
    # The same round loaded again does not bring the dismissed alert back...
    assert alerts_from_round(round_=round_) == []
    # ...a later round that finds the child still vagrant does.
    later = Round.objects.create(county_id=COUNTY, as_of=dt.date(2025, 12, 31))
    _in_round(child, later, key_care=["vagrant"])
    [again] = alerts_from_round(round_=later)
    assert (again.kind, again.status, again.source_ref) == (
        "vagrant_or_missing",
        "open",
        str(later.pk),
    )
    assert Alert.objects.filter(child=child).count() == 2


def test_an_assessment_graded_missing_raises_a_no_guardian_alert(world: World) -> None:
    child = world.child_in(Role.CHILD_DIRECTOR)
    director = world.users[Role.CHILD_DIRECTOR]
    assessment_record(user=director, child_id=child.child_id, answers=answers(),
                      assessed_on=dt.date(2025, 6, 1))  # fmt: skip
    assert not Alert.objects.exists()
    missing = assessment_record(
        user=director,
        child_id=child.child_id,
        answers=answers(child_safety="差"),
        assessed_on=dt.date(2025, 6, 2),
    )
    alert = Alert.objects.get()
    assert (alert.child, alert.kind, alert.source, alert.source_ref) == (
        child,
        "no_guardian",
        "assessment",
        str(missing.pk),
    )
    assert alert.detail.startswith("2025-06-02家庭监护能力评估为监护缺失")
    entry = AuditEntry.objects.get(object_type="alert")
    assert entry.actor == director


def test_dismiss_needs_a_reason_and_an_open_alert(world: World, clock: Clock) -> None:
    [alert] = alerts_raise(findings=[_finding(world.child_in(Role.SUPERVISOR))])
    supervisor = world.users[Role.SUPERVISOR]
    with pytest.raises(ValidationError, match="请填写排除理由。"):
        alert_dismiss(user=supervisor, alert_id=alert.pk, reason="  ")
    clock.advance(hours=2)
    dismissed = alert_dismiss(user=supervisor, alert_id=alert.pk, reason="经核实祖母同住")
    assert (dismissed.status, dismissed.reason, dismissed.handled_by) == (
        "dismissed",
        "经核实祖母同住",
        supervisor,
    )
    assert dismissed.handled_at == clock.now
    with pytest.raises(ValidationError, match="该预警已处理。"):
        alert_dismiss(user=supervisor, alert_id=alert.pk, reason="再次")
    entry = AuditEntry.objects.filter(object_type="alert", action="update").get()
    assert entry.detail == "排除预警：独自居住"
    assert [child.child_id for child in entry.children.all()] == [alert.child.child_id]


@pytest.mark.parametrize(
    ("police", "state"), [(True, "reported"), (False, "town_notified")], ids=["police", "town"]
)
def test_to_case_opens_a_case_for_the_child(
    world: World, clock: Clock, police: bool, state: str
) -> None:
    child = world.child_in(Role.COUNTY_STAFF)
    [alert] = alerts_raise(findings=[_finding(child)])
    staff = world.users[Role.COUNTY_STAFF]
    case = alert_to_case(user=staff, alert_id=alert.pk, police_needed=police, note="邻居反映")
    assert (case.child, case.state, case.source) == (child, state, "alert")
    assert case.situations == ["alone_or_missing"]
    alert.refresh_from_db()
    assert (alert.status, alert.case, alert.handled_by) == ("case", case, staff)
    assert alert.handled_at == clock.now
    assert AuditEntry.objects.filter(object_type="alert", action="update").exists()
    with pytest.raises(ValidationError, match="该预警已处理。"):
        alert_to_case(user=staff, alert_id=alert.pk, police_needed=police, note="")


def test_to_case_on_a_child_with_an_open_case_joins_it(world: World) -> None:
    child = world.child_in(Role.COUNTY_STAFF)
    staff = world.users[Role.COUNTY_STAFF]
    first, second = alerts_raise(findings=[_finding(child), _finding(child, Kind.DROPOUT)])
    case = alert_to_case(user=staff, alert_id=first.pk, police_needed=True, note="")
    joined = alert_to_case(user=staff, alert_id=second.pk, police_needed=False, note="辍学在家")
    assert joined.pk == case.pk
    assert Case.objects.count() == 1
    assert set(joined.situations) == {"alone_or_missing", "guardian_failing"}
    assert CaseEvent.objects.filter(case=case, kind="report_joined").exists()
    second.refresh_from_db()
    assert (second.status, second.case_id) == ("case", case.pk)


def test_only_the_childs_supervisors_and_county_staff_see_and_handle_it(world: World) -> None:
    [alert] = alerts_raise(findings=[_finding(world.child_in(Role.SUPERVISOR))])
    other_town = make_user("u_sup_other", Role.SUPERVISOR, "410402200000")
    for role in (Role.SUPERVISOR, Role.COUNTY_STAFF):
        assert list(alerts_for(user=world.users[role])) == [alert]
    outsiders = [other_town, *(world.users[role] for role in Role if role not in {
        Role.SUPERVISOR, Role.COUNTY_STAFF})]  # fmt: skip
    for user in outsiders:
        assert not alerts_for(user=user).exists()
        with pytest.raises(Http404):
            alert_dismiss(user=user, alert_id=alert.pk, reason="排除")
        with pytest.raises(Http404):
            alert_to_case(user=user, alert_id=alert.pk, police_needed=False, note="")
    alert.refresh_from_db()
    assert alert.status == "open"
