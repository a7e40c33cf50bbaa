"""Checks on an uploaded feed file before any of it is read (type, size, zip bombs)."""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from tonghu.pipeline.read import FEED_SUFFIXES

XLSX_MEMBERS = ("[Content_Types].xml", "xl/workbook.xml")


class UploadError(Exception):
    """An upload refused as a whole, with a Chinese message for the person who sent it."""


@dataclass(frozen=True)
class SavedUpload:
    path: Path
    sha256: str
    size: int


def save_upload(upload: UploadedFile[bytes], *, folder: Path) -> SavedUpload:
    """Write the upload to ``folder`` under its own base name, hashing it on the way."""
    name = Path(upload.name or "").name
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
    return SavedUpload(path=path, sha256=digest.hexdigest(), size=size)


def check_xlsx_container(path: Path) -> None:
    """Refuse what is not an XLSX package, or one that would unpack to too much."""
    if not zipfile.is_zipfile(path):
        raise UploadError("不是有效的 XLSX 文件（无法作为 Excel 工作簿打开）。")
    with zipfile.ZipFile(path) as package:
        members = package.infolist()
        names = {member.filename for member in members}
        if not all(required in names for required in XLSX_MEMBERS):
            raise UploadError("不是有效的 XLSX 文件（缺少工作簿内容）。")
        unpacked = sum(member.file_size for member in members)
        packed_tight = any(
            member.file_size > settings.XLSX_MAX_RATIO * max(member.compress_size, 1)
            and member.file_size > 1024 * 1024
            for member in members
        )
    if unpacked > settings.XLSX_MAX_UNPACKED_BYTES or packed_tight:
        raise UploadError("文件解压后体积异常（疑似压缩炸弹），已拒绝。")


def _too_large() -> str:
    return f"文件超过 {settings.UPLOAD_MAX_BYTES // (1024 * 1024)} MB 的上限。"
