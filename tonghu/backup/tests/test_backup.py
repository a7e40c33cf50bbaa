"""``tonghu backup`` and ``tonghu restore``: a backup of the test database (taken in this
process, through the command) restored by the ``tonghu`` program into an empty database of
the same engine: a new SQLite file under tmp_path, or a new PostgreSQL database
``h5_restore_<random>`` (dropped afterwards) when the suite runs on PostgreSQL. The restored
installation is read back by another process, so it is compared from outside.

The data are committed (transactional tests) so that pg_dump, another session, sees them.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import os
import secrets
import subprocess
import sys
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tonghu.accounts.roles import Department, Role
from tonghu.backup.services import stores
from tonghu.backup.tests.ledger import ledger, stored_files
from tonghu.cases.intake import case_file_add
from tonghu.cases.machine import State, Step
from tonghu.cases.models import Case
from tonghu.cases.tests.factories import STEP_DATA, file_report, take
from tonghu.children.models import Child
from tonghu.conftest import edu_upload, make_tree, make_user
from tonghu.divisions.models import Division
from tonghu.feeds.services import feed_import
from tonghu.guardianship.services import agreement_record
from tonghu.privacy.crypto import index_key, key_ring
from tonghu.rounds.models import Round

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n" + secrets.token_bytes(64)
PNG = b"\x89PNG\r\n\x1a\n" + secrets.token_bytes(64)
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="PostgreSQL 备份只在 DATABASE_URL 指向 PostgreSQL 时测试",
)
on_sqlite = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite 备份只在内置数据库上测试"
)
# The environment a restored installation must not inherit from the test run.
_OWN_PLACES = ("DATABASE_URL", "TONGHU_VAR_DIR", "TONGHU_KEY_DIR", "TONGHU_FEED_DIR",
               "TONGHU_ROUND_DIR", "TONGHU_SECRET_KEY")  # fmt: skip


@pytest.fixture(autouse=True)
def _source_places(settings: Any, tmp_path: Path) -> None:
    """The source installation keeps its files, scans and keys under tmp_path/source."""
    var_dir = tmp_path / "source"
    settings.VAR_DIR = var_dir
    settings.KEY_DIR = var_dir / "keys"
    settings.FEED_STORE_DIR = var_dir / "feeds"
    settings.ROUND_STORE_DIR = var_dir / "rounds"
    var_dir.mkdir()
    (var_dir / "secret_key").write_text(settings.SECRET_KEY, encoding="ascii")


# --- the target installation ------------------------------------------------------------


@dataclass
class Target:
    """An empty installation of the test run's engine, driven by the ``tonghu`` program."""

    var_dir: Path
    database_url: str | None
    key_dir: Path

    def env(self, **extra: str) -> dict[str, str]:
        from django.conf import settings  # noqa: PLC0415

        env = {key: value for key, value in os.environ.items() if key not in _OWN_PLACES}
        env.update(TONGHU_VAR_DIR=str(self.var_dir), TONGHU_KEY_DIR=str(self.key_dir))
        env["TONGHU_SECRET_KEY"] = settings.SECRET_KEY  # put back, as the operator would
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        env.update(extra)
        return env

    def tonghu(self, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own program, fixed arguments
            [sys.executable, "-m", "tonghu", *args],
            env=self.env(**extra), capture_output=True, text=True, check=False, timeout=600,
        )  # fmt: skip

    def read(self) -> dict[str, Any]:
        done = subprocess.run(
            [sys.executable, "-m", "tonghu.backup.tests.ledger"],
            env=self.env(), capture_output=True, text=True, check=True, timeout=600,
        )  # fmt: skip
        found: dict[str, Any] = json.loads(done.stdout)
        return found

    def untouched(self) -> bool:
        """No table in the database and no file but the secret key (and for SQLite an empty
        file that merely opening the database may leave)."""
        sqlite = self.var_dir / "tonghu.sqlite3"
        left = [
            path
            for path in self.var_dir.rglob("*")
            if path.is_file()
            and path != self.var_dir / "secret_key"
            and not (path == sqlite and path.stat().st_size == 0)
        ]
        if left or self.database_url is None:
            return not left
        with psycopg.connect(self.database_url) as check:
            tables = check.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
            ).fetchone()
        return tables is not None and tables[0] == 0


