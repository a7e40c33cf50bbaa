"""Checks on an uploaded feed file before any of it is read (type, size, zip bombs).

A file is judged by its content, not only by its name: a ``.xlsx`` must be a ZIP package
that unpacks to a workbook of sane size, and a ``.csv`` must be text.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from tonghu.pipeline.read import FEED_SUFFIXES

XLSX_MEMBERS = ("[Content_Types].xml", "xl/workbook.xml")
XLSX_MAX_MEMBERS = 2_000  # a workbook with many sheets and pictures holds a few hundred
NAME_MAX_BYTES = 255  # the longest file name most file systems take
_HEAD = 8 * 1024
_CHUNK = 1 << 20
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ZIP = b"PK\x03\x04"
# What a file that is not what its name says usually is (by its first bytes).
_SIGNATURES = (
    (b"%PDF-", "PDF 文档"),
    (b"\x7fELF", "可执行程序"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "旧版 Excel（.xls）或设有密码的工作簿"),
    (_ZIP, "ZIP 压缩包（XLSX 工作簿也是 ZIP 压缩包）"),
    (b"\x89PNG", "PNG 图片"),
    (b"\xff\xd8\xff", "JPG 图片"),
    (b"GIF8", "GIF 图片"),
    (b"Rar!", "RAR 压缩包"),
    (b"7z\xbc\xaf\x27\x1c", "7z 压缩包"),
    (b"\x1f\x8b", "GZIP 压缩包"),
)
_HTML = re.compile(rb"^(\xef\xbb\xbf)?\s*<(!doctype\s+html|html|head|body|\?xml)", re.IGNORECASE)
_UTF16 = (b"\xff\xfe", b"\xfe\xff")
# Bytes no text file holds (tab, line ends, form feed, escape and Ctrl-Z aside).
_BINARY = bytes([*range(0x09), *range(0x0E, 0x1A), *range(0x1C, 0x20), 0x7F])


class UploadError(Exception):
    """An upload refused as a whole, with a Chinese message for the person who sent it."""


@dataclass(frozen=True)
class SavedUpload:
    path: Path
    sha256: str
    size: int


def save_upload(upload: UploadedFile[bytes], *, folder: Path) -> SavedUpload:
    """Write the upload to ``folder`` under its own base name, hashing it on the way."""
    name = _file_name(upload.name or "")
    if Path(name).suffix.lower() not in FEED_SUFFIXES:
        raise UploadError("只能导入 CSV 或 XLSX 文件。")
    if upload.size is not None and upload.size > settings.UPLOAD_MAX_BYTES:
        raise UploadError(_too_large())
    digest = hashlib.sha256()
    size = 0
    path = folder / name
    with path.open("wb") as sink:
        for chunk in upload.chunks():
            size += len(chunk)
            if size > settings.UPLOAD_MAX_BYTES:
                raise UploadError(_too_large())
            digest.update(chunk)
            sink.write(chunk)
    if size == 0:
        raise UploadError("文件为空。")
    if path.suffix.lower() == ".xlsx":
        check_xlsx_container(path)
    else:
        check_csv_content(path)
    return SavedUpload(path=path, sha256=digest.hexdigest(), size=size)


def _file_name(name: str) -> str:
    """The upload's base name without control characters, shortened (before its suffix)
    to what a file system takes: 255 bytes, about 85 Chinese characters."""
    name = _CONTROL.sub("", Path(name.replace("\\", "/")).name).strip()
    path = Path(name)
    suffix = path.suffix if len(path.suffix.encode()) < NAME_MAX_BYTES // 2 else ""
    stem = name[: len(name) - len(suffix)] if suffix else name
    while len((stem + suffix).encode()) > NAME_MAX_BYTES:
        stem = stem[:-1]
    return stem + suffix


def _head(path: Path) -> bytes:
    with path.open("rb") as stream:
        return stream.read(_HEAD)


def _looks_like(head: bytes) -> str | None:
    """What the first bytes say the file is, if they name a known kind of file."""
    for signature, kind in _SIGNATURES:
        if head.startswith(signature):
            return kind
    return "网页（HTML/XML）" if _HTML.match(head) else None


def check_csv_content(path: Path) -> None:
    """Refuse a ``.csv`` that is not text: another kind of file, UTF-16, or binary data (more
    than a few bytes no text holds in its first 8 KB; a stray one is left to the reader)."""
    head = _head(path)
    if head.startswith(_UTF16):
        raise UploadError("文件是 UTF-16 编码，请另存为 UTF-8 或 GB18030（GBK）编码的 CSV。")
    kind = _looks_like(head)
    if kind is not None:
        raise UploadError(f"文件扩展名为 .csv，但内容是{kind}，不是 CSV 文本。")
    if len(head) - len(head.translate(None, _BINARY)) > max(8, len(head) // 100):
        raise UploadError("文件扩展名为 .csv，但内容含有二进制数据，不是 CSV 文本。")


_XLSX_COMPRESSION = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


def check_xlsx_container(path: Path) -> None:
    """Refuse what is not an XLSX package, or one that would unpack to too much.

    The sizes a ZIP declares may lie: every member is unpacked (into nothing) and its bytes
    counted, stopping as soon as the limit is passed.
    """
    head = _head(path)
    if not head.startswith(_ZIP):
        kind = _looks_like(head)
        what = f"文件扩展名为 .xlsx，但内容是{kind}" if kind else "无法作为 Excel 工作簿打开"
        raise UploadError(f"不是有效的 XLSX 文件（{what}）。")
    try:
        with zipfile.ZipFile(path) as package:
            members = package.infolist()
            _check_members(members)
            _check_unpacked(package, members)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError):
        raise UploadError("不是有效的 XLSX 文件（压缩包已损坏）。") from None


def _check_members(members: list[zipfile.ZipInfo]) -> None:
    limit = getattr(settings, "XLSX_MAX_MEMBERS", XLSX_MAX_MEMBERS)
    if len(members) > limit:
        raise UploadError(f"压缩包内文件过多（{len(members)} 个，上限 {limit} 个），已拒绝。")
    names = [member.filename for member in members]
    for name in names:
        if _unsafe_member(name):
            shown = _CONTROL.sub("?", name)[:80]
            raise UploadError(f"压缩包内含有异常路径“{shown}”，不是正常的 XLSX 工作簿，已拒绝。")
    if len(set(names)) < len(names):
        raise UploadError("压缩包内有重名文件，不是正常的 XLSX 工作簿，已拒绝。")
    if not all(required in names for required in XLSX_MEMBERS):
        raise UploadError("不是有效的 XLSX 文件（缺少工作簿内容）。")
    if any(member.flag_bits & 0x1 for member in members):
        raise UploadError("XLSX 文件设有密码，请取消密码保护后重新导出。")
    # Excel and WPS store or deflate; anything else (Deflate64, bzip2, LZMA) is refused here,
    # before zipfile or the reader would have to unpack it.
    if any(member.compress_type not in _XLSX_COMPRESSION for member in members):
        raise UploadError(
            "XLSX 文件使用了不支持的压缩方式，请用 Excel 或 WPS 打开后重新另存为 .xlsx 文件。"
        )


def _unsafe_member(name: str) -> bool:
    """A member name that would leave the folder it is unpacked into, or is not a name."""
    path = PurePosixPath(name)
    return (
        not name
        or "\\" in name
        or name.startswith("/")
        or re.match(r"^[A-Za-z]:", name) is not None
        or ".." in path.parts
        or _CONTROL.search(name) is not None
    )


def _check_unpacked(package: zipfile.ZipFile, members: list[zipfile.ZipInfo]) -> None:
    """Unpack every member into nothing, counting its bytes against the limits; a member
    whose bytes do not match its checksum ends the reading (zipfile raises BadZipFile)."""
    limit = settings.XLSX_MAX_UNPACKED_BYTES
    if sum(member.file_size for member in members) > limit:
        raise UploadError(_bomb())
    unpacked = 0
    for member in members:
        size = 0
        with package.open(member) as stream:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                unpacked += len(chunk)
                if unpacked > limit:
                    raise UploadError(_bomb())
        tight = size > settings.XLSX_MAX_RATIO * max(member.compress_size, 1)
        if tight and size > 1024 * 1024:
            raise UploadError(_bomb())


def _bomb() -> str:
    return "文件解压后体积异常（疑似压缩炸弹），已拒绝。"


def _too_large() -> str:
    return f"文件超过 {settings.UPLOAD_MAX_BYTES // (1024 * 1024)} MB 的上限。"
