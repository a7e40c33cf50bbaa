"""Hostile uploads through the real upload view (issue 10, point 4): files whose name lies
about their type, oversized files, zip bombs, ZIP packages with path traversal, too many or
duplicate members, encrypted or lying members, and workbooks that would abort the reader.
Each is refused with a Chinese message; nothing reaches the feed store; never a 500."""

from __future__ import annotations

import io
import struct
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from tonghu.accounts.roles import Role
from tonghu.conftest import EDU_CSV, World
from tonghu.feeds.models import FeedImport

EDU_HEADER = ["学籍号", "姓名", "出生日期", "学籍状态"]


def _post(world: World, name: str, content: bytes) -> Any:
    client = Client()
    client.force_login(world.users[Role.COUNTY_STAFF])
    round_ = world.round_for(Role.COUNTY_STAFF, inside=True)
    url = reverse("feeds:upload", args=[round_.pk])
    return client.post(url, {"file": SimpleUploadedFile(name, content), "source": ""})


def _store_files(settings: Any) -> list[Path]:
    root: Path = settings.FEED_STORE_DIR
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _workbook() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(EDU_HEADER)
    sheet.append(["G1", "测试学生", "2015-03-02", "在读"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _package(members: list[tuple[str, bytes]]) -> bytes:
    """A ZIP package with the members as given (names unchecked, repeats allowed)."""
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w") as package:
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": meant
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0))
            package.writestr(info, data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _with_workbook(*extra: tuple[str, bytes]) -> bytes:
    """A real workbook's members plus ``extra``."""
    with zipfile.ZipFile(io.BytesIO(_workbook())) as source:
        members = [(name, source.read(name)) for name in source.namelist()]
    return _package([*members, *extra])


def _edit_sheet(change: Callable[[bytes], bytes]) -> bytes:
    with zipfile.ZipFile(io.BytesIO(_workbook())) as source:
        members = [(name, source.read(name)) for name in source.namelist()]
    return _package([(n, change(d) if n == "xl/worksheets/sheet1.xml" else d) for n, d in members])


def _far_value(data: bytes) -> bytes:
    cell = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    return data.replace(b"</sheetData>", cell + b"</sheetData>")


def _lying_sizes() -> bytes:
    """A package whose sheet says it unpacks to 100 bytes but holds 2 MB."""
    package = bytearray(_with_workbook(("xl/worksheets/sheet9.xml", b"<x/>" * 500_000)))
    name = b"xl/worksheets/sheet9.xml"
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = package.find(signature)
        while at >= 0:
            name_at = at + (30 if signature == b"PK\x03\x04" else 46)
            if package[name_at : name_at + len(name)] == name:
                package[at + offset : at + offset + 4] = struct.pack("<I", 100)
            at = package.find(signature, at + 4)
    return bytes(package)


def _encrypted() -> bytes:
    package = bytearray(_workbook())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = package.find(signature)
        while at >= 0:
            package[at + offset] |= 0x01
            at = package.find(signature, at + 4)
    return bytes(package)


def _deflate64() -> bytes:
    """A workbook whose members say they are packed with Deflate64 (method 9)."""
    package = bytearray(_workbook())
    for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        at = package.find(signature)
        while at >= 0:
            package[at + offset : at + offset + 2] = struct.pack("<H", 9)
            at = package.find(signature, at + 4)
    return bytes(package)


REFUSED = {
    "xlsx that is a PDF": ("edu_migrant.xlsx", b"%PDF-1.7\n%\xe2\xe3 1 0 obj", "内容是PDF 文档"),
    "xlsx that is an ELF program": (
        "edu_migrant.xlsx",
        b"\x7fELF\x02\x01\x01" + b"\x00" * 64,
        "内容是可执行程序",
    ),
    "xlsx that is a web page": (
        "edu_migrant.xlsx",
        b"<!DOCTYPE html><html><body>x</body></html>",
        "内容是网页",
    ),
    "xlsx that is an old xls": (
        "edu_migrant.xlsx",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512,
        "旧版 Excel",
    ),
    "xlsx that is text": ("edu_migrant.xlsx", EDU_CSV.encode(), "无法作为 Excel 工作簿打开"),
    "csv that is binary": ("edu_migrant.csv", bytes(range(256)) * 8, "含有二进制数据"),
    "csv that is a workbook": ("edu_migrant.csv", _workbook(), "内容是ZIP 压缩包"),
    "csv that is a PDF": ("edu_migrant.csv", b"%PDF-1.4\n" + EDU_CSV.encode(), "内容是PDF 文档"),
    "csv that is an ELF program": (
        "edu_migrant.csv",
        b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 64,
        "内容是可执行程序",
    ),
    "csv in UTF-16": ("edu_migrant.csv", EDU_CSV.encode("utf-16"), "UTF-16 编码"),
    "csv with a header cell past the csv module's limit": (
        "edu_migrant.csv",
        ('"学籍号,姓名\n' + "x" * 200_000).encode(),
        "表头行无法解析",
    ),
    "empty csv": ("edu_migrant.csv", b"", "所提交的是空文件"),
    "empty xlsx": ("edu_migrant.xlsx", b"", "所提交的是空文件"),
    "path traversal member": (
        "edu_migrant.xlsx",
        _with_workbook(("../../etc/cron.d/evil", b"x")),
        "异常路径",
    ),
    "absolute member": ("edu_migrant.xlsx", _with_workbook(("/etc/evil.xml", b"x")), "异常路径"),
    "windows path member": (
        "edu_migrant.xlsx",
        _with_workbook(("xl\\..\\..\\evil.xml", b"x")),
        "异常路径",
    ),
    "drive letter member": ("edu_migrant.xlsx", _with_workbook(("C:/evil.xml", b"x")), "异常路径"),
    "duplicate members": (
        "edu_migrant.xlsx",
        _with_workbook(("xl/workbook.xml", b"<workbook/>")),
        "重名文件",
    ),
    "members that lie about their size": ("edu_migrant.xlsx", _lying_sizes(), "压缩包已损坏"),
    "encrypted members": ("edu_migrant.xlsx", _encrypted(), "设有密码"),
    "members packed with Deflate64": ("edu_migrant.xlsx", _deflate64(), "不支持的压缩方式"),
    "a value in the sheet's last cell (reader bomb)": (
        "edu_migrant.xlsx",
        _edit_sheet(_far_value),
        "单元格范围过大",
    ),
    "a corrupt sheet": ("edu_migrant.xlsx", _edit_sheet(lambda d: d[: len(d) // 2]), "无法读取"),
}


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_a_hostile_file_is_refused_in_chinese_and_nothing_is_stored(
    world: World, settings: Any, case: str
) -> None:
    name, content, message = REFUSED[case]
    response = _post(world, name, content)
    assert response.status_code == 400
    text = response.content.decode()
    assert message in text
    assert "未导入任何数据" in text
    assert not FeedImport.objects.exists()
    assert _store_files(settings) == []


def _bomb(member_bytes: int) -> bytes:
    """A workbook with one more member of zeros: a few KB packed, ``member_bytes`` unpacked."""
    return _with_workbook(("xl/media/padding.bin", b"\x00" * member_bytes))


@pytest.mark.parametrize(
    ("limits", "content"),
    [
        ({"XLSX_MAX_RATIO": 200}, _bomb(8 * 1024 * 1024)),  # packed over 1000 to 1
        (
            {"XLSX_MAX_UNPACKED_BYTES": 4 * 1024 * 1024, "XLSX_MAX_RATIO": 10**9},
            _bomb(5 * 1024 * 1024),
        ),
    ],
    ids=["packed too tight", "unpacks past the limit"],
)
def test_a_zip_bomb_is_refused(
    world: World, settings: Any, limits: dict[str, int], content: bytes
) -> None:
    for name, value in limits.items():
        setattr(settings, name, value)
    response = _post(world, "edu_migrant.xlsx", content)
    assert response.status_code == 400
    assert "疑似压缩炸弹" in response.content.decode()
    assert not FeedImport.objects.exists()
    assert _store_files(settings) == []


def test_a_package_with_too_many_members_is_refused(world: World, settings: Any) -> None:
    settings.XLSX_MAX_MEMBERS = 50
    extra = [(f"xl/media/image{n}.png", b"x") for n in range(60)]
    response = _post(world, "edu_migrant.xlsx", _with_workbook(*extra))
    assert response.status_code == 400
    assert "压缩包内文件过多" in response.content.decode()
    assert _store_files(settings) == []


def test_an_oversized_upload_is_refused_before_it_is_read(world: World, settings: Any) -> None:
    settings.UPLOAD_MAX_BYTES = 4096
    big = EDU_CSV + "".join(f"G{n},学生{n},2015-03-02,在读\n" for n in range(100, 400))
    response = _post(world, "edu_migrant.csv", big.encode())
    assert response.status_code == 400
    assert "文件超过" in response.content.decode()
    assert not FeedImport.objects.exists()
    assert _store_files(settings) == []


def test_a_real_workbook_and_a_long_chinese_file_name_still_import(
    world: World, settings: Any
) -> None:
    """The checks let real files through: a workbook, and a CSV whose name is longer than
    the 255 bytes a file system takes (it was written under its full name and failed)."""
    assert _post(world, "edu_migrant.xlsx", _workbook()).status_code == 200
    name = "edu_migrant_" + "平顶山市新华区教育局随迁子女在读名单" * 5 + ".csv"
    assert len(name.encode()) > 255
    content = "学籍号,姓名,出生日期,学籍状态\nG9,另一个学生,2015-03-02,在读\n"
    response = _post(world, name, content.encode())
    assert response.status_code == 200
    stored = FeedImport.objects.get(file_name__startswith="edu_migrant_平顶山")
    assert len(stored.file_name.encode()) <= 255
    assert stored.file_name.endswith(".csv")
    assert stored.rows_accepted == 1


def test_cells_the_database_and_the_report_cannot_hold_import_and_report(
    world: World,
) -> None:
    """NUL and control characters in cells: imported (NUL dropped), and the rejects report
    (an XLSX) still downloads, with formula-looking cells defused."""
    content = (
        "学籍号,姓名,出生日期,学籍状态\n"
        "G1,张\x00三\x01,2015-03-02,在读\n"
        "=cmd|' /C calc'!A0,,2015-03-02,在\x1b读\n"
    )
    response = _post(world, "edu_migrant.csv", content.encode())
    assert response.status_code == 200
    imported = FeedImport.objects.get()
    assert (imported.rows_accepted, imported.rows_rejected) == (1, 1)
    client = Client()
    client.force_login(world.users[Role.COUNTY_STAFF])
    report = client.get(reverse("feeds:report", args=[imported.pk]))
    assert report.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(report.content))
    rejected = list(book["拒收的行"].values)[1]
    assert rejected[4] == "'=cmd|' /C calc'!A0"
    content_cell = str(rejected[6])
    assert "\x1b" not in content_cell
    assert "\ufffd" in content_cell
