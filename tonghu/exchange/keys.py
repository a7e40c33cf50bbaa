"""Where a county's exchange keys and the registry of public keys live (outside the database).

Private keys: ``settings.KEY_DIR / "exchange" / "<county>.key"`` (JSON, mode 0600, folder 0700).
Registry: ``settings.EXCHANGE_REGISTRY`` (``TONGHU_EXCHANGE_REGISTRY``, by default
``KEY_DIR/exchange/registry.json``), the public keys of every county this one exchanges with.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from django.conf import settings

from tonghu.exchange.packages import (
    CountyKeys,
    PackageError,
    PublicEntry,
    registry_parse,
    registry_text,
)


class KeyFileError(PackageError):
    """A missing or unusable key file or registry."""


def exchange_key_dir() -> Path:
    return Path(settings.KEY_DIR) / "exchange"


def registry_path() -> Path:
    configured = getattr(settings, "EXCHANGE_REGISTRY", None)
    return Path(configured) if configured else exchange_key_dir() / "registry.json"


def key_path(county: str) -> Path:
    return exchange_key_dir() / f"{county}.key"


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` atomically with mode 0600 in a folder of mode 0700."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(text)
    temporary.replace(path)


def keys_create(county: str) -> CountyKeys:
    """A new key pair for ``county``, written to its key file (refused if one exists)."""
    path = key_path(county)
    if path.exists():
        raise KeyFileError(
            f"本县（{county}）的交换密钥已存在：{path}。更换密钥须先把旧密钥文件移走，"
            "并把新的公钥重新发给各交换县登记。"
        )
    keys = CountyKeys.generate(county)
    _write_private(path, json.dumps(keys.to_json()) + "\n")
    return keys


def keys_load(county: str) -> CountyKeys:
    path = key_path(county)
    if not path.is_file():
        raise KeyFileError(
            f"本县（{county}）尚未生成交换密钥：请先运行 tonghu exchange keygen --county {county}"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise KeyFileError(f"无法读取交换密钥文件 {path}") from None
    keys = CountyKeys.from_json(data)
    if keys.county != county:
        raise KeyFileError(f"交换密钥文件 {path} 属于 {keys.county}，不是 {county}")
    return keys


def registry_load() -> dict[str, PublicEntry]:
    """The registry (empty when there is no registry file yet)."""
    path = registry_path()
    if not path.exists():
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise KeyFileError(f"无法读取公钥登记表 {path}") from None
    return registry_parse(text)


def registry_save(entries: dict[str, PublicEntry]) -> Path:
    path = registry_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(registry_text(entries.values()), encoding="utf-8")
    temporary.replace(path)
    return path
