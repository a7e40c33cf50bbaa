"""The database half of a backup, per engine: a consistent copy with its counts and migration
state taken from the same snapshot, the emptiness test, and the restore.

SQLite is copied through the sqlite3 backup API (never a file copy); PostgreSQL through
``pg_dump -Fc`` inside a repeatable-read snapshot that the counts are read from too, and
restored by ``pg_restore`` in a single transaction. Both run with the connection settings
Django uses (from DATABASE_URL), the password passed in the environment, never on the
command line.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections import defaultdict
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import connection, transaction

from tonghu.audit.models import AuditEntry
from tonghu.cases.models import Case
from tonghu.children.models import Child

ENGINE_LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
DATABASE_MEMBERS = {"sqlite": "database/tonghu.sqlite3", "postgresql": "database/tonghu.pgdump"}
MIGRATIONS_TABLE = "django_migrations"
# What the manifest counts and a restore checks: name -> table.
COUNTED = {
    "children": Child._meta.db_table,
    "cases": Case._meta.db_table,
    "audit_entries": AuditEntry._meta.db_table,
}
# libpq environment variables for the psycopg OPTIONS a DATABASE_URL may carry.
_PG_OPTIONS = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslpassword": "PGSSLPASSWORD",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "options": "PGOPTIONS",
    "service": "PGSERVICE",
    "passfile": "PGPASSFILE",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
    "application_name": "PGAPPNAME",
}


class DatabaseError(Exception):
    """A database step failed; the message is Chinese and holds no personal data."""


@dataclass(frozen=True)
class DatabaseCopy:
    path: Path
    counts: dict[str, int]
    migrations: dict[str, list[str]]


def engine() -> str:
    """``sqlite`` or ``postgresql``: the engine of the configured database."""
    vendor = connection.vendor
    if vendor not in ENGINE_LABELS:
        raise DatabaseError(f"不支持的数据库类型：{vendor}")
    return vendor


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _counts(execute: Callable[[str], Any], tables: set[str]) -> dict[str, int]:
    return {
        key: int(execute(f"SELECT COUNT(*) FROM {_quote(table)}")[0][0]) if table in tables else 0  # noqa: S608 - table names from the models
        for key, table in COUNTED.items()
    }


def _migrations(execute: Callable[[str], Any], tables: set[str]) -> dict[str, list[str]]:
    applied: defaultdict[str, list[str]] = defaultdict(list)
    if MIGRATIONS_TABLE in tables:
        for app, name in execute(f"SELECT app, name FROM {MIGRATIONS_TABLE} ORDER BY app, name"):  # noqa: S608 - fixed name
            applied[app].append(name)
    return dict(applied)


# --- copy ---------------------------------------------------------------------------


def database_copy(target: Path) -> DatabaseCopy:
    """Write a consistent copy of the configured database to ``target``."""
    if connection.in_atomic_block:
        raise DatabaseError("备份不能在未提交的事务中进行。")
    if engine() == "sqlite":
        return _sqlite_copy(target)
    return _pg_copy(target)


def _sqlite_copy(target: Path) -> DatabaseCopy:
    connection.ensure_connection()
    source: sqlite3.Connection = connection.connection
    with closing(sqlite3.connect(target)) as copy:
        source.backup(copy)  # one step: a snapshot of a single moment
        cursor = copy.cursor()

        def execute(sql: str) -> list[Any]:
            return cursor.execute(sql).fetchall()

        tables = {row[0] for row in execute("SELECT name FROM sqlite_master WHERE type='table'")}
        counts, migrations = _counts(execute, tables), _migrations(execute, tables)
    return DatabaseCopy(path=target, counts=counts, migrations=migrations)


def _pg_copy(target: Path) -> DatabaseCopy:
    pg_dump = _tool("pg_dump")
    with transaction.atomic(), connection.cursor() as cursor:
        # The counts, the migration state and pg_dump all read this one snapshot.
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = str(cursor.fetchone()[0])

        def execute(sql: str) -> list[Any]:
            cursor.execute(sql)
            return list(cursor.fetchall())

        tables = set(connection.introspection.table_names(cursor))
        counts, migrations = _counts(execute, tables), _migrations(execute, tables)
        _run(
            [pg_dump, "--format=custom", "--no-password", f"--snapshot={snapshot}",
             f"--file={target}"],
            tool="pg_dump",
        )  # fmt: skip
    return DatabaseCopy(path=target, counts=counts, migrations=migrations)


# --- the target -----------------------------------------------------------------------


def sqlite_file() -> Path | None:
    """The SQLite database file, or None for an in-memory database."""
    name = str(connection.settings_dict["NAME"])
    if name.startswith("file:") or name == ":memory:":
        return None
    return Path(name)


def database_is_empty() -> bool:
    """No tables at all, or only an empty migrations table. Never creates a SQLite file."""
    if engine() == "sqlite":
        path = sqlite_file()
        if path is not None and (not path.exists() or path.stat().st_size == 0):
            return True
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor, include_views=True))
        if tables - {MIGRATIONS_TABLE}:
            return False
        if tables:
            cursor.execute(f"SELECT COUNT(*) FROM {MIGRATIONS_TABLE}")  # noqa: S608 - fixed name
            return int(cursor.fetchone()[0]) == 0
    return True


def database_counts() -> dict[str, int]:
    """The counted tables of the configured database, read afresh."""
    connection.close()
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))

        def execute(sql: str) -> list[Any]:
            cursor.execute(sql)
            return list(cursor.fetchall())

        return _counts(execute, tables)


# --- restore --------------------------------------------------------------------------


def database_restore(source: Path) -> None:
    """Replace the configured database's content with the copy at ``source``."""
    if engine() == "sqlite":
        _sqlite_restore(source)
    else:
        _pg_restore(source)
    connection.close()


