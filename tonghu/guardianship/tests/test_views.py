"""The pages: the child's guardianship page and its forms, the county task list, who may write."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tonghu.accounts.roles import Role
from tonghu.audit.models import AuditEntry
from tonghu.children.models import Child
from tonghu.conftest import World
from tonghu.guardianship.models import Assessment, CareAgreement, InterventionTask, ParentContact
from tonghu.guardianship.services import assessment_record
from tonghu.guardianship.tests.conftest import CODES, answers

pytestmark = pytest.mark.django_db


def _client(world: World, role: Role) -> Client:
    client = Client()
    client.force_login(world.users[role])
    return client


def _child(world: World) -> Child:
    return world.child_in(Role.CHILD_DIRECTOR)


def _url(name: str, child: Child, *args: int) -> str:
    return reverse(f"guardianship:{name}", args=[child.child_id, *args])


def _form(**changed: str) -> dict[str, str]:
    today = timezone.localdate().isoformat()
    return {
        **{f"answer_{code}": value for code, value in answers(**changed).items()},
        "assessed_on": today,
        "note": "",
    }


def test_page_shows_latest_grade_coloured_and_history(world: World) -> None:
    child = _child(world)
    user = world.users[Role.CHILD_DIRECTOR]
    for day, grade_answers in (
        (dt.date(2025, 1, 1), answers()),
        (dt.date(2025, 3, 1), answers(income="差", education="差", kinship="差")),
    ):
        assessment_record(
            user=user, child_id=child.child_id, answers=grade_answers, assessed_on=day
        )
    response = _client(world, Role.SUPERVISOR).get(_url("child", child))
    assert response.status_code == 200
    text = response.content.decode()
    assert '<span class="grade grade-yellow">黄 · 监护不足</span>' in text  # the latest, first
    assert text.index("grade-yellow") < text.index("grade-green")  # history, latest first
    assert "2025-01-01" in text
    assert " style=" not in text  # strict CSP: classes only
    assert "<script>" not in text
    entry = AuditEntry.objects.get(object_type="guardianship", action="view")
    assert entry.actor == world.users[Role.SUPERVISOR]
    assert [row.child_id for row in entry.children.all()] == [child.child_id]


def test_page_offers_one_radio_group_per_indicator_by_dimension(world: World) -> None:
    text = _client(world, Role.CHILD_DIRECTOR).get(_url("child", _child(world))).content.decode()
    for code in CODES:
        assert len(re.findall(rf'type="radio" name="answer_{code}"', text)) == 4
    for dimension in ("儿童成长", "监护能力", "监护保障"):
        assert f"<legend>{dimension}</legend>" in text
    assert 'enctype="multipart/form-data"' in text


def test_city_staff_see_but_no_forms(world: World) -> None:
    text = _client(world, Role.CITY_STAFF).get(_url("child", _child(world))).content.decode()
    assert "尚未评估" in text
    assert "保存评估" not in text
    assert "保存协议" not in text


def test_assess_through_the_page(world: World) -> None:
    child = _child(world)
    response = _client(world, Role.CHILD_DIRECTOR).post(
        _url("assess", child), _form(child_safety="差")
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "已保存评估" in text
    assert "grade-red" in text
    assert "已生成监护缺失干预任务" in text
    assert Assessment.objects.get().grade == "监护缺失"
    assert InterventionTask.objects.count() == 1


def test_unanswered_indicator_refused_and_answers_kept(world: World) -> None:
    child = _child(world)
    form = _form(income="较差")
    del form["answer_child_safety"]
    response = _client(world, Role.CHILD_DIRECTOR).post(_url("assess", child), form)
    assert response.status_code == 200
    text = response.content.decode()
    assert "请为“儿童安全”选择答案。" in text
    assert re.search(r'name="answer_income" value="较差"[^>]*checked', text)
    assert not Assessment.objects.exists()


@pytest.mark.parametrize(
    ("name", "payload"),
    [
        ("assess", _form()),
        (
            "agreement_add",
            {"carer_name": "王某某", "relationship": "祖母", "starts_on": "2025-01-01"},
        ),
        ("contact_add", {"contacted_on": "2025-06-01", "who": "mother", "channel": "phone"}),
    ],
)
def test_city_staff_refused_to_write(
    world: World, name: str, payload: dict[str, str], care_files: Path
) -> None:
    child = _child(world)
    Child.objects.filter(pk=child.pk).update(is_left_behind=True)
    assert child.residence_division_id.startswith("4104")  # inside the city staff's scope
    response = _client(world, Role.CITY_STAFF).post(_url(name, child), payload)
    assert response.status_code == 404
    assert not Assessment.objects.exists()
    assert not CareAgreement.objects.exists()
    assert not ParentContact.objects.exists()


def test_city_staff_may_not_judge_a_carer(world: World) -> None:
    child = _child(world)
    agreement = CareAgreement.objects.create(
        child=child, carer_name="王某某", relationship="祖母", starts_on=dt.date(2025, 1, 1)
    )
    response = _client(world, Role.CITY_STAFF).post(
        _url("agreement_unfit", child, agreement.pk), {"reason": "无力照护"}
    )
    assert response.status_code == 404
    agreement.refresh_from_db()
    assert agreement.fit


def test_agreement_of_another_child_is_404(world: World) -> None:
    other = world.child_out(Role.CHILD_DIRECTOR)
    agreement = CareAgreement.objects.create(
        child=other, carer_name="王某某", relationship="祖母", starts_on=dt.date(2025, 1, 1)
    )
    response = _client(world, Role.CHILD_DIRECTOR).post(
        _url("agreement_unfit", _child(world), agreement.pk), {"reason": "无力照护"}
    )
    assert response.status_code == 404


def test_upload_of_wrong_type_shows_error_and_keeps_the_typing(
    world: World, care_files: Path
) -> None:
    child = _child(world)
    payload = {
        "carer_name": "王某某",
        "relationship": "外祖母",
        "phone": "13800000000",
        "starts_on": "2025-01-01",
        "ends_on": "",
        "file": SimpleUploadedFile("scan.pdf", b"not a pdf at all", content_type="application/pdf"),
    }
    response = _client(world, Role.CHILD_DIRECTOR).post(_url("agreement_add", child), payload)
    assert response.status_code == 200
    text = response.content.decode()
    assert "只能上传 PDF、JPG 或 PNG 格式的协议扫描件。" in text
    assert 'value="外祖母"' in text
    assert "请重新选择文件" in text
    assert not CareAgreement.objects.exists()
    assert not care_files.exists() or not any(care_files.rglob("*.*"))


def test_agreement_and_unfit_through_the_page(world: World, care_files: Path) -> None:
    child = _child(world)
    client = _client(world, Role.CHILD_DIRECTOR)
    payload = {
        "carer_name": "王某某",
        "relationship": "祖母",
        "starts_on": "2025-01-01",
        "file": SimpleUploadedFile("scan.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 16),
    }
    text = client.post(_url("agreement_add", child), payload).content.decode()
    assert "已登记委托照护协议" in text
    agreement = CareAgreement.objects.get()
    assert _url("agreement_file", child, agreement.pk) in text
    text = client.post(
        _url("agreement_unfit", child, agreement.pk), {"reason": ""}
    ).content.decode()
    assert "请填写判定被委托照护人不适当的原因" in text
    text = client.post(
        _url("agreement_unfit", child, agreement.pk), {"reason": "祖母卧病"}
    ).content.decode()
    assert "已判定被委托照护人不适当" in text
    assert "照护不适当" in text


def test_contact_through_the_page_and_lapse_shown(world: World) -> None:
    child = _child(world)
    Child.objects.filter(pk=child.pk).update(is_left_behind=True)
    client = _client(world, Role.CHILD_DIRECTOR)
    old = (timezone.localdate() - dt.timedelta(days=10)).isoformat()
    text = client.post(
        _url("contact_add", child), {"contacted_on": old, "who": "father", "channel": "phone"}
    ).content.decode()
    assert "已登记亲子联系" in text
    assert "已 10 天未与父母联系" in text
    text = client.post(
        _url("contact_add", child), {"contacted_on": old, "who": "", "channel": "phone"}
    ).content.decode()
    assert "请选择联系人。" in text
    assert ParentContact.objects.count() == 1


def test_task_list_and_handle(world: World) -> None:
    child = _child(world)
    assessment_record(
        user=world.users[Role.CHILD_DIRECTOR],
        child_id=child.child_id,
        answers=answers(child_safety="差"),
        assessed_on=dt.date(2025, 6, 1),
    )
    task = InterventionTask.objects.get()
    client = _client(world, Role.COUNTY_STAFF)
    text = client.get(reverse("guardianship:tasks")).content.decode()
    assert f'id="intervention-{task.pk}"' in text
    assert AuditEntry.objects.filter(object_type="intervention_task", action="search").exists()
    url = reverse("guardianship:task_handle", args=[task.pk])
    response = client.post(url, {"note": ""}, headers={"HX-Request": "true"})
    assert "请填写处置情况" in response.content.decode()
    response = client.post(url, {"note": "已入户核查"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "已处置" in response.content.decode()
    task.refresh_from_db()
    assert task.status == InterventionTask.Status.HANDLED
    text = client.get(reverse("guardianship:tasks")).content.decode()
    assert f'id="intervention-{task.pk}"' not in text  # only open tasks are listed


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.CHILD_DIRECTOR, Role.CITY_STAFF])
def test_task_list_refused_to_other_roles(world: World, role: Role) -> None:
    assert _client(world, role).get(reverse("guardianship:tasks")).status_code == 403
