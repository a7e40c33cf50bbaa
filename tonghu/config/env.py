"""Strict readers for the environment: a bad value stops start-up with a clear message.

Settings never call ``os.environ`` directly; they go through these functions so that a
typo such as ``TONGHU_DEBUG=ture`` is refused instead of silently meaning "off".
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})
_SUPPORTED_ENGINES = frozenset(
    {"django.db.backends.sqlite3", "django.db.backends.postgresql"},
)


def _refuse(name: str, value: str, expected: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"环境变量 {name} 的值 {value!r} 无效：应为{expected}。")


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, *, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise _refuse(name, raw, "1/0、true/false、yes/no 或 on/off")


def env_int(name: str, *, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise _refuse(name, raw, "整数") from None
    if value < minimum:
        raise _refuse(name, raw, f"不小于 {minimum} 的整数")
    return value


def env_list(name: str, *, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    items = [item.strip() for item in raw.split(",")]
    if not all(items):
        raise _refuse(name, raw, "以逗号分隔且不含空项的列表")
    return items


def env_path(name: str, *, default: Path) -> Path:
    raw = os.environ.get(name)
    if raw is None:
        return default
    if not raw.strip():
        raise _refuse(name, raw, "非空路径")
    return Path(raw).expanduser().resolve()


def database_from_env(*, sqlite_path: Path) -> dict[str, Any]:
    """``DATABASE_URL`` selects PostgreSQL; without it the embedded SQLite file is used."""
    raw = os.environ.get("DATABASE_URL")
    if raw is None or not raw.strip():
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(sqlite_path),
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    try:
        config: dict[str, Any] = dict(dj_database_url.parse(raw, conn_max_age=60))
    except ValueError as exc:
        raise _refuse("DATABASE_URL", "<已隐藏>", f"数据库连接串（{exc}）") from None
    if config.get("ENGINE") not in _SUPPORTED_ENGINES:
        raise _refuse("DATABASE_URL", "<已隐藏>", "postgres:// 或 sqlite:// 开头的连接串")
    return config


def secret_key_from_env(*, key_file: Path) -> str:
    """Read the secret key, or create one beside the embedded database on first start."""
    raw = os.environ.get("TONGHU_SECRET_KEY")
    if raw is not None:
        if len(raw) < 32:
            raise _refuse("TONGHU_SECRET_KEY", "<已隐藏>", "至少 32 个字符的随机串")
        return raw
    if key_file.exists():
        return key_file.read_text(encoding="ascii").strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key, encoding="ascii")
    key_file.chmod(0o600)
    return key
