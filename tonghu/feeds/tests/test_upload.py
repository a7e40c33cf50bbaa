"""Uploading feed files into a round through the web app, as a clerk would."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from tonghu.accounts.roles import Role
from tonghu.audit.models import Action, AuditEntry
from tonghu.conftest import EDU_CSV, World, edu_upload
from tonghu.feeds.models import FeedImport
from tonghu.rounds.models import RoundStatus


def _client(world: World, role: Role) -> Client:
    client = Client()
    client.force_login(world.users[role])
    return client


def _upload(world: World, role: Role, upload: SimpleUploadedFile, source: str = "") -> Any:
    round_ = world.round_for(role, inside=True)
    url = reverse("feeds:upload", args=[round_.pk])
    return _client(world, role).post(url, {"file": upload, "source": source})


def _store_files(settings: Any) -> list[Path]:
    root: Path = settings.FEED_STORE_DIR
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_a_clerk_uploads_a_file_and_sees_its_summary(world: World, settings: Any) -> None:
    response = _upload(world, Role.COUNTY_STAFF, edu_upload())
    assert response.status_code == 200
    text = response.content.decode()
    assert '读取</dt><dd data-testid="rows-read">2 行' in text
    assert "缺少姓名：1 行" in text
    assert "下载拒收与警告清单" in text
    stored = FeedImport.objects.get()
    assert (stored.rows_read, stored.rows_accepted, stored.rows_rejected) == (2, 1, 1)
    names = {p.name for p in _store_files(settings)}
    assert names == {"records.parquet", "rejects.parquet", "blocks.parquet", "original.csv"}
    entry = AuditEntry.objects.get(action=Action.IMPORT)
    assert entry.object_ids == [str(stored.pk)]
    assert "测试学生" not in entry.detail


def test_the_same_file_again_changes_nothing(world: World, settings: Any) -> None:
    _upload(world, Role.COUNTY_STAFF, edu_upload())
    before = _store_files(settings)
    again = _upload(world, Role.COUNTY_STAFF, edu_upload("edu_migrant_again.csv"))
    assert again.status_code == 200
    assert "该文件此前已导入本轮，未作任何更改" in again.content.decode()
    assert FeedImport.objects.count() == 1
    assert _store_files(settings) == before


def test_a_later_file_with_a_known_key_and_other_content_is_rejected(world: World) -> None:
    _upload(world, Role.COUNTY_STAFF, edu_upload())
    changed = (
        "学籍号,姓名,出生日期,学籍状态\nG1,测试学生,2015-03-02,辍学\nG3,新学生,2016-01-01,在读\n"
    )
    response = _upload(world, Role.COUNTY_STAFF, edu_upload("edu_migrant_2.csv", changed))
    assert "记录编号与本轮已读入的另一行相同但内容不同：1 行" in response.content.decode()
    second = FeedImport.objects.get(file_name="edu_migrant_2.csv")
    assert (second.rows_accepted, second.rows_rejected) == (1, 1)


def _bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr("xl/workbook.xml", "<workbook/>")
        package.writestr("xl/worksheets/sheet1.xml", b"\0" * (30 * 1024 * 1024))
    return buffer.getvalue()


def _xlsx_without_matching_header() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["编号", "名字"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


WRONG_FILES = {
    "not a feed type": ("edu_migrant.pdf", b"%PDF-1.4", "", "只能导入 CSV 或 XLSX 文件"),
    "empty": ("edu_migrant.csv", b"", "", "所提交的是空文件"),
    "unknown source name": ("data.csv", EDU_CSV.encode(), "", "无法从文件名识别数据来源"),
    "unknown chosen source": (
        "edu_migrant.csv",
        EDU_CSV.encode(),
        "school_meals",
        "不在可用的选项中",
    ),
    "header matches no source": (
        "edu_migrant.csv",
        "编号,名字\n1,甲\n".encode(),
        "",
        "表头与数据来源",
    ),
    "xlsx without a matching sheet": (
        "edu_migrant.xlsx",
        _xlsx_without_matching_header(),
        "",
        "没有任何工作表的表头",
    ),
    "not really xlsx": ("edu_migrant.xlsx", b"PK\x03\x04 broken", "", "不是有效的 XLSX 文件"),
    "zip bomb as xlsx": ("edu_migrant.xlsx", _bomb(), "", "疑似压缩炸弹"),
}


@pytest.mark.parametrize("case", WRONG_FILES, ids=list(WRONG_FILES))
def test_a_wrong_file_gets_a_chinese_error_and_imports_nothing(
    world: World, settings: Any, case: str
) -> None:
    name, content, source, message = WRONG_FILES[case]
    response = _upload(world, Role.COUNTY_STAFF, SimpleUploadedFile(name, content), source)
    assert response.status_code == 400
    text = response.content.decode()
    assert message in text
    assert "未导入任何数据" in text
    assert not FeedImport.objects.exists()
    assert _store_files(settings) == []


def test_a_file_over_the_size_limit_is_refused(world: World, settings: Any) -> None:
    settings.UPLOAD_MAX_BYTES = 1024
    big = EDU_CSV + "".join(f"G{n},学生{n},2015-03-02,在读\n" for n in range(100, 400))
    response = _upload(world, Role.COUNTY_STAFF, edu_upload(content=big))
    assert response.status_code == 400
    assert "文件超过 0 MB 的上限" in response.content.decode()
    assert not FeedImport.objects.exists()


def test_a_department_officer_uploads_only_their_own_source(world: World) -> None:
    police = "居住证编号,姓名,出生日期\nJ1,甲,2015-01-01\n"
    refused = _upload(
        world, Role.DEPARTMENT_OFFICER, SimpleUploadedFile("police_residence.csv", police.encode())
    )
    assert refused.status_code == 400
    assert "不能导入“公安·居住证/居住登记”数据" in refused.content.decode()
    assert _upload(world, Role.DEPARTMENT_OFFICER, edu_upload()).status_code == 200


def test_a_department_officer_sees_only_their_departments_imports(world: World) -> None:
    police = "居住证编号,姓名,出生日期\nJ1,甲,2015-01-01\n"
    _upload(world, Role.COUNTY_STAFF, SimpleUploadedFile("police_residence.csv", police.encode()))
    police_import = FeedImport.objects.get()
    officer = _client(world, Role.DEPARTMENT_OFFICER)
    assert officer.get(reverse("feeds:detail", args=[police_import.pk])).status_code == 404
    round_page = officer.get(reverse("rounds:detail", args=[police_import.round_id]))
    assert "police_residence.csv" not in round_page.content.decode()


def test_a_closed_round_takes_no_files(world: World) -> None:
    round_ = world.round_for(Role.COUNTY_STAFF, inside=True)
    round_.status = RoundStatus.CLOSED
    round_.save()
    response = _upload(world, Role.COUNTY_STAFF, edu_upload())
    assert "该轮监测摸排已结束" in response.content.decode()
    assert not FeedImport.objects.exists()


def test_the_report_lists_rejects_and_warnings_in_chinese(world: World) -> None:
    content = (
        "学籍号,姓名,出生日期,学籍状态\n=HYPERLINK(1),,2015-03-02,在读\nG2,乙,2015-02-03,读书中\n"
    )
    _upload(world, Role.COUNTY_STAFF, edu_upload(content=content))
    imported = FeedImport.objects.get()
    response = _client(world, Role.COUNTY_STAFF).get(reverse("feeds:report", args=[imported.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    rejects = list(book["拒收的行"].values)
    assert rejects[0][:6] == ("数据来源", "文件", "工作表", "行号", "记录编号", "拒收原因")
    assert rejects[1][3:7] == (
        1,
        "'=HYPERLINK(1)",
        "缺少姓名",
        "学籍号==HYPERLINK(1)；姓名=；出生日期=2015-03-02；学籍状态=在读",
    )
    warnings = list(book["警告"].values)
    assert warnings[1][3:7] == (2, "G2", "学籍状态", "取值不在规定范围内")
    assert AuditEntry.objects.filter(action=Action.EXPORT, object_type="feed_import").exists()
