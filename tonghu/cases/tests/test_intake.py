"""Filing a report through the form: receipts, joining the open case, evidence files."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.test import Client
from django.urls import reverse

from tonghu import clock as tonghu_clock
from tonghu.audit.models import AuditEntry
from tonghu.cases.intake import case_file_add, case_file_open, case_link_child
from tonghu.cases.machine import State, Step
from tonghu.cases.models import Case, CaseEvent, Report
from tonghu.cases.tests.factories import STEP_DATA, VILLAGE, People, file_report, people, take
from tonghu.children.models import Child
from tonghu.conftest import Clock, World
from tonghu.web.attachments import attachment_open

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def cast(world: World, clock: Clock, settings: Any, tmp_path: Path) -> People:
    settings.VAR_DIR = tmp_path / "var"
    return people(world)


def _form(**over: Any) -> dict[str, Any]:
    data = {
        "reporter_kind": "school",
        "organisation": "焦店镇中心小学",
        "situations": ["multiple_injuries", "violence"],
        "place": VILLAGE,
        "place_detail": "三年级二班",
        "occurred_at": (tonghu_clock.now() - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "observed": "学生手臂多处淤青。",
        "child_name": "测试学生",
        "child_sex": "女",
        "child_age": "9",
        "child_id_number": "",
    }
    data.update(over)
    return data


def test_a_teacher_files_and_gets_a_receipt_showing_only_the_phase(
    cast: People, client: Client
) -> None:
    client.force_login(cast.reporter)
    evidence = SimpleUploadedFile("photo.png", PNG, content_type="image/png")
    answer = client.post(reverse("reports:new"), {**_form(), "evidence": [evidence]})
    report = Report.objects.get()
    assert answer.status_code == 302
    assert answer["Location"] == reverse("reports:receipt", args=[report.receipt_no])
    page = client.get(answer["Location"]).content.decode()
    assert report.receipt_no in page
    assert "已提交，等待公安机关受理" in page
    assert "淤青" not in page
    assert "测试学生" not in page
    assert report.situations == ["multiple_injuries", "violence"]
    kept = report.files.get()
    path = Path(settings.VAR_DIR) / "case_files" / kept.file_path
    assert PNG not in path.read_bytes()  # sealed at rest
    assert attachment_open(path).read() == PNG
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert AuditEntry.objects.filter(object_type="report", actor=cast.reporter).exists()


def test_bad_input_gets_chinese_errors_and_files_nothing(cast: People, client: Client) -> None:
    client.force_login(cast.reporter)
    future = (tonghu_clock.now() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    answer = client.post(
        reverse("reports:new"),
        _form(situations=[], occurred_at=future, child_id_number="123", child_age="20"),
    )
    page = answer.content.decode()
    assert answer.status_code == 400
    for message in (
        "请至少选择一项。",
        "发现时间不能晚于现在。",
        "身份证号应为18位",
        "年龄应在0至17周岁之间。",
    ):
        assert message in page
    assert "学生手臂多处淤青。" in page  # what was typed is kept
    assert not Report.objects.exists()


def test_an_executable_evidence_file_is_refused_and_nothing_is_filed(
    cast: People, client: Client
) -> None:
    client.force_login(cast.reporter)
    bad = SimpleUploadedFile("photo.png", b"MZ\x90\x00" * 10, content_type="image/png")
    answer = client.post(reverse("reports:new"), {**_form(), "evidence": [bad]})
    assert answer.status_code == 400
    assert "只能上传 PDF、JPG 或 PNG 格式的证据材料。" in answer.content.decode()
    assert not Report.objects.exists()
    assert not Case.objects.exists()


def test_a_second_report_on_the_same_ledger_child_joins_the_open_case(cast: People) -> None:
    child = Child.objects.get(residence_division_id=VILLAGE)
    child.id_number = "410402201501010021"
    child.save(update_fields=["id_number", "id_number_index"])  # the blind index follows
    first = file_report(cast.reporter, child_id_number="410402201501010021")
    assert first.case.child == child
    take(cast.police, first.case, Step.ACCEPT, **STEP_DATA[Step.ACCEPT])
    second = file_report(
        cast.supervisor,
        reporter_kind="staff",
        situations=["abandoned"],
        child=child,
    )
    assert second.case == first.case
    assert second.receipt_no != first.receipt_no
    case = Case.objects.get()
    assert case.state == State.POLICE_ACCEPTED  # joining does not restart the loop
    assert case.situations == ["multiple_injuries", "abandoned"]
    assert case.events.filter(kind=CaseEvent.Kind.REPORT_JOINED).count() == 1


def test_a_closed_case_does_not_take_new_reports(cast: People) -> None:
    child = Child.objects.get(residence_division_id=VILLAGE)
    first = file_report(cast.supervisor, reporter_kind="staff", child=child)
    Case.objects.filter(pk=first.case.pk).update(state=State.CLOSED)
    second = file_report(cast.supervisor, reporter_kind="staff", child=child)
    assert second.case != first.case


def test_linking_the_child_of_another_open_case_merges_the_two(cast: People) -> None:
    child = Child.objects.get(residence_division_id=VILLAGE)
    staffs = file_report(cast.supervisor, reporter_kind="staff", child=child)
    teachers = file_report(cast.reporter)  # no ID number: a case of its own
    assert teachers.case != staffs.case
    joined = case_link_child(user=cast.county, number=teachers.case.number, child_id=child.child_id)
    assert joined == staffs.case
    assert set(joined.reports.values_list("receipt_no", flat=True)) == {
        staffs.receipt_no,
        teachers.receipt_no,
    }
    teachers.case.refresh_from_db()
    assert teachers.case.merged_into == joined
    assert teachers.case.state == State.CLOSED
    teachers.refresh_from_db()
    assert teachers.case == joined  # the teacher's receipt follows the case


def test_a_director_cannot_link_a_child(cast: People) -> None:
    case = file_report(cast.reporter).case
    with pytest.raises(ValidationError) as refused:
        case_link_child(user=cast.director, number=case.number, child_id="C000001")
    assert refused.value.messages == ["关联台账儿童须由儿童督导员或区县民政办理。"]


def test_case_files_are_served_only_through_the_gate(cast: People, client: Client) -> None:
    evidence = SimpleUploadedFile("photo.png", PNG, content_type="image/png")
    report = file_report(cast.reporter)
    kept = case_file_add(
        user=cast.county, number=report.case.number, upload=evidence, description="验伤照片"
    )
    path, _ = case_file_open(user=cast.supervisor, number=report.case.number, file_id=kept.pk)
    assert attachment_open(path).read() == PNG
    with pytest.raises(Http404):
        case_file_open(user=cast.neighbour_county, number=report.case.number, file_id=kept.pk)
    url = reverse("cases:file", args=[report.case.number, kept.pk])
    client.force_login(cast.neighbour_county)
    assert client.get(url).status_code == 404
    client.force_login(cast.reporter)
    assert client.get(url).status_code == 404  # a reporter has no share of case pages
    client.force_login(cast.director)
    answer = client.get(url)
    assert answer.status_code == 200
    assert b"".join(answer.streaming_content) == PNG  # type: ignore[attr-defined]
    assert AuditEntry.objects.filter(detail=f"查看案件材料 {kept.pk}").count() == 2


def test_the_step_form_refuses_with_the_reason_and_a_stale_form_gets_409(
    cast: People, client: Client
) -> None:
    case = file_report(cast.reporter).case
    client.force_login(cast.supervisor)
    url = reverse("cases:step", args=[case.number, "assess"])
    answer = client.post(url, {"version": case.version, **STEP_DATA[Step.ASSESS]})
    assert answer.status_code == 400
    assert "案件当前处于“已报告”，不能“调查评估”" in answer.content.decode()
    client.force_login(cast.police)
    accept = reverse("cases:step", args=[case.number, "accept"])
    assert (
        client.post(accept, {"version": case.version, **STEP_DATA[Step.ACCEPT]}).status_code == 302
    )
    again = client.post(accept, {"version": case.version, **STEP_DATA[Step.ACCEPT]})
    assert again.status_code == 409
    assert "已被他人更新" in again.content.decode()


def test_the_case_page_offers_only_the_steps_the_user_may_take(
    cast: People, client: Client
) -> None:
    case = file_report(cast.reporter).case
    client.force_login(cast.police)
    page = client.get(reverse("cases:detail", args=[case.number])).content.decode()
    assert 'data-step="accept"' in page
    assert "学生手臂多处淤青" in page
    client.force_login(cast.director)
    page = client.get(reverse("cases:detail", args=[case.number])).content.decode()
    assert 'data-step="' not in page
    assert "当前环节不由您办理" in page
    assert AuditEntry.objects.filter(object_type="case", detail="查看案件").count() == 2
