"""Scans and evidence files kept outside the web root: checked by their first bytes, sealed
with the field keys (see tonghu.privacy.crypto), stored under
VAR_DIR/<folder>/<county>/<uuid>.<type> with mode 0600, and opened only by a path the caller
got through its own scope gate."""

from __future__ import annotations

import io
import os
import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404

from tonghu.privacy.crypto import seal_bytes, unseal_bytes

# Fernet tokens start with version byte 0x80, base64-encoded: files written before sealing
# (a PDF, JPG or PNG signature) are read as they are.
SEALED_FILE_START = b"gAAAAA"

MAX_FILE_BYTES = 10 * 1024 * 1024  # 10 MB
# Magic bytes of the accepted types: scans and photos only, never anything executable.
FILE_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "pdf"),
    (b"\xff\xd8\xff", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
)
CONTENT_TYPES = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png"}
FILE_TYPE_CHOICES = [("pdf", "PDF"), ("jpg", "JPG"), ("png", "PNG")]


def files_dir(folder: str) -> Path:
    """Where one kind of file is kept; outside STATIC_ROOT and never served directly."""
    return Path(settings.VAR_DIR) / folder


def attachment_check(upload: UploadedFile[bytes], *, what: str, field: str = "file") -> str:
    """The file's type by its first bytes (PDF, JPG or PNG), refusing empty and over 10 MB."""
    size = upload.size or 0
    if size == 0:
        raise ValidationError({field: "上传的文件是空的，请重新选择。"})
    if size > MAX_FILE_BYTES:
        megabytes = size / 1024 / 1024
        raise ValidationError({field: f"文件过大（{megabytes:.1f} MB），{what}不能超过 10 MB。"})
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    for signature, file_type in FILE_SIGNATURES:
        if head.startswith(signature):
            return file_type
    raise ValidationError({field: f"只能上传 PDF、JPG 或 PNG 格式的{what}。"})


def attachment_store(
    *, folder: str, county_code: str, upload: UploadedFile[bytes], file_type: str
) -> str:
    """Write the upload and return its path relative to ``files_dir(folder)``."""
    relative = f"{county_code}/{uuid.uuid4().hex}.{file_type}"
    target = files_dir(folder) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    content = b"".join(upload.chunks())  # at most MAX_FILE_BYTES (attachment_check)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(seal_bytes(content))
    return relative


def attachment_path(*, folder: str, relative: str) -> Path:
    """The stored file, refusing any path that leaves its folder (404 like a missing one)."""
    root = files_dir(folder).resolve()
    path = (root / relative).resolve()
    if not relative or not path.is_relative_to(root) or not path.is_file():
        raise Http404("未找到该文件。")
    return path


def attachment_open(path: Path) -> io.BytesIO:
    """The stored file's original bytes (unsealed), for a download response."""
    stored = path.read_bytes()
    if stored.startswith(SEALED_FILE_START):
        stored = unseal_bytes(stored)
    return io.BytesIO(stored)
