"""The 预警 page: scoped list with filters, dismissing with a reason, turning into a case."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tonghu.accounts.models import User
from tonghu.accounts.roles import Role
from tonghu.alerts.models import Alert, Kind, Source, Status
from tonghu.alerts.services import Finding, alerts_raise
from tonghu.audit.models import AuditEntry
from tonghu.cases.models import Case
from tonghu.children.models import Child
from tonghu.conftest import World, make_user

pytestmark = pytest.mark.django_db


def _raise(child: Child, kind: Kind = Kind.LIVING_ALONE) -> Alert:
    finding = Finding(child=child, kind=kind, source=Source.VISIT, ref="v1", detail="走访发现")
    [alert] = alerts_raise(findings=[finding])
    return alert


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_list_shows_open_alerts_in_scope_filters_and_audits(world: World) -> None:
    alone = _raise(world.child_in(Role.SUPERVISOR))
    dropout = _raise(world.child_in(Role.SUPERVISOR), Kind.DROPOUT)
    outside = _raise(world.child_out(Role.SUPERVISOR))
    client = _client(world.users[Role.SUPERVISOR])
    text = client.get(reverse("alerts:list")).content.decode()
    assert f'id="alert-{alone.pk}"' in text
    assert f'id="alert-{dropout.pk}"' in text
    assert f'id="alert-{outside.pk}"' not in text
    child = alone.child
    assert reverse("children:detail", args=[child.child_id]) in text
    assert child.name not in text
    text = client.get(reverse("alerts:list"), {"kind": "dropout"}).content.decode()
    assert f'id="alert-{alone.pk}"' not in text
    assert f'id="alert-{dropout.pk}"' in text
    Alert.objects.filter(pk=alone.pk).update(status=Status.DISMISSED)
    assert f'id="alert-{alone.pk}"' not in client.get(reverse("alerts:list")).content.decode()
    text = client.get(reverse("alerts:list"), {"status": "dismissed"}).content.decode()
    assert f'id="alert-{alone.pk}"' in text
    entry = AuditEntry.objects.filter(object_type="alert", action="search").latest("pk")
    assert [c.child_id for c in entry.children.all()] == [child.child_id]


def test_roles_without_the_share_are_refused_the_list(world: World) -> None:
    response = _client(world.users[Role.CHILD_DIRECTOR]).get(reverse("alerts:list"))
    assert response.status_code == 403


def test_dismiss_needs_a_reason_then_closes_the_alert(world: World) -> None:
    alert = _raise(world.child_in(Role.COUNTY_STAFF))
    client = _client(world.users[Role.COUNTY_STAFF])
    url = reverse("alerts:dismiss", args=[alert.pk])
    refused = client.post(url, {"reason": ""})
    assert refused.status_code == 400
    assert "请填写排除理由。" in refused.content.decode()
    response = client.post(url, {"reason": "经核实与祖父母同住"})
    assert response.status_code == 302
    assert response["Location"] == reverse("alerts:list")
    alert.refresh_from_db()
    assert (alert.status, alert.reason) == ("dismissed", "经核实与祖父母同住")
    again = client.post(url, {"reason": "再次"})
    assert again.status_code == 400
    assert "该预警已处理。" in again.content.decode()


def test_a_supervisor_of_another_town_gets_404(world: World) -> None:
    alert = _raise(world.child_in(Role.SUPERVISOR))
    other = make_user("u_sup_other", Role.SUPERVISOR, "410402200000")
    client = _client(other)
    for url, payload in (
        (reverse("alerts:dismiss", args=[alert.pk]), {"reason": "x"}),
        (reverse("alerts:to_case", args=[alert.pk]), {"note": "x"}),
        (reverse("alerts:dismiss", args=[999999]), {"reason": "x"}),  # missing: the same 404
    ):
        assert client.post(url, payload).status_code == 404
    alert.refresh_from_db()
    assert alert.status == "open"


@pytest.mark.parametrize(
    ("payload", "state"),
    [
        ({"police_needed": "on", "note": "夜间独自在家"}, "reported"),
        ({"note": ""}, "town_notified"),
    ],
    ids=["police", "town"],
)
def test_to_case_redirects_to_the_case(world: World, payload: dict[str, str], state: str) -> None:
    alert = _raise(world.child_in(Role.SUPERVISOR))
    response = _client(world.users[Role.SUPERVISOR]).post(
        reverse("alerts:to_case", args=[alert.pk]), payload
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.state == state
    assert response["Location"].startswith("/cases/")
    assert response["Location"] == reverse("cases:detail", args=[case.number])
    alert.refresh_from_db()
    assert (alert.status, alert.case) == ("case", case)
    listed = _client(world.users[Role.COUNTY_STAFF]).get(reverse("alerts:list"), {"status": "case"})
    assert f'href="{response["Location"]}"' in listed.content.decode()
