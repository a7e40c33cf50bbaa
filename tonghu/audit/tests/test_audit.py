from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tonghu.accounts.roles import Role
from tonghu.audit.models import Action, AuditChild, AuditEntry, ImmutableError
from tonghu.audit.selectors import AuditFilter, audit_search
from tonghu.audit.services import audit_record
from tonghu.conftest import World


def _client(world: World, role: Role) -> Client:
    client = Client()
    client.force_login(world.users[role])
    return client


def test_opening_a_child_writes_who_when_which_and_from_where(world: World) -> None:
    child = world.child_in(Role.SUPERVISOR)
    before = timezone.now()
    _client(world, Role.SUPERVISOR).get(
        reverse("children:detail", args=[child.child_id]), REMOTE_ADDR="10.1.2.3"
    )
    entry = AuditEntry.objects.get(action=Action.VIEW)
    assert entry.actor == world.users[Role.SUPERVISOR]
    assert entry.at >= before
    assert entry.object_ids == [child.child_id]
    assert [c.child_id for c in entry.children.all()] == [child.child_id]
    assert (entry.client_address, entry.channel) == ("10.1.2.3", "web")


def test_a_refused_child_is_not_logged_as_viewed(world: World) -> None:
    outside = world.child_out(Role.SUPERVISOR)
    response = _client(world, Role.SUPERVISOR).get(
        reverse("children:detail", args=[outside.child_id])
    )
    assert response.status_code == 404
    assert not AuditEntry.objects.filter(action=Action.VIEW).exists()


def test_listing_children_records_exactly_the_children_shown(world: World) -> None:
    _client(world, Role.COUNTY_STAFF).get(reverse("children:list"), {"name": "测试"})
    entry = AuditEntry.objects.get(action=Action.SEARCH)
    shown = {c.child_id for c in entry.children.all()}
    expected = {
        c.child_id
        for c in world.children_by_home.values()
        if c.residence_division_id.startswith("410402")
    }
    assert shown == expected
    assert entry.detail == "按姓名查询"


def test_api_access_is_audited_with_the_api_channel(world: World) -> None:
    child = world.child_in(Role.CHILD_DIRECTOR)
    _client(world, Role.CHILD_DIRECTOR).get(f"/api/children/{child.child_id}")
    assert AuditEntry.objects.get(action=Action.VIEW).channel == "api"


def test_entries_cannot_be_changed_or_deleted_through_the_app(world: World) -> None:
    entry = audit_record(
        actor=world.users[Role.COUNTY_STAFF],
        action=Action.EXPORT,
        object_type="child",
        child_ids=["C000001"],
    )
    entry.detail = "篡改"
    with pytest.raises(ImmutableError):
        entry.save()
    with pytest.raises(ImmutableError):
        entry.delete()
    with pytest.raises(ImmutableError):
        AuditEntry.objects.filter(pk=entry.pk).update(detail="篡改")
    with pytest.raises(ImmutableError):
        AuditEntry.objects.all().delete()
    with pytest.raises(ImmutableError):
        AuditChild.objects.all().delete()
    assert AuditEntry.objects.get(pk=entry.pk).detail == ""


def test_the_database_itself_refuses_updates(world: World) -> None:
    entry = audit_record(
        actor=world.users[Role.COUNTY_STAFF], action=Action.EXPORT, object_type="child"
    )
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditentry SET detail = 'x' WHERE id = %s", [entry.pk])
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [entry.pk])


def test_auditor_searches_by_user_child_action_and_time(world: World) -> None:
    county = world.users[Role.COUNTY_STAFF]
    director = world.users[Role.CHILD_DIRECTOR]
    audit_record(actor=county, action=Action.VIEW, object_type="child", child_ids=["C000001"])
    audit_record(actor=director, action=Action.VIEW, object_type="child", child_ids=["C000002"])
    audit_record(actor=director, action=Action.EXPORT, object_type="child", child_ids=["C000001"])
    auditor = world.users[Role.AUDITOR]

    def found(**where: object) -> list[tuple[str, str]]:
        entries = audit_search(user=auditor, where=AuditFilter(**where))  # type: ignore[arg-type]
        return [(e.actor_username, e.action) for e in entries if e.object_type == "child"]

    assert found(username="u_child_director") == [
        ("u_child_director", "export"),
        ("u_child_director", "view"),
    ]
    assert sorted(found(child_id="C000001")) == [
        ("u_child_director", "export"),
        ("u_county_staff", "view"),
    ]
    assert found(action="export") == [("u_child_director", "export")]
    later = timezone.now() + dt.timedelta(minutes=1)
    assert found(since=later) == []
    assert len(found(until=later)) == 3


def test_auditor_page_filters_by_form(world: World) -> None:
    audit_record(
        actor=world.users[Role.COUNTY_STAFF],
        action=Action.EXPORT,
        object_type="child",
        child_ids=["C000009"],
        detail="导出花名册",
    )
    page = _client(world, Role.AUDITOR).get(reverse("audit:search"), {"child_id": "C000009"})
    text = page.content.decode()
    assert "导出花名册" in text
    assert "共 1 条" in text
