"""Key rotation without downtime: a new key is put first (every process re-reads the key
file within a second and seals with it), every sealed value and file is re-sealed with it,
and only then are the old keys dropped."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import models

from tonghu.privacy import crypto
from tonghu.privacy.fields import SealedJSONField, SealedTextField
from tonghu.privacy.migration_ops import resave_sealed
from tonghu.web.attachments import SEALED_FILE_START, files_dir

# The folders of files sealed at rest (case files, care-agreement scans).
SEALED_FOLDERS = ("case_files", "care_files")


@dataclass
class RotationCounts:
    rows: dict[str, int]
    files: int
    key_id: str


def sealed_fields() -> list[tuple[type[models.Model], list[str]]]:
    """Each model with sealed fields, and those fields."""
    found = []
    for model in apps.get_models():
        names = [
            field.name
            for field in model._meta.concrete_fields
            if isinstance(field, SealedTextField | SealedJSONField)
        ]
        if names:
            found.append((model, names))
    return found


def keys_rotate(*, tell: Callable[[str], None] = lambda _: None) -> RotationCounts:
    if not crypto.uses_key_file():
        raise ImproperlyConfigured(
            "密钥由环境变量 TONGHU_FIELD_KEYS 提供：请在变量中把新密钥放在最前，"
            "运行 tonghu keys reseal，再去掉旧密钥。"
        )
    ring = crypto.keys_add_new()
    tell(f"已生成新密钥 {ring.key_ids[0]}，等待各进程载入")
    time.sleep(crypto.RELOAD_SECONDS * 2)  # every process now seals with the new key
    counts = keys_reseal(tell=tell)
    crypto.keys_keep_newest()
    tell("已删除旧密钥")
    return counts


def keys_reseal(*, tell: Callable[[str], None] = lambda _: None) -> RotationCounts:
    """Re-seal every sealed value and file with the newest key."""
    rows = {}
    for model, names in sealed_fields():
        label = model._meta.label
        rows[label] = resave_sealed(model, names)
        tell(f"{model._meta.verbose_name}：{rows[label]} 行")
    files = sum(_reseal_folder(folder) for folder in SEALED_FOLDERS)
    tell(f"附件：{files} 个")
    return RotationCounts(rows=rows, files=files, key_id=crypto.key_ring().key_ids[0])


def _reseal_folder(folder: str) -> int:
    root = files_dir(folder)
    count = 0
    for path in sorted(root.rglob("*")) if root.is_dir() else []:
        if not path.is_file() or path.suffix == ".tmp":
            continue
        stored = path.read_bytes()
        plain = crypto.unseal_bytes(stored) if stored.startswith(SEALED_FILE_START) else stored
        temporary = path.with_name(path.name + ".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(crypto.seal_bytes(plain))
        temporary.replace(path)
        count += 1
    return count
