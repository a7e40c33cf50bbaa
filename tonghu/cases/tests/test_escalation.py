"""Time limits and escalation, read from the one clock the tests hold."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.http import Http404
from django.test import Client
from django.urls import reverse

from tonghu.cases.escalation import cases_escalate, escalation_target, owner_level
from tonghu.cases.machine import State, Step
from tonghu.cases.models import CaseEvent
from tonghu.cases.selectors import access_case, overdue_cases
from tonghu.cases.tests.factories import STEP_DATA, People, file_report, people, take
from tonghu.conftest import Clock, World
from tonghu.divisions.codes import Level
from tonghu.notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(world: World, clock: Clock) -> People:
    return people(world)


def test_a_report_not_taken_up_within_the_hour_escalates_to_the_city(
    cast: People, clock: Clock
) -> None:
    case = file_report(cast.reporter).case
    clock.advance(minutes=59)
    assert cases_escalate() == []
    assert not overdue_cases(user=cast.county, now=clock.now).exists()

    clock.advance(minutes=2)
    raised = cases_escalate()
    assert [c.number for c in raised] == [case.number]
    case.refresh_from_db()
    assert case.escalations == 1
    assert case.escalated_to == Level.CITY
    told = Notification.objects.filter(kind=Notification.Kind.CASE_OVERDUE)
    assert set(told.values_list("user__username", flat=True)) == {"u_city_staff", "u_city_police"}
    texts = list(told.values_list("text", flat=True))
    assert all("已超过办理时限" in text and "升级至市级督办" in text for text in texts)
    # The city now sees the case it has to chase; before, it did not.
    assert access_case(user=cast.city, number=case.number) == case
    assert list(overdue_cases(user=cast.county, now=clock.now)) == [case]


def test_escalating_again_adds_nothing_until_the_next_level_is_due(
    cast: People, clock: Clock
) -> None:
    file_report(cast.reporter)
    clock.advance(hours=1, minutes=1)
    assert len(cases_escalate()) == 1
    assert cases_escalate() == []
    clock.advance(hours=5)
    assert cases_escalate() == []  # the police's step is already at the city, the top
    assert CaseEvent.objects.filter(kind=CaseEvent.Kind.ESCALATED).count() == 1


def test_the_city_does_not_see_a_case_on_time(cast: People, clock: Clock) -> None:
    case = file_report(cast.reporter).case
    with pytest.raises(Http404):
        access_case(user=cast.city, number=case.number)


def test_a_town_step_escalates_to_the_county_then_the_city(cast: People, clock: Clock) -> None:
    case = file_report(cast.reporter).case
    for step in (Step.ACCEPT, Step.EMERGENCY, Step.NOTIFY_TOWN):
        case = take(cast.police, case, step, **STEP_DATA[step])
    assert case.state == State.TOWN_NOTIFIED
    assert owner_level(State.TOWN_NOTIFIED) is Level.TOWN
    clock.advance(days=7, minutes=1)
    cases_escalate()
    case.refresh_from_db()
    assert (case.escalations, case.escalated_to) == (1, Level.COUNTY)
    assert Notification.objects.filter(
        kind=Notification.Kind.CASE_OVERDUE, user=cast.county
    ).exists()
    clock.advance(days=7)
    cases_escalate()
    case.refresh_from_db()
    assert (case.escalations, case.escalated_to) == (2, Level.CITY)


def test_taking_the_step_clears_the_escalation(cast: People, clock: Clock) -> None:
    case = file_report(cast.reporter).case
    clock.advance(hours=2)
    cases_escalate()
    case = take(cast.police, case, Step.ACCEPT, **STEP_DATA[Step.ACCEPT])
    assert (case.escalations, case.escalated_to) == (0, "")
    assert case.due_at == clock.now + dt.timedelta(hours=24)


def test_monitoring_escalates_when_follow_ups_lapse(cast: People, clock: Clock) -> None:
    assert owner_level(State.MONITORING) is Level.VILLAGE
    assert escalation_target(State.MONITORING, 1) is Level.TOWN
    assert escalation_target(State.MONITORING, 9) is Level.CITY


def test_the_escalate_command_runs_on_the_clock(cast: People, clock: Clock) -> None:
    case = file_report(cast.reporter).case
    clock.advance(hours=1, seconds=1)
    call_command("escalate")
    case.refresh_from_db()
    assert case.escalations == 1


def test_overdue_shows_red_on_the_list_and_the_supervisors_page(
    cast: People, clock: Clock, client: Client
) -> None:
    case = file_report(cast.reporter).case
    client.force_login(cast.county)
    page = client.get(reverse("cases:list")).content.decode()
    assert f'id="case-{case.number}"' in page
    assert "case-overdue" not in page
    clock.advance(hours=1, minutes=1)
    page = client.get(reverse("cases:list")).content.decode()
    assert 'class="case-item case-overdue"' in page
    assert "已逾期" in page
    overdue = client.get(reverse("cases:overdue")).content.decode()
    assert f'id="overdue-{case.number}"' in overdue
    client.force_login(cast.supervisor)
    assert client.get(reverse("cases:overdue")).status_code == 200
    client.force_login(cast.director)
    assert client.get(reverse("cases:overdue")).status_code == 403
