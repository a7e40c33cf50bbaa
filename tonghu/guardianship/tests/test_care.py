"""委托照护: agreements with scanned files kept outside the web root, checked on upload, served
only through the gate; an unfit carer alerts the county staff and the town's supervisors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from tonghu.accounts.roles import Role
from tonghu.audit.models import AuditEntry
from tonghu.conftest import World, make_user
from tonghu.guardianship.models import CareAgreement
from tonghu.guardianship.services import agreement_judge_unfit, agreement_record
from tonghu.notifications.models import Notification
from tonghu.web.attachments import MAX_FILE_BYTES, attachment_open

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


def _record(world: World, upload: SimpleUploadedFile | None = None, **kwargs: Any) -> Any:
    fields: dict[str, Any] = {
        "carer_name": "王某某",
        "relationship": "祖母",
        "phone": "13800000000",
        "starts_on": dt.date(2025, 1, 1),
        "ends_on": None,
        "upload": upload,
    }
    return agreement_record(
        user=world.users[Role.CHILD_DIRECTOR],
        child_id=world.child_in(Role.CHILD_DIRECTOR).child_id,
        **{**fields, **kwargs},
    )


def _files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


@pytest.mark.parametrize(("content", "kind"), [(PDF, "pdf"), (PNG, "png"), (JPG, "jpg")])
def test_scan_kept_outside_web_root_by_magic_bytes(
    world: World, care_files: Path, content: bytes, kind: str
) -> None:
    # The name and the declared type do not matter: the first bytes do.
    upload = SimpleUploadedFile("scan.bin", content, content_type="application/octet-stream")
    agreement = _record(world, upload=upload)
    assert agreement.file_type == kind
    assert agreement.file_size == len(content)
    stored = care_files / agreement.file_path
    assert content not in stored.read_bytes()  # sealed at rest
    assert attachment_open(stored).read() == content
    assert stored.suffix == f".{kind}"
    assert world.child_in(Role.CHILD_DIRECTOR).name not in agreement.file_path
    assert AuditEntry.objects.filter(object_type="care_agreement", action="create").exists()


def test_without_scan(world: World, care_files: Path) -> None:
    agreement = _record(world)
    assert (agreement.file_path, agreement.file_type) == ("", "")
    assert _files(care_files) == []


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("scan.pdf", b"GIF89a not really a pdf"),
        ("scan.pdf", b"MZ\x90\x00 an executable"),
        ("scan.png", b"<html><script>alert(1)</script></html>"),
    ],
)
def test_wrong_type_refused_nothing_saved(
    world: World, care_files: Path, name: str, content: bytes
) -> None:
    upload = SimpleUploadedFile(name, content, content_type="application/pdf")
    with pytest.raises(ValidationError) as raised:
        _record(world, upload=upload)
    assert raised.value.message_dict["file"] == ["只能上传 PDF、JPG 或 PNG 格式的协议扫描件。"]
    assert not CareAgreement.objects.exists()
    assert _files(care_files) == []


def test_too_large_refused_nothing_saved(world: World, care_files: Path) -> None:
    upload = SimpleUploadedFile("scan.pdf", PDF + b"\x00" * MAX_FILE_BYTES)
    with pytest.raises(ValidationError, match="不能超过 10 MB"):
        _record(world, upload=upload)
    assert not CareAgreement.objects.exists()
    assert _files(care_files) == []


def test_exactly_10_mb_accepted(world: World, care_files: Path) -> None:
    upload = SimpleUploadedFile("scan.pdf", PDF + b"\x00" * (MAX_FILE_BYTES - len(PDF)))
    assert _record(world, upload=upload).file_size == MAX_FILE_BYTES


def test_empty_file_refused(world: World) -> None:
    with pytest.raises(ValidationError, match="文件是空的"):
        _record(world, upload=SimpleUploadedFile("scan.pdf", b""))
    assert not CareAgreement.objects.exists()


def test_end_before_start_refused(world: World, care_files: Path) -> None:
    with pytest.raises(ValidationError, match="截止日期不能早于起始日期"):
        _record(world, upload=SimpleUploadedFile("scan.pdf", PDF), ends_on=dt.date(2024, 1, 1))
    assert not CareAgreement.objects.exists()
    assert _files(care_files) == []


def _file_url(agreement: CareAgreement) -> str:
    return reverse("guardianship:agreement_file", args=[agreement.child.child_id, agreement.pk])


@pytest.mark.parametrize(
    ("role", "served"),
    [
        (Role.CHILD_DIRECTOR, True),
        (Role.SUPERVISOR, True),
        (Role.COUNTY_STAFF, True),
        (Role.CITY_STAFF, True),
        (Role.DEPARTMENT_OFFICER, False),
        (Role.REPORTER, False),
        (Role.SYSADMIN, False),
        (Role.AUDITOR, False),
    ],
)
def test_file_served_only_through_the_gate(world: World, role: Role, served: bool) -> None:
    agreement = _record(world, upload=SimpleUploadedFile("scan.pdf", PDF))
    client = Client()
    client.force_login(world.users[role])
    response = client.get(_file_url(agreement))
    if not served:
        assert response.status_code == 404
        return
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF  # type: ignore[attr-defined]
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert response["Cache-Control"] == "private, no-store"
    entry = AuditEntry.objects.get(action="export", object_type="care_agreement")
    assert entry.actor == world.users[role]


def test_file_of_a_child_out_of_scope_is_404(world: World) -> None:
    agreement = _record(world, upload=SimpleUploadedFile("scan.pdf", PDF))
    neighbour = make_user("u_neighbour", Role.CHILD_DIRECTOR, "410402100202")
    client = Client()
    client.force_login(neighbour)
    assert client.get(_file_url(agreement)).status_code == 404
    # Nor through another child's URL that the neighbour may see.
    other = world.child_out(Role.CHILD_DIRECTOR)
    url = reverse("guardianship:agreement_file", args=[other.child_id, agreement.pk])
    assert client.get(url).status_code == 404
    assert not AuditEntry.objects.filter(action="export").exists()


def test_anonymous_sent_to_login(world: World) -> None:
    agreement = _record(world, upload=SimpleUploadedFile("scan.pdf", PDF))
    response = Client().get(_file_url(agreement))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_unfit_carer_alerts_county_staff_and_town_supervisors(world: World) -> None:
    other_town = make_user("u_other_town", Role.SUPERVISOR, "410402200000")
    other_county = make_user("u_other_county", Role.COUNTY_STAFF, "410403000000")
    agreement = _record(world)
    child = agreement.child
    judged = agreement_judge_unfit(
        user=world.users[Role.CHILD_DIRECTOR],
        child_id=child.child_id,
        agreement_id=agreement.pk,
        reason="祖母长期卧病，无力照护",
    )
    assert (judged.fit, judged.unfit_reason) == (False, "祖母长期卧病，无力照护")
    assert judged.judged_by == world.users[Role.CHILD_DIRECTOR]
    notes = Notification.objects.filter(kind=Notification.Kind.CARER_UNFIT)
    assert {note.user for note in notes} == {
        world.users[Role.COUNTY_STAFF],
        world.users[Role.SUPERVISOR],
    }
    assert other_town not in {note.user for note in notes}
    assert other_county not in {note.user for note in notes}
    for note in notes:
        assert child.child_id in note.text
        assert "重新选择被委托照护人" in note.text
        assert child.name not in note.text
        assert "王某某" not in note.text
        assert note.url == reverse("guardianship:child", args=[child.child_id])
    assert AuditEntry.objects.filter(object_type="care_agreement", action="update").exists()


def test_unfit_needs_a_reason_and_is_judged_once(world: World) -> None:
    agreement = _record(world)
    user = world.users[Role.SUPERVISOR]
    child_id = agreement.child.child_id
    with pytest.raises(ValidationError, match="请填写判定被委托照护人不适当的原因"):
        agreement_judge_unfit(user=user, child_id=child_id, agreement_id=agreement.pk, reason="")
    assert not Notification.objects.exists()
    agreement_judge_unfit(
        user=user, child_id=child_id, agreement_id=agreement.pk, reason="怠于照护"
    )
    with pytest.raises(ValidationError, match="已被判定为不适当"):
        agreement_judge_unfit(user=user, child_id=child_id, agreement_id=agreement.pk, reason="再")
