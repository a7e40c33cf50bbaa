"""Handing a case to the county the child has moved to."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.test import Client
from django.urls import reverse

from tonghu.cases.machine import State, Step
from tonghu.cases.models import CaseEvent, Transfer
from tonghu.cases.selectors import access_case
from tonghu.cases.tests.factories import OTHER_COUNTY, STEP_DATA, People, file_report, people, take
from tonghu.cases.transfers import case_transfer_ask, transfer_accept, transfer_refuse
from tonghu.conftest import Clock, World
from tonghu.notifications.models import Notification

pytestmark = pytest.mark.django_db
NEW_HOME = "410403001001"  # 东安社区, 卫东区


@pytest.fixture
def cast(world: World, clock: Clock) -> People:
    return people(world)


def test_the_receiving_county_takes_the_case_over_where_it_stood(cast: People) -> None:
    case = take(cast.police, file_report(cast.reporter).case, Step.ACCEPT, **STEP_DATA[Step.ACCEPT])
    transfer = case_transfer_ask(
        user=cast.county, number=case.number, to_county=OTHER_COUNTY, reason="儿童随母迁居卫东区"
    )
    assert Notification.objects.filter(user=cast.neighbour_county).count() == 1
    # Until accepted, the case stays with the sending county.
    assert access_case(user=cast.county, number=case.number)
    with pytest.raises(Http404):
        access_case(user=cast.neighbour_county, number=case.number)

    moved = transfer_accept(
        user=cast.neighbour_county, transfer_id=transfer.pk, division_code=NEW_HOME
    )
    assert moved.county_id == OTHER_COUNTY
    assert moved.division_id == NEW_HOME
    assert moved.state == State.POLICE_ACCEPTED
    assert access_case(user=cast.neighbour_county, number=case.number) == moved
    with pytest.raises(Http404):
        access_case(user=cast.county, number=case.number)
    transfer.refresh_from_db()
    assert transfer.status == Transfer.Status.ACCEPTED
    kinds = list(moved.events.values_list("kind", flat=True))
    assert CaseEvent.Kind.TRANSFER_ASKED in kinds
    assert CaseEvent.Kind.TRANSFER_ACCEPTED in kinds


def test_a_transfer_is_refused_with_a_reason_and_the_case_stays(cast: People) -> None:
    case = file_report(cast.reporter).case
    transfer = case_transfer_ask(
        user=cast.county, number=case.number, to_county=OTHER_COUNTY, reason="迁居"
    )
    with pytest.raises(ValidationError):
        transfer_refuse(user=cast.neighbour_county, transfer_id=transfer.pk, answer=" ")
    transfer_refuse(
        user=cast.neighbour_county, transfer_id=transfer.pk, answer="经核实未在本区居住"
    )
    case.refresh_from_db()
    assert case.county_id == "410402000000"
    assert access_case(user=cast.county, number=case.number) == case


def test_transfer_refusals(cast: People) -> None:
    case = file_report(cast.reporter).case
    with pytest.raises(ValidationError) as refused:
        case_transfer_ask(
            user=cast.supervisor, number=case.number, to_county=OTHER_COUNTY, reason="x"
        )
    assert refused.value.messages == ["案件移交须由区县民政办理。"]
    with pytest.raises(ValidationError) as refused:
        case_transfer_ask(
            user=cast.county, number=case.number, to_county="410402000000", reason="x"
        )
    assert refused.value.messages == ["接收区县与本案承办区县相同。"]
    with pytest.raises(ValidationError) as refused:
        case_transfer_ask(
            user=cast.county, number=case.number, to_county="410403001000", reason="x"
        )
    assert refused.value.messages == ["接收区县代码有误，请选择县级区划。"]
    case_transfer_ask(user=cast.county, number=case.number, to_county=OTHER_COUNTY, reason="迁居")
    with pytest.raises(ValidationError) as refused:
        case_transfer_ask(
            user=cast.county, number=case.number, to_county=OTHER_COUNTY, reason="迁居"
        )
    assert refused.value.messages == ["本案已有待接收的移交申请。"]


def test_only_the_receiving_county_answers_and_places_the_child_inside_it(cast: People) -> None:
    case = file_report(cast.reporter).case
    transfer = case_transfer_ask(
        user=cast.county, number=case.number, to_county=OTHER_COUNTY, reason="迁居"
    )
    with pytest.raises(Http404):
        transfer_accept(user=cast.county, transfer_id=transfer.pk, division_code=NEW_HOME)
    with pytest.raises(ValidationError):
        transfer_accept(
            user=cast.neighbour_county, transfer_id=transfer.pk, division_code="410402100201"
        )


def test_the_transfer_inbox_lists_and_accepts(cast: People, client: Client) -> None:
    case = file_report(cast.reporter).case
    transfer = case_transfer_ask(
        user=cast.county, number=case.number, to_county=OTHER_COUNTY, reason="迁居"
    )
    client.force_login(cast.neighbour_county)
    page = client.get(reverse("cases:transfers")).content.decode()
    assert f'id="transfer-{transfer.pk}"' in page
    assert "东安社区" in page
    answer = client.post(
        reverse("cases:transfer_answer", args=[transfer.pk, "accept"]), {"division": NEW_HOME}
    )
    assert answer.status_code == 302
    assert case.number in answer["Location"]


def test_the_case_page_offers_the_provinces_other_counties(cast: People, client: Client) -> None:
    case = file_report(cast.reporter).case
    client.force_login(cast.county)
    page = client.get(reverse("cases:detail", args=[case.number])).content.decode()
    assert '<option value="410403000000">卫东区</option>' in page
    assert '<option value="410402000000">' not in page  # not its own county
    answer = client.post(
        reverse("cases:transfer", args=[case.number]),
        {"to_county": "410403000000", "reason": "儿童随母迁居"},
    )
    assert answer.status_code == 302
    assert Transfer.objects.get(case=case).to_county_id == "410403000000"
