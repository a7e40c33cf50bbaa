"""The exchange pages: a county office makes, downloads and imports packages and answers
跨省通办 requests in the browser's forms; refusals keep everything as it was."""

from __future__ import annotations

from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from tonghu.accounts.models import User
from tonghu.accounts.roles import Role
from tonghu.audit.models import Action, AuditEntry
from tonghu.exchange.models import CertifyRequest, Direction, ExchangePackage, Side
from tonghu.exchange.tests.conftest import HUKOU, RESIDENCE, Counties, imported_counts


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def make(client: Client, kind: str, recipient: str) -> ExchangePackage:
    """Make a package on the page; the page then offers it for download."""
    response = client.post(reverse("exchange:export"), {"kind": kind, "recipient": recipient})
    assert response.status_code == 302, response.content.decode()
    made = ExchangePackage.objects.filter(direction=Direction.OUT).latest("id")
    assert response["Location"].endswith(f"?made={made.pk}")
    page = client.get(response["Location"])
    assert reverse("exchange:download", args=[made.pk]) in page.content.decode()
    return made


def download(client: Client, package: ExchangePackage) -> SimpleUploadedFile:
    response = client.get(reverse("exchange:download", args=[package.pk]))
    assert response.status_code == 200
    data = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    name = response["Content-Disposition"].split('filename="')[1].rstrip('"')
    return SimpleUploadedFile(name, data)


def upload(client: Client, file: SimpleUploadedFile) -> tuple[int, str]:
    file.seek(0)
    response = client.post(reverse("exchange:import"), {"file": file})
    return response.status_code, response.content.decode()


def test_a_package_is_made_downloaded_and_imported_on_the_pages(
    counties: Counties, tmp_path: Path
) -> None:
    residence = logged_in(counties.residence_staff)
    hukou = logged_in(counties.hukou_staff)
    home = residence.get(reverse("exchange:home"))
    assert home.status_code == 200
    assert "卫东区" in home.content.decode()  # the registry's counties to send to

    made = make(residence, "migrants", HUKOU)
    file = download(residence, made)
    assert file.name == f"{RESIDENCE}-{HUKOU}-000001-migrants.tonghu"
    assert counties.first.name.encode() not in file.read()
    assert AuditEntry.objects.filter(
        action=Action.EXPORT, detail__startswith="下载流动儿童名单交换包"
    ).exists()

    status, text = upload(hukou, file)
    assert status == 200
    assert "关联到本县台账 2 名" in text
    assert (tmp_path / "exchange" / "in" / HUKOU / file.name).is_file()

    # The hukou county answers from its page; the residence county imports the answer.
    answer = download(hukou, make(hukou, "hukou_status", RESIDENCE))
    status, text = upload(residence, answer)
    assert status == 200
    assert f"{counties.first.child_id}：户籍地新报 孤儿" in text
    page = residence.get(reverse("children:detail", args=[counties.first.child_id]))
    assert "孤儿" in page.content.decode()


def test_a_replayed_tampered_or_misaddressed_upload_is_refused_and_nothing_changes(
    counties: Counties,
) -> None:
    residence = logged_in(counties.residence_staff)
    hukou = logged_in(counties.hukou_staff)
    file = download(residence, make(residence, "migrants", HUKOU))
    assert upload(hukou, file)[0] == 200
    before = imported_counts()

    status, text = upload(hukou, file)  # the same package again
    assert status == 400
    assert "导入过，不能重复导入" in text

    file.seek(0)
    data = bytearray(file.read())
    data[-40] ^= 1
    status, text = upload(hukou, SimpleUploadedFile("tampered.tonghu", bytes(data)))
    assert status == 400
    assert "交换包未导入" in text

    status, text = upload(residence, file)  # addressed to 卫东区, not 新华区
    assert status == 400
    assert f"是发给 {HUKOU} 的" in text

    status, text = upload(hukou, SimpleUploadedFile("x.tonghu", b"not a package"))
    assert status == 400
    assert imported_counts() == before


def test_a_certify_request_goes_from_the_childs_file_and_is_answered_on_the_page(
    counties: Counties,
) -> None:
    residence = logged_in(counties.residence_staff)
    hukou = logged_in(counties.hukou_staff)
    file_page = residence.get(reverse("children:detail", args=[counties.second.child_id]))
    assert reverse("exchange:certify_new", args=[counties.second.child_id]) in (
        file_page.content.decode()
    )
    response = residence.post(
        reverse("exchange:certify_new", args=[counties.second.child_id]),
        {"subject": "fuc", "note": "申请基本生活补贴"},
    )
    assert response.status_code == 302
    request = CertifyRequest.objects.get(side=Side.REQUESTER)
    sent = ExchangePackage.objects.get(pk=response["Location"].split("made=")[1])

    assert upload(hukou, download(residence, sent))[0] == 200
    pending = CertifyRequest.objects.get(side=Side.ANSWERER)
    listing = hukou.get(reverse("exchange:certify_list")).content.decode()
    assert reverse("exchange:certify", args=[pending.pk]) in listing
    detail = hukou.get(reverse("exchange:certify", args=[pending.pk])).content.decode()
    assert "本县台账记载事实无人抚养" in detail

    refused = hukou.post(reverse("exchange:certify", args=[pending.pk]), {"certified": "yes"})
    assert refused.status_code == 400
    assert "这个字段是必填项" in refused.content.decode()  # the reference number
    answered = hukou.post(
        reverse("exchange:certify", args=[pending.pk]),
        {"certified": "yes", "reference": "卫民证〔2026〕12号"},
    )
    assert answered.status_code == 302
    reply = ExchangePackage.objects.get(pk=answered["Location"].split("made=")[1])
    assert upload(residence, download(hukou, reply))[0] == 200
    request.refresh_from_db()
    assert request.status == CertifyRequest.Status.ANSWERED
    assert request.certified is True
    assert request.reference == "卫民证〔2026〕12号"
    # Answered once: a second answer is refused.
    again = hukou.post(
        reverse("exchange:certify", args=[pending.pk]), {"certified": "no", "reference": "x"}
    )
    assert again.status_code == 400


def test_a_child_whose_hukou_is_local_cannot_be_sent_for_certification(
    counties: Counties,
) -> None:
    hukou = logged_in(counties.hukou_staff)
    response = hukou.post(
        reverse("exchange:certify_new", args=[counties.hukou_first.child_id]),
        {"subject": "orphan"},
    )
    assert response.status_code == 400
    assert "户籍地就在本县" in response.content.decode()
    assert not CertifyRequest.objects.exists()


def test_the_city_office_imports_figures_but_makes_no_packages(counties: Counties) -> None:
    city = logged_in(counties.world.users[Role.CITY_STAFF])
    page = city.get(reverse("exchange:home")).content.decode()
    assert "区县监测统计报送" in page
    assert reverse("exchange:export") not in page
    refused = city.post(reverse("exchange:export"), {"kind": "figures", "recipient": "410000"})
    assert refused.status_code == 403
    assert city.get(reverse("exchange:certify_list")).status_code == 403