def _sqlite_restore(source: Path) -> None:
    connection.close()
    path = sqlite_file()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    connection.ensure_connection()
    with closing(sqlite3.connect(source)) as copy:
        check = copy.execute("PRAGMA quick_check").fetchone()
        if check is None or check[0] != "ok":
            raise DatabaseError("备份中的 SQLite 数据库未通过完整性检查，未作任何改动。")
        copy.backup(connection.connection)  # the whole target is replaced page by page


def _pg_restore(source: Path) -> None:
    pg_restore = _tool("pg_restore")
    connection.close()  # hold no locks while the tables are dropped and loaded
    name = str(connection.settings_dict["NAME"])
    _run(
        [pg_restore, "--no-owner", "--no-privileges", "--clean", "--if-exists",
         "--single-transaction", "--exit-on-error", "--no-password", f"--dbname={name}",
         str(source)],
        tool="pg_restore",
    )  # fmt: skip


# --- PostgreSQL client tools -----------------------------------------------------------


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise DatabaseError(
            f"未找到 {name}：请安装 PostgreSQL 客户端（版本不低于数据库服务器），"
            "例如 apt-get install postgresql-client。"
        )
    return found


def pg_environment() -> dict[str, str]:
    """The environment that points libpq at Django's database with Django's credentials."""
    settings_dict = connection.settings_dict
    env = dict(os.environ)
    for key, variable in (
        ("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"), ("NAME", "PGDATABASE"),
    ):  # fmt: skip
        value = settings_dict.get(key)
        if value:
            env[variable] = str(value)
    for option, variable in _PG_OPTIONS.items():
        value = (settings_dict.get("OPTIONS") or {}).get(option)
        if value not in (None, ""):
            env[variable] = str(value)
    return env


def _run(command: list[str], *, tool: str) -> None:
    finished = subprocess.run(  # noqa: S603 - a PostgreSQL client with fixed arguments
        command, env=pg_environment(), capture_output=True, text=True, check=False
    )
    if finished.returncode != 0:
        raise DatabaseError(
            f"{tool} 失败（退出码 {finished.returncode}）：{_errors(finished.stderr)}"
        )


def _errors(stderr: str) -> str:
    """The tool's error lines only: DETAIL, CONTEXT and LINE lines may quote row values."""
    lines = [line.strip() for line in stderr.splitlines() if "error:" in line]
    return "；".join(lines[:3])[:500] or "无错误信息"