def _pg_url(name: str) -> str:
    params = connection.settings_dict
    user = quote(str(params.get("USER") or ""), safe="")
    password = quote(str(params.get("PASSWORD") or ""), safe="")
    login = f"{user}:{password}@" if password else f"{user}@" if user else ""
    host = params.get("HOST") or "localhost"
    port = f":{params['PORT']}" if params.get("PORT") else ""
    return f"postgres://{login}{host}{port}/{name}"


@pytest.fixture
def target(tmp_path: Path, transactional_db: None, settings: Any) -> Iterator[Target]:
    """An empty database of the test run's engine, and an empty folder for its files."""
    var_dir = tmp_path / "target"
    if connection.vendor != "postgresql":
        yield Target(var_dir=var_dir, database_url=None, key_dir=Path(settings.KEY_DIR))
        return
    name = f"h5_restore_{secrets.token_hex(6)}"
    with psycopg.connect(_pg_url("postgres"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield Target(var_dir=var_dir, database_url=_pg_url(name), key_dir=Path(settings.KEY_DIR))
    finally:
        with psycopg.connect(_pg_url("postgres"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- the source data ----------------------------------------------------------------------


def _case_and_scans(child: Child) -> Case:
    """A 强制报告 on the child's village taken one step, with an evidence file, and a
    委托照护 agreement with its scan: through the services, as the web pages do."""
    village = child.residence_division_id
    county = f"{village[:6]}000000"
    reporter = make_user(f"r_{village}", Role.REPORTER, village)
    police = make_user(
        f"p_{village}", Role.DEPARTMENT_OFFICER, county, department=Department.PUBLIC_SECURITY
    )
    staff = make_user(f"s_{village}", Role.COUNTY_STAFF, county)
    director = make_user(f"d_{village}", Role.CHILD_DIRECTOR, village)
    report = file_report(
        reporter, place=village, child_id_number="410402201501010012", child_name="备份测试"
    )
    case = take(police, report.case, Step.ACCEPT, **STEP_DATA[Step.ACCEPT])
    evidence = SimpleUploadedFile("photo.png", PNG, content_type="image/png")
    case_file_add(user=staff, number=case.number, upload=evidence, description="验伤照片")
    agreement_record(
        user=director, child_id=child.child_id, carer_name="王某某", relationship="祖母",
        phone="13800000000", starts_on=dt.date(2025, 1, 1),
        upload=SimpleUploadedFile("scan.pdf", PDF, content_type="application/pdf"),
    )  # fmt: skip
    return case


def _feed_upload(county: str) -> None:
    """A department file uploaded into a new round of the county (the feed store)."""
    uploader = make_user(f"u_upload_{county}", Role.COUNTY_STAFF, county)
    open_round = Round.objects.create(county_id=county, as_of=dt.date(2025, 12, 31))
    feed_import(round_=open_round, upload=edu_upload(), source_name="", acting_user=uploader)


@pytest.fixture
def small_source(transactional_db: None) -> Case:
    """A little committed data: the division tree, one child, a case with its files."""
    make_tree()
    child = Child.objects.create(
        child_id="C000001", name="测试儿童", sex="女", birth_date=dt.date(2015, 1, 1),
        residence_division_id="410402100201", id_number="410402201501010021",
    )  # fmt: skip
    key_ring(), index_key()  # the keys exist even if nothing sealed them yet
    return _case_and_scans(child)


def _backup(path: Path, *args: str) -> Path:
    call_command("backup", str(path), *args)
    return path


def _members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive, "r:*") as tar:
        return {
            info.name: stream.read()
            for info in tar
            if (stream := tar.extractfile(info)) is not None
        }


def _rewrite(
    archive: Path, out: Path, change: Callable[[str, bytes], tuple[str, bytes] | None]
) -> Path:
    """A copy of the archive with each member passed through ``change`` (None drops it)."""
    with tarfile.open(out, "w:gz") as tar:
        for name, data in _members(archive).items():
            changed = change(name, data)
            if changed is not None:
                info = tarfile.TarInfo(changed[0])
                info.size = len(changed[1])
                tar.addfile(info, io.BytesIO(changed[1]))
    return out


def _audit_without_backups(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [entry for entry in entries if entry["object_type"] != "backup"]


# --- the whole round trip -------------------------------------------------------------------


def _round_trip(target: Target, tmp_path: Path) -> None:
    round_ = Round.objects.get()
    county = round_.county_id
    child = Child.objects.filter(present=True).order_by("child_id").first()
    assert child is not None
    case = _case_and_scans(child)
    _feed_upload(county)
    source = ledger()
    source_files = stored_files(stores())
    assert {name.split("/")[0] for name in source_files} == {
        "feeds", "rounds", "case_files", "care_files",
    }  # fmt: skip
    assert len(source["children"]) == Child.objects.count() > 100
    assert source["audit"]

    archive = _backup(tmp_path / "backup.tar.gz")
    assert archive.stat().st_mode & 0o777 == 0o600
    assert sorted(path.name for path in tmp_path.iterdir() if path.name.startswith(".")) == []

    restored = target.tonghu("restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    counts = f"儿童 {len(source['children']):,}、案件 1、审计记录 {len(source['audit']):,}"
    assert counts in restored.stdout
    assert "警告" not in restored.stdout + restored.stderr

    back = target.read()
    found = back["ledger"]
    assert found["children"].keys() == source["children"].keys()
    for child_id, values in source["children"].items():
        assert found["children"][child_id] == values, child_id
    assert found["cases"][case.number]["state"] == Case.objects.get().state == State.POLICE_ACCEPTED
    assert found["cases"] == source["cases"]
    for table in ("reports", "case_files", "care_agreements", "audit_children"):
        assert found[table] == source[table], table
    # Every audit entry (ids, details and all) is back; the restore adds its own at the end.
    assert found["audit"][: len(source["audit"])] == source["audit"]
    (restore_entry,) = found["audit"][len(source["audit"]) :]
    assert (restore_entry["object_type"], restore_entry["action"]) == ("backup", "import")
    assert back["files"] == source_files


@on_sqlite
def test_sqlite_backup_restores_into_a_new_file(
    target: Target, county_round: Path, tmp_path: Path
) -> None:
    _round_trip(target, tmp_path)
    assert (target.var_dir / "tonghu.sqlite3").stat().st_size > 0


@on_postgresql
def test_postgresql_backup_restores_into_a_new_database(
    target: Target, county_round: Path, tmp_path: Path
) -> None:
    assert target.database_url is not None
    _round_trip(target, tmp_path)


# --- refusals ---------------------------------------------------------------------------------


def test_the_archive_holds_no_key_and_records_their_ids(
    small_source: Case, target: Target, tmp_path: Path, settings: Any
) -> None:
    archive = _backup(tmp_path / "backup.tar")
    members = _members(archive)
    keys = [*key_ring().keys, index_key(), settings.SECRET_KEY.encode()]
    assert all(len(key) >= 32 for key in keys)
    for name, data in members.items():
        assert "keys" not in name
        assert "secret_key" not in name
        for key in keys:
            assert key not in data, name
    manifest = json.loads(members["manifest.json"])
    assert len(manifest["keys"]["field_keys"]) == len(key_ring().keys)
    assert manifest["keys"]["field_keys"] == list(key_ring().key_ids)
    assert (manifest["counts"]["children"], manifest["counts"]["cases"]) == (1, 1)
    assert manifest["created_at"].endswith("+08:00")
    assert manifest["engine"] == connection.vendor
    assert "children" in manifest["migrations"]

    # Restored where other keys are in place: it is done, but says so in Chinese.
    elsewhere = tmp_path / "other-keys"
    elsewhere.mkdir()
    done = target.tonghu(
        "restore", str(archive), TONGHU_KEY_DIR=str(elsewhere), TONGHU_SECRET_KEY="x" * 40,
        TONGHU_FIELD_KEYS="", TONGHU_INDEX_KEY="",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"警告：备份时的 {len(key_ring().keys)} 个字段加密密钥" in done.stderr
    assert "检索密钥" in done.stderr
    assert "SECRET_KEY 与备份时不同" in done.stderr


def test_a_tampered_or_truncated_archive_is_refused_before_anything_is_written(
    small_source: Case, target: Target, tmp_path: Path
) -> None:
    archive = _backup(tmp_path / "backup.tar.gz")

    def flip(name: str, data: bytes) -> tuple[str, bytes]:
        if name.startswith("files/case_files/"):
            return name, data[:-1] + bytes([data[-1] ^ 1])
        return name, data

    tampered = _rewrite(archive, tmp_path / "tampered.tar.gz", flip)
    refused = target.tonghu("restore", str(tampered))
    assert refused.returncode == 1
    assert "备份文件已被改动或损坏：1 个成员与清单的大小或 SHA-256 不符" in refused.stderr
    assert target.untouched()

    raw = gzip.decompress(archive.read_bytes())
    truncated = tmp_path / "truncated.tar"
    truncated.write_bytes(raw[: len(raw) // 2])
    refused = target.tonghu("restore", str(truncated))
    assert refused.returncode == 1
    assert "未作任何改动" in refused.stderr
    assert target.untouched()

    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    refused = target.tonghu("restore", str(cut))
    assert refused.returncode == 1
    assert "备份文件不完整或已损坏" in refused.stderr
    assert target.untouched()

    dropped = _rewrite(
        archive, tmp_path / "dropped.tar.gz",
        lambda name, data: None if name.startswith("files/care_files/") else (name, data),
    )  # fmt: skip
    refused = target.tonghu("restore", str(dropped))
    assert refused.returncode == 1
    assert "与清单的大小或 SHA-256 不符" in refused.stderr
    assert target.untouched()

    assert target.tonghu("restore", str(archive)).returncode == 0  # the original is fine


def test_a_database_that_is_not_empty_needs_force(
    small_source: Case, target: Target, tmp_path: Path
) -> None:
    archive = _backup(tmp_path / "backup.tar.gz")
    first = target.tonghu("restore", str(archive))
    assert first.returncode == 0, first.stderr
    before = target.read()

    again = target.tonghu("restore", str(archive))
    assert again.returncode == 1
    assert "目标数据库" in again.stderr
    assert "不是空的，未作任何改动" in again.stderr
    assert target.read() == before

    forced = target.tonghu("restore", "--force", str(archive))
    assert forced.returncode == 0, forced.stderr
    after = target.read()
    # The same rows again; the one entry the restore writes is rewritten with the new time.
    assert after["ledger"]["children"] == before["ledger"]["children"]
    assert after["ledger"]["cases"] == before["ledger"]["cases"]
    assert _audit_without_backups(after["ledger"]["audit"]) == _audit_without_backups(
        before["ledger"]["audit"]
    )
    assert after["files"] == before["files"]


def test_a_backup_of_the_other_engine_or_a_newer_schema_is_refused(
    small_source: Case, target: Target, tmp_path: Path
) -> None:
    archive = _backup(tmp_path / "backup.tar.gz")
    here = connection.vendor
    other = "postgresql" if here == "sqlite" else "sqlite"
    members = {"sqlite": "database/tonghu.sqlite3", "postgresql": "database/tonghu.pgdump"}

    def as_other(name: str, data: bytes) -> tuple[str, bytes]:
        if name == "manifest.json":
            manifest = json.loads(data)
            manifest["engine"] = other
            manifest["database"] = members[other]
            manifest["members"][members[other]] = manifest["members"].pop(members[here])
            return name, json.dumps(manifest).encode()
        return (members[other], data) if name == members[here] else (name, data)

    refused = target.tonghu("restore", str(_rewrite(archive, tmp_path / "x.tar.gz", as_other)))
    assert refused.returncode == 1
    assert "不支持跨数据库恢复" in refused.stderr
    assert target.untouched()

    def newer(name: str, data: bytes) -> tuple[str, bytes]:
        if name == "manifest.json":
            manifest = json.loads(data)
            manifest["migrations"]["children"].append("9999_from_the_future")
            return name, json.dumps(manifest).encode()
        return name, data

    refused = target.tonghu("restore", str(_rewrite(archive, tmp_path / "n.tar.gz", newer)))
    assert refused.returncode == 1
    assert "备份来自更新版本的童护" in refused.stderr
    assert target.untouched()


def test_an_existing_file_is_kept_unless_forced(small_source: Case, tmp_path: Path) -> None:
    archive = tmp_path / "backup.tar.gz"
    archive.write_bytes(b"older")
    with pytest.raises(CommandError, match="已存在"):
        _backup(archive)
    assert archive.read_bytes() == b"older"
    _backup(archive, "--force")
    assert archive.stat().st_mode & 0o777 == 0o600
    assert json.loads(_members(archive)["manifest.json"])["counts"]["cases"] == 1
    assert Division.objects.exists()
