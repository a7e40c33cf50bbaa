"""The exchange in one database serving both counties: linking, the statuses on the child's
file, what changed between answers, the 跨省通办 round trip and its deadline, the commands."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.urls import reverse

from tonghu import clock as tonghu_clock
from tonghu.accounts.roles import Role
from tonghu.audit.models import Action, AuditChild, AuditEntry
from tonghu.children.models import Child
from tonghu.cli import resolve
from tonghu.conftest import Clock
from tonghu.exchange.models import (
    CertifyRequest,
    Direction,
    ExchangePackage,
    ExchangeRecord,
    LinkedBy,
    Side,
)
from tonghu.exchange.packages import PackageError
from tonghu.exchange.selectors import overdue_q
from tonghu.exchange.services import (
    certify_answer_send,
    certify_request_send,
    hukou_status_export,
    migrants_export,
    package_import,
    registry_trust,
)
from tonghu.exchange.tests.conftest import HUKOU, RESIDENCE, Counties, imported_counts
from tonghu.policy import load_profile


def test_migrants_are_linked_by_id_number_then_name_birth_date_and_sex(
    counties: Counties, tmp_path: Path
) -> None:
    sent = migrants_export(county=RESIDENCE, recipient=HUKOU, out_dir=tmp_path)
    # Present migrants whose hukou is in 卫东区 only; the one from 中原区 is not sent.
    assert sorted(sent.package.child_ids) == sorted(
        [counties.first.child_id, counties.second.child_id, counties.third.child_id]
    )
    assert sent.path.name == f"{RESIDENCE}-{HUKOU}-000001-migrants.tonghu"
    assert counties.first.name.encode() not in sent.path.read_bytes()  # encrypted

    imported = package_import(path=sent.path, county=HUKOU)

    linked = {
        record.remote_child_id: (record.child, record.linked_by)
        for record in ExchangeRecord.objects.filter(package=imported.package)
    }
    assert linked[counties.first.child_id] == (counties.hukou_first, LinkedBy.ID_NUMBER)
    assert linked[counties.second.child_id] == (counties.hukou_second, LinkedBy.NAME_BIRTH_SEX)
    assert linked[counties.third.child_id] == (None, LinkedBy.NONE)
    assert imported.lines[1].endswith(
        "关联到本县台账 2 名（按身份证号 1 名，按姓名、出生日期和性别 1 名），未能关联 1 名"
    )
    assert "孤儿、事实无人抚养或低保的 2 名" in imported.lines[2]
    # The ID number is sealed at rest: the database holds no plain value.
    record = ExchangeRecord.objects.get(remote_child_id=counties.first.child_id)
    with connection.cursor() as cursor:
        cursor.execute('SELECT "values" FROM exchange_exchangerecord WHERE id = %s', [record.pk])
        raw = str(cursor.fetchone()[0])
    assert counties.first.id_number not in raw
    assert counties.first.name not in raw
    assert record.values["id_number"] == counties.first.id_number


def test_a_name_match_never_links_a_child_with_another_id_number(
    counties: Counties, tmp_path: Path
) -> None:
    """Same name, birth date and sex but different ID numbers: two children, not linked."""
    Child.objects.filter(pk=counties.third.pk).update(name="测试甲", birth_date=dt.date(2015, 3, 2))
    counties.first.delete()
    imported = package_import(
        path=migrants_export(county=RESIDENCE, recipient=HUKOU, out_dir=tmp_path).path,
        county=HUKOU,
    )
    third = ExchangeRecord.objects.get(
        package=imported.package, remote_child_id=counties.third.child_id
    )
    assert third.child is None


def test_hukou_statuses_reach_the_residence_child_file(counties: Counties, tmp_path: Path) -> None:
    package_import(
        path=migrants_export(county=RESIDENCE, recipient=HUKOU, out_dir=tmp_path).path,
        county=HUKOU,
    )
    answer = hukou_status_export(county=HUKOU, recipient=RESIDENCE, out_dir=tmp_path)
    assert answer.package.rows == 2
    assert answer.package.summary == {"received": 3, "linked": 2}

    imported = package_import(path=answer.path, county=RESIDENCE)

    assert f"{counties.first.child_id}：户籍地新报 孤儿" in imported.lines
    assert f"{counties.second.child_id}：户籍地新报 事实无人抚养、低保" in imported.lines
    assert "本县发出的名单中有 1 名儿童户籍地未能找到" in imported.lines
    client = Client()
    client.force_login(counties.residence_staff)
    page = client.get(reverse("children:detail", args=[counties.first.child_id]))
    text = page.content.decode()
    assert "居住地与户籍地信息交换" in text
    assert "孤儿" in text
    assert "自 2021-03-01" in text  # from the hukou county's 救助保障名册 record
    assert counties.hukou_first.child_id in text
    # The hukou county's file of the child shows where it lives now.
    client.force_login(counties.hukou_staff)
    there = client.get(reverse("children:detail", args=[counties.hukou_first.child_id]))
    assert "2023-09-01" in there.content.decode()


def test_each_county_sees_only_its_own_children(counties: Counties, tmp_path: Path) -> None:
    package_import(
        path=migrants_export(county=RESIDENCE, recipient=HUKOU, out_dir=tmp_path).path,
        county=HUKOU,
    )
    client = Client()
    client.force_login(counties.hukou_staff)
    assert client.get(reverse("children:detail", args=[counties.first.child_id])).status_code == 404
    # A role without the 救助帮扶情况 group (市级民政 by default) sees no statuses section.
    client.force_login(counties.world.users[Role.CITY_STAFF])
    page = client.get(reverse("children:detail", args=[counties.first.child_id]))
    assert page.status_code == 200
    assert "居住地与户籍地信息交换" not in page.content.decode()


def test_a_later_answer_reports_what_changed(counties: Counties, tmp_path: Path) -> None:
    migrants = migrants_export(county=RESIDENCE, recipient=HUKOU, out_dir=tmp_path / "1")
    package_import(path=migrants.path, county=HUKOU)
    first = hukou_status_export(county=HUKOU, recipient=RESIDENCE, out_dir=tmp_path / "2")
    package_import(path=first.path, county=RESIDENCE)
    Child.objects.filter(pk=counties.hukou_second.pk).update(difficulty=["fuc"])

    second = hukou_status_export(county=HUKOU, recipient=RESIDENCE, out_dir=tmp_path / "3")
    imported = package_import(path=second.path, county=RESIDENCE)

    assert second.package.sequence == 2
    assert f"{counties.second.child_id}：户籍地不再记载 低保" in imported.lines
    assert not any(line.startswith(counties.first.child_id) for line in imported.lines)
    assert imported.package.summary["changed"] == 1


def test_exports_and_imports_are_audited_with_the_children(
    counties: Counties, tmp_path: Path
) -> None:
    sent = migrants_export(recipient=HUKOU, out_dir=tmp_path, acting_user=counties.residence_staff)
    package_import(path=sent.path, acting_user=counties.hukou_staff)
    export = AuditEntry.objects.get(action=Action.EXPORT, object_type="exchange_package")
    assert export.actor == counties.residence_staff
    children = set(AuditChild.objects.filter(entry=export).values_list("child_id", flat=True))
    assert counties.first.child_id in children
    entry = AuditEntry.objects.get(action=Action.IMPORT, object_type="exchange_package")
    assert entry.actor == counties.hukou_staff
    assert set(AuditChild.objects.filter(entry=entry).values_list("child_id", flat=True)) == {
        counties.hukou_first.child_id,
        counties.hukou_second.child_id,
    }


def test_only_county_civil_affairs_may_exchange(counties: Counties, tmp_path: Path) -> None:
    with pytest.raises(PackageError, match="只有区县民政工作人员"):
        migrants_export(
            recipient=HUKOU,
            out_dir=tmp_path,
            acting_user=counties.world.users[Role.SUPERVISOR],
        )


def test_certify_round_trip_with_its_deadline(
    counties: Counties, tmp_path: Path, clock: Clock
) -> None:
    days = load_profile().exchange.certify_within_days
    request, sent = certify_request_send(
        acting_user=counties.residence_staff,
        child_id=counties.second.child_id,
        subject="fuc",
        note="申请事实无人抚养儿童基本生活补贴",
        out_dir=tmp_path,
    )
    assert request.status == CertifyRequest.Status.SENT
    assert request.due_on == tonghu_clock.today() + dt.timedelta(days=days)

    received = package_import(path=sent.path, acting_user=counties.hukou_staff)
    assert any("本县儿童 41040300000002" in line for line in received.lines)
    pending = CertifyRequest.objects.get(side=Side.ANSWERER, request_id=request.request_id)
    assert pending.status == CertifyRequest.Status.PENDING
    assert pending.child == counties.hukou_second
    assert pending.due_on == request.due_on

    clock.advance(days=days + 1)  # past due on both sides
    today = tonghu_clock.today()
    assert set(CertifyRequest.objects.filter(overdue_q(today))) == {request, pending}
    pending.refresh_from_db()
    assert pending.status_label(today) == "已逾期"

    _, answer = certify_answer_send(
        acting_user=counties.hukou_staff,
        request_id=str(request.request_id),
        certified=True,
        reference="卫民证〔2026〕12号",
        out_dir=tmp_path,
    )
    back = package_import(path=answer.path, acting_user=counties.residence_staff)
    request.refresh_from_db()
    assert request.status == CertifyRequest.Status.ANSWERED
    assert request.certified is True
    assert request.reference == "卫民证〔2026〕12号"
    assert request.remote_child_id == counties.hukou_second.child_id
    assert request.status_label(today) == "已答复"
    assert any("属实，文号 卫民证〔2026〕12号" in line for line in back.lines)
    assert not CertifyRequest.objects.filter(overdue_q(today)).exists()
    with pytest.raises(PackageError, match="已于"):
        certify_answer_send(
            acting_user=counties.hukou_staff,
            request_id=str(request.request_id),
            certified=False,
            reference="X",
            out_dir=tmp_path,
        )


def test_certify_needs_a_child_of_ones_own_with_a_hukou_elsewhere(
    counties: Counties, tmp_path: Path
) -> None:
    staff = counties.residence_staff
    with pytest.raises(PackageError, match="不在您的辖区"):
        certify_request_send(
            acting_user=staff,
            child_id=counties.hukou_first.child_id,
            subject="orphan",
            out_dir=tmp_path,
        )
    with pytest.raises(PackageError, match="核实事项应为"):
        certify_request_send(
            acting_user=staff, child_id=counties.first.child_id, subject="低保", out_dir=tmp_path
        )
    Child.objects.filter(pk=counties.first.pk).update(hukou_code="410402100201")
    with pytest.raises(PackageError, match="户籍地就在本县"):
        certify_request_send(
            acting_user=staff, child_id=counties.first.child_id, subject="orphan", out_dir=tmp_path
        )
    assert not CertifyRequest.objects.exists()
    assert not ExchangePackage.objects.exists()


def test_the_commands(counties: Counties, tmp_path: Path) -> None:
    """The same flow through ``tonghu exchange ...`` (run in-process)."""
    assert resolve(["exchange", "import", "x"]) == ("exchange_import", ["x"])
    out = io.StringIO()
    call_command(
        "exchange_export", recipient=HUKOU, out=str(tmp_path), county=RESIDENCE, stdout=out
    )
    (path,) = tmp_path.glob("*-migrants.tonghu")
    assert "3 名儿童" in out.getvalue()
    out = io.StringIO()
    call_command("exchange_import", str(path), user="u_hukou_staff", stdout=out)
    assert "未能关联 1 名" in out.getvalue()
    with pytest.raises(CommandError, match="1 个交换包未导入"):
        call_command("exchange_import", str(path), county=HUKOU, stderr=io.StringIO())
    out = io.StringIO()
    call_command(
        "exchange_certify_request",
        user="u_county_staff",
        child=counties.first.child_id,
        subject="孤儿",
        out=str(tmp_path),
        stdout=out,
    )
    assert "答复期限" in out.getvalue()
    call_command("exchange_import", *map(str, tmp_path.glob("*-certify_request.tonghu")),
                 county=HUKOU, stdout=io.StringIO())  # fmt: skip
    out = io.StringIO()
    call_command("exchange_requests", county=HUKOU, stdout=out)
    assert "待答复" in out.getvalue()
    assert "本县台账记载孤儿" in out.getvalue()
    late = (tonghu_clock.today() + dt.timedelta(days=60)).isoformat()
    out = io.StringIO()
    call_command("exchange_requests", county=RESIDENCE, overdue=True, today=late, stdout=out)
    assert "已逾期" in out.getvalue()
    assert counties.first.name not in out.getvalue()
    assert counties.first.id_number not in out.getvalue()


def test_trusting_a_changed_key_needs_replace(counties: Counties, tmp_path: Path) -> None:
    from tonghu.exchange.packages import CountyKeys  # noqa: PLC0415

    other = CountyKeys.generate(HUKOU).public("卫东区")
    entry = tmp_path / "entry.json"
    entry.write_text(json.dumps(other.to_json()), encoding="utf-8")
    with pytest.raises(PackageError, match="已登记了不同的公钥"):
        registry_trust(path=entry)
    assert registry_trust(path=entry, replace=True) == [other]
    assert registry_trust(path=entry) == []


def test_outgoing_packages_are_numbered_per_recipient(counties: Counties, tmp_path: Path) -> None:
    for _ in range(2):
        migrants_export(county=RESIDENCE, recipient=HUKOU, out_dir=tmp_path)
    sequences = ExchangePackage.objects.filter(direction=Direction.OUT, recipient=HUKOU)
    assert sorted(sequences.values_list("sequence", flat=True)) == [1, 2]
    assert imported_counts()[0] == 0
