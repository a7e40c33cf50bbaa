"""The keys a backup needs but never holds: the field-encryption keys, the blind-index key and
the secret key.

A backup records only their ids (the first 12 hex digits of a SHA-256, the same ids
``tonghu.privacy.crypto.KeyRing.key_ids`` shows), so that a restore can tell whether the keys
of the installation it lands in are the ones the data was sealed with. The keys are read the
way ``tonghu.privacy.crypto`` reads them (environment first, then the files under KEY_DIR),
but never created here: a backup or a restore must not make up keys.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from tonghu.privacy.crypto import FIELD_KEYS_FILE, INDEX_KEY_FILE


def key_id(key: bytes) -> str:
    """A short, one-way name for one key."""
    return hashlib.sha256(key).hexdigest()[:12]


def _lines(path: Path) -> list[bytes]:
    if not path.is_file():
        return []
    text = path.read_text(encoding="ascii", errors="replace")
    return [line.strip().encode() for line in text.splitlines() if line.strip()]


def _field_keys() -> list[bytes]:
    from_env = os.environ.get("TONGHU_FIELD_KEYS", "").strip()
    if from_env:
        return [part.strip().encode() for part in from_env.split(",") if part.strip()]
    return _lines(Path(settings.KEY_DIR) / FIELD_KEYS_FILE)


def _index_key() -> bytes | None:
    from_env = os.environ.get("TONGHU_INDEX_KEY", "").strip()
    if from_env:
        return from_env.encode()
    found = _lines(Path(settings.KEY_DIR) / INDEX_KEY_FILE)
    return found[0] if found else None


@dataclass(frozen=True)
class KeyIds:
    field_keys: tuple[str, ...]  # newest first
    index_key: str  # "" when there is none
    secret_key: str

    def as_json(self) -> dict[str, object]:
        return {
            "field_keys": list(self.field_keys),
            "index_key": self.index_key,
            "secret_key": self.secret_key,
        }


def installed_keys() -> KeyIds:
    """The ids of the keys this installation has now."""
    index = _index_key()
    return KeyIds(
        field_keys=tuple(key_id(key) for key in _field_keys()),
        index_key=key_id(index) if index else "",
        secret_key=key_id(str(settings.SECRET_KEY).encode()),
    )


def key_warnings(recorded: KeyIds, present: KeyIds) -> list[str]:
    """Chinese warnings when the keys here are not the ones the backup was made with."""
    warnings: list[str] = []
    place = f"{settings.KEY_DIR} 或环境变量 TONGHU_FIELD_KEYS、TONGHU_INDEX_KEY"
    missing = [key for key in recorded.field_keys if key not in present.field_keys]
    if missing:
        warnings.append(
            f"警告：备份时的 {len(missing)} 个字段加密密钥（编号 {'、'.join(missing)}）"
            f"在本机没有找到（{place}）。密钥不随备份保存：请把备份时的密钥放回原处，"
            "否则加密的字段和文件无法读取。"
        )
    if recorded.index_key and recorded.index_key != present.index_key:
        warnings.append(
            f"警告：本机的检索密钥（index_key）与备份时（编号 {recorded.index_key}）不同"
            f"（{place}）：按身份证号查找将找不到人。请把备份时的密钥放回原处。"
        )
    if recorded.secret_key != present.secret_key:
        warnings.append(
            "提示：本机的 SECRET_KEY 与备份时不同（密钥不随备份保存）："
            "恢复后所有用户需要重新登录，已发出的密码重置链接失效。"
        )
    return warnings


def is_key_file(path: Path) -> bool:
    """True for the secret key file and anything under KEY_DIR: never put into an archive."""
    resolved = path.resolve()
    secret_file = (Path(settings.VAR_DIR) / "secret_key").resolve()
    return resolved == secret_file or resolved.is_relative_to(Path(settings.KEY_DIR).resolve())
