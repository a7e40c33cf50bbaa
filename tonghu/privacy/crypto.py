"""Field encryption at rest and the blind index, with keys kept outside the database.

Values are sealed with Fernet (the ``cryptography`` package: AES-128-CBC + HMAC-SHA256) under
a list of keys, the first of which seals and all of which open (``MultiFernet``), so a key
can be rotated while the app runs: ``tonghu keys rotate`` puts a new key first, re-seals every
value, then drops the old keys. Sealed text carries a prefix so that a value written before
encryption was switched on is still read (and sealed on its next save or by the rotation).

The blind index is an HMAC-SHA256 of the normalised value under its own key: equal ID numbers
give equal digests, so a search by ID number is an indexed equality, yet the digest tells
nothing without the key.

Keys come from TONGHU_FIELD_KEYS (comma-separated, newest first) and TONGHU_INDEX_KEY, or else
from files in settings.KEY_DIR (created on first use with mode 0600). The key file is read
again when it changes, so every process follows a rotation within ``RELOAD_SECONDS``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "enc1:"
FIELD_KEYS_FILE = "field_keys"
INDEX_KEY_FILE = "index_key"
RELOAD_SECONDS = 1.0


class SealError(ValueError):
    """A sealed value that none of the keys opens (wrong or missing key)."""


@dataclass(frozen=True)
class KeyRing:
    keys: tuple[bytes, ...]  # newest first
    fernet: MultiFernet

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Short fingerprints of the keys (never the keys), for status and backups."""
        return tuple(hashlib.sha256(key).hexdigest()[:12] for key in self.keys)


_lock = threading.Lock()
_cache: dict[str, tuple[float, float, KeyRing]] = {}  # folder -> (checked, mtime, ring)


def key_dir() -> Path:
    return Path(settings.KEY_DIR)


def key_ring() -> KeyRing:
    """The current keys, re-read at most once a second when the key file changes.

    Called once per value sealed (a round's load seals a million): the cached ring is
    returned without building a path or taking the lock."""
    from_env = os.environ.get("TONGHU_FIELD_KEYS", "").strip()
    if from_env:
        return _env_ring(from_env)
    path = _key_file(str(settings.KEY_DIR), FIELD_KEYS_FILE)
    cache_key = str(path)  # pathlib keeps a path's text once made
    now = time.monotonic()
    cached = _cache.get(cache_key)
    if cached and now - cached[0] < RELOAD_SECONDS:
        return cached[2]
    with _lock:
        cached = _cache.get(cache_key)
        if cached and now - cached[0] < RELOAD_SECONDS:
            return cached[2]
        if not path.exists():
            _write_key_file(path, [Fernet.generate_key()])
        mtime = path.stat().st_mtime
        if cached and cached[1] == mtime:
            _cache[cache_key] = (now, mtime, cached[2])
            return cached[2]
        ring = _ring(_read_keys(path))
        _cache[cache_key] = (now, mtime, ring)
        return ring


@lru_cache(maxsize=16)
def _key_file(folder: str, name: str) -> Path:
    return Path(folder) / name


@lru_cache(maxsize=4)
def _env_ring(text: str) -> KeyRing:
    return _ring(tuple(part.strip().encode() for part in text.split(",") if part.strip()))


def _ring(keys: tuple[bytes, ...]) -> KeyRing:
    if not keys:
        raise ImproperlyConfigured("字段加密密钥为空：请检查 TONGHU_FIELD_KEYS 或密钥文件。")
    try:
        return KeyRing(keys, MultiFernet([Fernet(key) for key in keys]))
    except ValueError:
        raise ImproperlyConfigured(
            "字段加密密钥格式错误（应为 Fernet 密钥：32 字节的 URL 安全 Base64）。"
        ) from None


def _read_keys(path: Path) -> tuple[bytes, ...]:
    lines = path.read_text(encoding="ascii").splitlines()
    return tuple(line.strip().encode() for line in lines if line.strip())


def _write_key_file(path: Path, keys: list[bytes]) -> None:
    """Write the key list atomically with mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as out:
        out.write("\n".join(key.decode() for key in keys) + "\n")
    temporary.replace(path)


def keys_add_new() -> KeyRing:
    """Put a new key first in the key file (it seals from now on; the old ones still open)."""
    path = key_dir() / FIELD_KEYS_FILE
    keys = [Fernet.generate_key(), *key_ring().keys]
    _write_key_file(path, keys)
    _cache.pop(str(path), None)
    return key_ring()


def keys_keep_newest() -> KeyRing:
    """Drop every key but the newest (after every value has been re-sealed with it)."""
    path = key_dir() / FIELD_KEYS_FILE
    _write_key_file(path, [key_ring().keys[0]])
    _cache.pop(str(path), None)
    return key_ring()


def uses_key_file() -> bool:
    return not os.environ.get("TONGHU_FIELD_KEYS", "").strip()


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)


def seal(value: str) -> str:
    """The value sealed with the newest key ('' stays '': an empty field tells nothing)."""
    if value == "" or is_sealed(value):
        return value
    return PREFIX + key_ring().fernet.encrypt(value.encode()).decode("ascii")


def unseal(value: str) -> str:
    """The plain value of a sealed one; a value written before sealing comes back as is."""
    if not is_sealed(value):
        return value
    try:
        return key_ring().fernet.decrypt(value[len(PREFIX) :].encode("ascii")).decode()
    except InvalidToken:
        raise SealError("无法解密：字段加密密钥不匹配或缺失（请核对 TONGHU_KEY_DIR）。") from None


def reseal(value: str) -> str:
    """The value sealed again with the newest key (what a rotation writes)."""
    if not is_sealed(value):
        return seal(value)
    token = key_ring().fernet.rotate(value[len(PREFIX) :].encode("ascii"))
    return PREFIX + token.decode("ascii")


def seal_bytes(data: bytes) -> bytes:
    """File contents sealed (case files and scans at rest)."""
    return key_ring().fernet.encrypt(data)


def unseal_bytes(data: bytes) -> bytes:
    try:
        return key_ring().fernet.decrypt(data)
    except InvalidToken:
        raise SealError("无法解密文件：字段加密密钥不匹配或缺失。") from None


_index_cache: dict[str, tuple[int, bytes]] = {}  # key file -> (its mtime in ns, the key)


def index_key() -> bytes:
    """The blind index's key; the key file is read again only when it changes (a round's
    load computes a hundred thousand digests)."""
    from_env = os.environ.get("TONGHU_INDEX_KEY", "").strip()
    if from_env:
        return from_env.encode()
    path = _key_file(str(settings.KEY_DIR), INDEX_KEY_FILE)
    with _lock:
        try:
            changed = path.stat().st_mtime_ns
        except FileNotFoundError:
            _write_key_file(path, [base64.urlsafe_b64encode(secrets.token_bytes(32))])
            changed = path.stat().st_mtime_ns
        cached = _index_cache.get(str(path))
        if cached is not None and cached[0] == changed:
            return cached[1]
        key = _read_keys(path)[0]
        _index_cache[str(path)] = (changed, key)
        return key


def blind_index(value: str) -> str:
    """The keyed digest an ID number is searched by ('' for no value). Normalised first:
    spaces dropped, the check letter upper-cased, full-width digits made ASCII."""
    normal = value.strip().replace(" ", "").upper().translate(_FULL_WIDTH)
    if not normal:
        return ""
    return hmac.digest(index_key(), normal.encode(), "sha256").hex()[:32]


_FULL_WIDTH = str.maketrans("０１２３４５６７８９Ｘ", "0123456789X")
