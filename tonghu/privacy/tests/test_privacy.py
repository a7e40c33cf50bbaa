"""Minors' personal information: sealed at rest, found by ID number through the blind index,
shown masked with an audited reveal, each role's file groups, break-the-glass, export
reasons, sessions ending on a change of scope, and optimistic locking of the file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Model
from django.test import Client
from django.urls import reverse

from tonghu.accounts.roles import Role
from tonghu.audit.models import Action, AuditEntry
from tonghu.children.models import Child, ChildRecord
from tonghu.conftest import Clock, World, make_user
from tonghu.privacy import crypto
from tonghu.privacy.models import EmergencyAccess
from tonghu.privacy.sensitive import mask_id_number, mask_phone
from tonghu.roster.models import Worker

ID_NUMBER = "410402201501010021"
FATHER_ID = "410402198001010035"
PHONE = "13812345678"


def _with_record(child: Child, round_: Any) -> ChildRecord:
    child.id_number = ID_NUMBER
    child.last_round = round_
    child.save()
    return ChildRecord.objects.create(
        round=round_,
        child=child,
        source="police_residence",
        record_key="JZ001",
        record_date=dt.date(2025, 5, 1),
        file="police_residence.csv",
        row=2,
        values={
            "id_number": ID_NUMBER,
            "father_id_number": FATHER_ID,
            "phone": PHONE,
            "disabled": True,
            "lives_alone": True,
            "stage": "小学",
        },
    )


def _raw(model: type[Model], column: str, pk: int) -> str:
    """The column as the database holds it (bypassing the ORM's unsealing)."""
    table, key = model._meta.db_table, model._meta.pk.column
    quoted = connection.ops.quote_name(column)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {quoted} FROM {table} WHERE {key} = %s", [pk])  # noqa: S608
        return str(cursor.fetchone()[0])


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_sensitive_values_are_sealed_in_the_database_and_plain_through_the_orm(
    world: World,
) -> None:
    child = world.child_in(Role.CHILD_DIRECTOR)
    record = _with_record(child, world.round_for(Role.COUNTY_STAFF, inside=True))
    raw_child = _raw(Child, "id_number", child.pk)
    raw_record = _raw(ChildRecord, "values", record.pk)
    assert ID_NUMBER not in raw_child
    assert raw_child.startswith(crypto.PREFIX)
    for secret in (ID_NUMBER, FATHER_ID, PHONE):
        assert secret not in raw_record
    assert '"lives_alone": true' in raw_record.replace("True", "true")  # still queryable
    assert '"stage": "小学"' in raw_record or '"stage": "\\u5c0f\\u5b66"' in raw_record
    record.refresh_from_db()
    child.refresh_from_db()
    assert child.id_number == ID_NUMBER
    assert record.values["phone"] == PHONE
    assert record.values["disabled"] is True  # the type survives sealing
    assert ChildRecord.objects.filter(values__lives_alone=True).get() == record
    worker = Worker.objects.create(user=world.users[Role.CHILD_DIRECTOR], phone=PHONE)
    assert PHONE not in _raw(Worker, "phone", worker.pk)


def test_a_child_is_found_by_the_whole_id_number_through_the_blind_index(world: World) -> None:
    child = world.child_in(Role.COUNTY_STAFF)
    _with_record(child, world.round_for(Role.COUNTY_STAFF, inside=True))
    assert Child.objects.get(id_number_index=crypto.blind_index(ID_NUMBER)) == child
    # Case, spaces and full-width digits do not matter; a part of the number finds nothing.
    assert crypto.blind_index(" ４１0402201501010021 ") == child.id_number_index
    client = _client(world.users[Role.COUNTY_STAFF])
    found = client.get(reverse("children:list"), {"id_number": ID_NUMBER})
    assert [c.child_id for c in found.context["page"].object_list] == [child.child_id]
    partial = client.get(reverse("children:list"), {"id_number": ID_NUMBER[:10]})
    assert list(partial.context["page"].object_list) == []
    assert ID_NUMBER not in child.id_number_index


def test_the_file_shows_masked_values_and_the_reveal_is_audited(world: World) -> None:
    child = world.child_in(Role.CHILD_DIRECTOR)
    _with_record(child, world.round_for(Role.COUNTY_STAFF, inside=True))
    client = _client(world.users[Role.CHILD_DIRECTOR])
    page = client.get(reverse("children:detail", args=[child.child_id])).content.decode()
    assert ID_NUMBER not in page
    assert PHONE not in page
    assert mask_id_number(ID_NUMBER) == "4104**********0021"
    assert "4104**********0021" in page
    assert mask_phone(PHONE) == "138****5678"
    assert "138****5678" in page
    assert "显示完整身份证号和电话" in page
    assert not AuditEntry.objects.filter(object_type="child_sensitive").exists()

    revealed = client.post(reverse("children:reveal", args=[child.child_id])).content.decode()
    assert ID_NUMBER in revealed
    assert PHONE in revealed
    assert FATHER_ID in revealed
    entry = AuditEntry.objects.get(object_type="child_sensitive")
    assert entry.action == Action.VIEW
    assert entry.actor == world.users[Role.CHILD_DIRECTOR]
    assert [c.child_id for c in entry.children.all()] == [child.child_id]
    assert ID_NUMBER not in entry.detail


def test_city_staff_see_only_their_groups_masked_and_cannot_reveal(world: World) -> None:
    child = world.child_in(Role.CITY_STAFF)
    _with_record(child, world.round_for(Role.COUNTY_STAFF, inside=True))
    client = _client(world.users[Role.CITY_STAFF])
    page = client.get(reverse("children:detail", args=[child.child_id])).content.decode()
    assert "个人基本情况" in page
    assert "就学情况" in page
    assert "家庭情况" not in page
    assert "救助帮扶情况" not in page
    assert "健康情况" not in page
    assert "显示完整身份证号和电话" not in page
    refused = client.post(reverse("children:reveal", args=[child.child_id]))
    assert refused.status_code == 403
    assert ID_NUMBER not in refused.content.decode()
    assert not AuditEntry.objects.filter(object_type="child_sensitive").exists()


def test_break_the_glass_opens_one_child_for_the_profiles_hours_and_the_auditor_reviews(
    world: World, clock: Clock
) -> None:
    outside = world.child_out(Role.COUNTY_STAFF)
    _with_record(outside, world.round_for(Role.COUNTY_STAFF, inside=False))
    staff = world.users[Role.COUNTY_STAFF]
    client = _client(staff)
    detail = reverse("children:detail", args=[outside.child_id])
    assert client.get(detail).status_code == 404

    no_reason = client.post(reverse("privacy:emergency"), {"id_number": ID_NUMBER, "reason": ""})
    assert no_reason.status_code == 400
    wrong = client.post(
        reverse("privacy:emergency"), {"id_number": FATHER_ID, "reason": "儿童走失需核实监护人"}
    )
    assert "未找到该身份证号对应的儿童" in wrong.content.decode()
    assert not EmergencyAccess.objects.exists()

    opened = client.post(
        reverse("privacy:emergency"), {"id_number": ID_NUMBER, "reason": "儿童走失需核实监护人"}
    )
    assert opened.status_code == 302
    assert opened["Location"] == detail
    page = client.get(detail)
    assert page.status_code == 200
    assert "紧急查阅" in page.content.decode()
    assert "保存更正" not in page.content.decode()  # reading only
    grant = EmergencyAccess.objects.get()
    assert grant.expires_at - grant.opened_at == dt.timedelta(hours=4)
    assert AuditEntry.objects.filter(object_type="emergency_access", actor=staff).exists()
    assert AuditEntry.objects.filter(object_type="child", detail="紧急查阅（辖区外）").exists()
    # The grant opens the file page only, not the lists, and not other users.
    assert outside not in client.get(reverse("children:list")).context["page"].object_list
    other = make_user("county_b", Role.COUNTY_STAFF, "410402000000")
    assert _client(other).get(detail).status_code == 404

    clock.advance(hours=4, seconds=1)
    assert client.get(detail).status_code == 404

    auditor = world.users[Role.AUDITOR]
    review_page = _client(auditor).get(reverse("privacy:review")).content.decode()
    assert "儿童走失需核实监护人" in review_page
    assert client.get(reverse("privacy:review")).status_code == 403
    reviewed = _client(auditor).post(
        reverse("privacy:review_one", args=[grant.pk]), {"note": "事由属实，已核对"}
    )
    assert reviewed.status_code == 302
    grant.refresh_from_db()
    assert grant.reviewed_by == auditor
    assert grant.review_note == "事由属实，已核对"


@pytest.mark.parametrize("role", [Role.CHILD_DIRECTOR, Role.CITY_STAFF, Role.SUPERVISOR])
def test_roles_outside_the_profile_cannot_break_the_glass(world: World, role: Role) -> None:
    outside = world.child_out(role)
    _with_record(outside, world.round_for(Role.COUNTY_STAFF, inside=False))
    client = _client(world.users[role])
    response = client.post(
        reverse("privacy:emergency"), {"id_number": ID_NUMBER, "reason": "儿童走失需核实监护人"}
    )
    assert response.status_code == 403
    assert not EmergencyAccess.objects.exists()


def test_a_change_of_role_or_division_ends_the_users_sessions_at_once(world: World) -> None:
    director = world.users[Role.CHILD_DIRECTOR]
    client = _client(director)
    assert client.get(reverse("children:list")).status_code == 200
    director.division_id = "410402100202"
    director.save()
    assert client.get(reverse("children:list")).status_code == 302  # back to the login page
    client.force_login(director)
    assert client.get(reverse("children:list")).status_code == 200
    director.is_active = False
    director.save()
    assert client.get(reverse("children:list")).status_code == 302


def test_a_stale_correction_form_gets_a_conflict_and_saves_nothing(world: World) -> None:
    child = world.child_in(Role.CHILD_DIRECTOR)
    director = _client(world.users[Role.CHILD_DIRECTOR])
    supervisor = _client(world.users[Role.SUPERVISOR])
    url = reverse("children:correct", args=[child.child_id])
    seen = child.version
    first = {"field": "stage", "value": "小学", "reason": "学校证明", "version": seen}
    assert director.post(url, first).status_code == 200
    second = {"field": "stage", "value": "初中", "reason": "走访核实", "version": seen}
    conflict = supervisor.post(url, second)
    assert conflict.status_code == 409
    assert "已被他人或新一轮摸排更新" in conflict.content.decode()
    child.refresh_from_db()
    assert child.stage == "小学"
    assert child.version == seen + 1
    # The form shown with the conflict carries the new version: sending it again works.
    assert conflict.context["form"].data["version"] == str(seen + 1)
    assert supervisor.post(url, {**second, "version": seen + 1}).status_code == 200
    child.refresh_from_db()
    assert child.stage == "初中"


def test_key_rotation_reseals_everything_and_retires_the_old_key(
    world: World, settings: Any, tmp_path: Path
) -> None:
    settings.KEY_DIR = tmp_path / "keys"
    settings.VAR_DIR = tmp_path
    child = world.child_in(Role.CHILD_DIRECTOR)
    record = _with_record(child, world.round_for(Role.COUNTY_STAFF, inside=True))
    old_ring = crypto.key_ring()
    before = _raw(ChildRecord, "values", record.pk)
    scan = tmp_path / "care_files" / "410402" / "scan.pdf"
    scan.parent.mkdir(parents=True)
    scan.write_bytes(crypto.seal_bytes(b"%PDF-1.4 synthetic"))

    call_command("keys", "rotate")

    new_ring = crypto.key_ring()
    assert len(new_ring.keys) == 1
    assert new_ring.keys[0] not in old_ring.keys
    after = _raw(ChildRecord, "values", record.pk)
    assert after != before
    record.refresh_from_db()
    child.refresh_from_db()
    assert record.values["father_id_number"] == FATHER_ID
    assert child.id_number == ID_NUMBER
    assert Child.objects.get(id_number_index=crypto.blind_index(ID_NUMBER)) == child
    assert new_ring.fernet.decrypt(scan.read_bytes()) == b"%PDF-1.4 synthetic"
    settings.KEY_DIR = tmp_path / "old"
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / crypto.FIELD_KEYS_FILE).write_bytes(old_ring.keys[0] + b"\n")
    with pytest.raises(crypto.SealError):  # the old key alone no longer opens anything
        Child.objects.get(pk=child.pk)


def test_values_written_before_sealing_are_still_read_and_get_sealed(world: World) -> None:
    child = world.child_in(Role.CHILD_DIRECTOR)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE children_child SET id_number = %s WHERE id = %s", [ID_NUMBER, child.pk]
        )
    child.refresh_from_db()
    assert child.id_number == ID_NUMBER  # plain legacy value read as it is
    child.save()
    assert _raw(Child, "id_number", child.pk).startswith(crypto.PREFIX)
    assert child.id_number_index == crypto.blind_index(ID_NUMBER)
