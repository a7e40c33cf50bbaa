from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from tonghu.config.env import (
    database_from_env,
    env_bool,
    env_int,
    env_list,
    secret_key_from_env,
)


@pytest.mark.parametrize(
    ("raw", "value"), [("1", True), ("TRUE", True), ("off", False), ("", False)]
)
def test_env_bool_reads_the_usual_spellings(
    monkeypatch: pytest.MonkeyPatch, raw: str, value: bool
) -> None:
    monkeypatch.setenv("X_FLAG", raw)
    assert env_bool("X_FLAG", default=not value) is value


def test_env_bool_refuses_a_typo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_FLAG", "ture")
    with pytest.raises(ImproperlyConfigured, match="环境变量 X_FLAG 的值 'ture' 无效"):
        env_bool("X_FLAG", default=False)


def test_env_int_refuses_text_and_values_below_the_minimum(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_N", "五")
    with pytest.raises(ImproperlyConfigured, match="整数"):
        env_int("X_N", default=1)
    monkeypatch.setenv("X_N", "0")
    with pytest.raises(ImproperlyConfigured, match="不小于 1"):
        env_int("X_N", default=1, minimum=1)
    monkeypatch.delenv("X_N")
    assert env_int("X_N", default=7) == 7


def test_env_list_refuses_empty_items(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_HOSTS", "a.example,,b.example")
    with pytest.raises(ImproperlyConfigured, match="不含空项"):
        env_list("X_HOSTS", default=[])
    monkeypatch.setenv("X_HOSTS", "a.example, b.example")
    assert env_list("X_HOSTS", default=[]) == ["a.example", "b.example"]


def test_database_defaults_to_the_embedded_sqlite(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    config = database_from_env(sqlite_path=tmp_path / "t.sqlite3")
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == str(tmp_path / "t.sqlite3")


def test_database_url_selects_postgresql(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://u:secret@db.internal:5433/tonghu")
    config = database_from_env(sqlite_path=tmp_path / "t.sqlite3")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("db.internal", 5433, "tonghu")


@pytest.mark.parametrize("url", ["mysql://u@h/db", "redis://localhost:6379/0", "not a url"])
def test_database_url_refuses_what_tonghu_does_not_support_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL") as refused:
        database_from_env(sqlite_path=tmp_path / "t.sqlite3")
    assert url not in str(refused.value), "a connection string may hold a password"


def test_secret_key_is_created_once_and_kept(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("TONGHU_SECRET_KEY", raising=False)
    key_file = tmp_path / "var" / "secret_key"
    first = secret_key_from_env(key_file=key_file)
    assert len(first) >= 50
    assert secret_key_from_env(key_file=key_file) == first
    assert key_file.stat().st_mode & 0o077 == 0


def test_a_short_secret_key_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TONGHU_SECRET_KEY", "short")
    with pytest.raises(ImproperlyConfigured, match="至少 32 个字符"):
        secret_key_from_env(key_file=tmp_path / "k")
