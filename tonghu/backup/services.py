"""One archive file per backup, and its restore.

The archive is a tar (gzip-compressed unless its name ends in ``.tar``) holding, in order:

- ``database/tonghu.sqlite3`` or ``database/tonghu.pgdump``: the database copy;
- ``files/<store>/...``: every file of the feed store, the round store, the case files and the
  guardianship scans (temporary work folders left out);
- ``manifest.json``, last: format version, engine, migration state per app, counts of
  children, cases and audit entries, size and SHA-256 of every member, creation time, and the
  fingerprints of the keys the data needs. The keys themselves are never in it.

A restore reads the whole archive into a private folder first, checking each member against
the manifest, so a tampered or truncated archive is refused before anything is written.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import re
import shutil
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any, Protocol

from django.conf import settings
from django.db import OperationalError, connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from tonghu import clock
from tonghu.audit.models import Action
from tonghu.audit.services import audit_record
from tonghu.backup.database import (
    DATABASE_MEMBERS,
    ENGINE_LABELS,
    DatabaseError,
    database_copy,
    database_counts,
    database_is_empty,
    database_restore,
    engine,
)
from tonghu.backup.keys import KeyIds, installed_keys, is_key_file, key_warnings
from tonghu.cases.intake import CASE_FILES
from tonghu.guardianship.services import CARE_FILES
from tonghu.web.attachments import files_dir

FORMAT = "tonghu-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MANIFEST_MAX_BYTES = 256 * 1024 * 1024
COUNT_LABELS = {"children": "儿童", "cases": "案件", "audit_entries": "审计记录"}
CHUNK = 1024 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")
_ENGINE_OF_MEMBER = {member: kind for kind, member in DATABASE_MEMBERS.items()}


class BackupError(Exception):
    """A refusal or failure, in Chinese, naming no person."""


class Progress(Protocol):
    def __call__(self, label: str, *, done: int | None = None, total: int | None = None) -> None:
        """Show the step ``label``, and how far it has come if known."""


def _quiet(label: str, *, done: int | None = None, total: int | None = None) -> None:
    return None


def stores() -> dict[str, Path]:
    """The folders of files the database refers to, by their name in the archive."""
    return {
        "feeds": Path(settings.FEED_STORE_DIR),
        "rounds": Path(settings.ROUND_STORE_DIR),
        CASE_FILES: files_dir(CASE_FILES),
        CARE_FILES: files_dir(CARE_FILES),
    }


def _transient(store: str, relative: PurePosixPath) -> bool:
    """Work folders of an import or a round still running: not data yet."""
    if any(part.startswith(".") for part in relative.parts):
        return True
    return store == "feeds" and relative.parts[0].startswith("upload-")


def _store_files() -> Iterator[tuple[str, Path]]:
    """(member name, path) of every stored file, in a stable order; never a key file."""
    for store, root in stores().items():
        if not root.is_dir():
            continue
        for folder, dirs, names in os.walk(root):
            dirs.sort()
            for name in sorted(names):
                path = Path(folder) / name
                relative = PurePosixPath(path.relative_to(root).as_posix())
                if _transient(store, relative) or is_key_file(path):
                    continue
                if path.is_file() and not path.is_symlink():
                    yield f"files/{store}/{relative}", path


def count_summary(counts: dict[str, int]) -> str:
    return "、".join(f"{label} {counts.get(key, 0):,}" for key, label in COUNT_LABELS.items())


# --- manifest -------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    engine: str
    created_at: str
    migrations: dict[str, list[str]]
    counts: dict[str, int]
    keys: KeyIds
    members: dict[str, Member] = field(default_factory=dict)

    @property
    def database_member(self) -> str:
        return DATABASE_MEMBERS[self.engine]

    def as_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": self.created_at,
            "engine": self.engine,
            "database": self.database_member,
            "migrations": self.migrations,
            "counts": self.counts,
            "keys": self.keys.as_json(),
            "members": {
                name: {"size": member.size, "sha256": member.sha256}
                for name, member in self.members.items()
            },
        }


def _invalid(reason: str) -> BackupError:
    return BackupError(
        f"备份清单 manifest.json 无效（{reason}），不是完整的童护备份，未作任何改动。"
    )


def _names(value: object, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _invalid(what)
    return list(value)


def manifest_parse(raw: bytes) -> Manifest:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _invalid("不是 JSON") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise _invalid("格式标记不符")
    version = data.get("format_version")
    if not isinstance(version, int):
        raise _invalid("缺少格式版本")
    if version > FORMAT_VERSION:
        raise BackupError(
            f"备份格式版本 {version} 比本程序支持的版本 {FORMAT_VERSION} 新：请先升级童护再恢复。"
        )
    if data.get("engine") not in ENGINE_LABELS:
        raise _invalid("数据库类型")
    counts, members, migrations = data.get("counts"), data.get("members"), data.get("migrations")
    keys = data.get("keys")
    if not isinstance(counts, dict) or not all(
        isinstance(counts.get(key), int) for key in COUNT_LABELS
    ):
        raise _invalid("数量")
    if not isinstance(migrations, dict):
        raise _invalid("迁移状态")
    if not isinstance(keys, dict) or not isinstance(keys.get("secret_key"), str):
        raise _invalid("密钥编号")
    parsed = _members(members)
    manifest = Manifest(
        engine=data["engine"],
        created_at=str(data.get("created_at", "")),
        migrations={str(app): _names(names, "迁移状态") for app, names in migrations.items()},
        counts={key: counts[key] for key in COUNT_LABELS},
        keys=KeyIds(
            field_keys=tuple(_names(keys.get("field_keys", []), "密钥编号")),
            index_key=str(keys.get("index_key", "")),
            secret_key=keys["secret_key"],
        ),
        members=parsed,
    )
    if manifest.database_member not in parsed:
        raise _invalid("缺少数据库")
    return manifest


def _members(members: object) -> dict[str, Member]:
    if not isinstance(members, dict):
        raise _invalid("成员列表")
    parsed: dict[str, Member] = {}
    for name, entry in members.items():
        _member_path(name)
        size = entry.get("size") if isinstance(entry, dict) else None
        sha = entry.get("sha256") if isinstance(entry, dict) else None
        if not isinstance(size, int) or size < 0 or not isinstance(sha, str):
            raise _invalid("成员列表")
        if not _SHA256.fullmatch(sha):
            raise _invalid("校验值")
        parsed[name] = Member(size=size, sha256=sha)
    return parsed


def _member_path(name: object) -> PurePosixPath:
    """A member's name, refused unless it is a plain relative path to a known place."""
    if not isinstance(name, str) or not name or "\x00" in name or "\\" in name:
        raise _invalid("成员名")
    path = PurePosixPath(name)
    parts = path.parts
    if path.is_absolute() or any(part in ("", ".", "..") for part in parts):
        raise _invalid("成员名")
    if name in DATABASE_MEMBERS.values():
        return path
    if len(parts) >= 3 and parts[0] == "files" and parts[1] in stores():
        return path
    raise _invalid(f"未知成员 {name[:80]}")


# --- backup ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest: Manifest
    files: int
    size: int
    sha256: str


class _HashingReader:
    """Reads a file for tarfile while hashing exactly the bytes that go into the archive."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        self.digest.update(chunk)
        return chunk


class _HashingWriter:
    """The archive file, hashed as it is written."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.digest = hashlib.sha256()

    def write(self, data: bytes, /) -> int:
        self.digest.update(data)
        return self.stream.write(data)

    def flush(self) -> None:
        self.stream.flush()

    def tell(self) -> int:
        return self.stream.tell()

    def read(self, size: int, /) -> bytes:
        raise io.UnsupportedOperation("write only")

    def seek(self, pos: int, /) -> int:
        raise io.UnsupportedOperation("write only")

    def close(self) -> None:
        return None  # the caller closes the file it opened


def _add(tar: tarfile.TarFile, name: str, path: Path) -> Member:
    with path.open("rb") as stream:
        stat = os.fstat(stream.fileno())
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = stat.st_size, int(stat.st_mtime), 0o600
        reader = _HashingReader(stream)
        tar.addfile(info, reader)
    return Member(size=info.size, sha256=reader.digest.hexdigest())


def backup_create(
    *, target: Path, overwrite: bool = False, progress: Progress = _quiet
) -> BackupResult:
    """Write the archive to ``target`` (mode 0600, through a temporary file and a rename)."""
    target = target.expanduser().absolute()
    if target.exists() and not overwrite:
        raise BackupError(f"{target} 已存在：请换一个文件名，或加 --force 覆盖。")
    if target.is_dir():
        raise BackupError(f"{target} 是目录：请给出备份文件名，例如 tonghu-2025-06-30.tar.gz。")
    if not target.parent.is_dir():
        raise BackupError(f"目录 {target.parent} 不存在。")
    if is_key_file(target):
        raise BackupError("备份文件不能放在密钥目录中。")
    kind = engine()
    compressed = not target.name.endswith(".tar")  # a .tar stays uncompressed
    work = Path(tempfile.mkdtemp(prefix=".tonghu-backup-", dir=target.parent))  # mode 0700
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=work)
    try:
        progress(f"复制{ENGINE_LABELS[kind]}数据库")
        copy = database_copy(work / "database")
        members: dict[str, Member] = {}
        with os.fdopen(handle, "wb") as raw:
            os.fchmod(raw.fileno(), 0o600)
            writer = _HashingWriter(raw)
            with _archive_writer(writer, compressed=compressed) as tar:
                members[DATABASE_MEMBERS[kind]] = _add(tar, DATABASE_MEMBERS[kind], copy.path)
                copy.path.unlink()
                files = list(_store_files())
                for number, (name, path) in enumerate(files, start=1):
                    progress("写入文件", done=number, total=len(files))
                    try:
                        members[name] = _add(tar, name, path)
                    except FileNotFoundError:
                        continue  # removed since it was listed: no longer referred to
                manifest = Manifest(
                    engine=kind,
                    created_at=timezone.localtime(clock.now()).isoformat(timespec="seconds"),
                    migrations=copy.migrations,
                    counts=copy.counts,
                    keys=installed_keys(),
                    members=members,
                )
                data = json.dumps(manifest.as_json(), ensure_ascii=False, indent=1).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime, info.mode = len(data), int(clock.now().timestamp()), 0o600
                tar.addfile(info, io.BytesIO(data))
            raw.flush()
            os.fsync(raw.fileno())
        Path(temporary).replace(target)
        _fsync_dir(target.parent)
    except DatabaseError as error:
        raise BackupError(str(error)) from None
    except OperationalError as error:
        raise _unreachable(error) from None
    except OSError as error:
        raise BackupError(f"写入备份失败：{error.strerror or error}（{target.parent}）") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    audit_record(
        actor=None,
        username="命令行",
        action=Action.EXPORT,
        object_type="backup",
        detail=f"备份数据库与文件：{count_summary(copy.counts)}；文件 {len(members) - 1} 个",
    )
    return BackupResult(
        path=target,
        manifest=manifest,
        files=len(members) - 1,
        size=target.stat().st_size,
        sha256=writer.digest.hexdigest(),
    )


def _archive_writer(writer: _HashingWriter, *, compressed: bool) -> tarfile.TarFile:
    if compressed:  # gzip level 6: most of the gain of 9 at a fraction of the time
        return tarfile.open(fileobj=writer, mode="w:gz", compresslevel=6, format=tarfile.PAX_FORMAT)
    return tarfile.open(fileobj=writer, mode="w", format=tarfile.PAX_FORMAT)


def _fsync_dir(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# --- restore --------------------------------------------------------------------------


@dataclass(frozen=True)
class RestoreResult:
    manifest: Manifest
    counts: dict[str, int]
    files: int
    warnings: list[str]


def _unreachable(error: OperationalError) -> BackupError:
    """The database could not be reached (the driver's first line: host, port, database)."""
    first = (str(error).strip().splitlines() or ["无错误信息"])[0][:300]
    return BackupError(f"无法连接数据库：{first}")


def _corrupt() -> BackupError:
    return BackupError("备份文件不完整或已损坏（无法读取），未作任何改动。")


def _unpack(archive: Path, staging: Path, *, kind: str, progress: Progress) -> Manifest:
    """Every member into ``staging``, checked against the manifest; the manifest."""
    seen: dict[str, Member] = {}
    raw_manifest: bytes | None = None
    total = archive.stat().st_size
    try:
        with archive.open("rb") as raw, tarfile.open(fileobj=raw, mode="r:*") as tar:
            for info in tar:
                progress("读取并校验备份", done=raw.tell(), total=total)
                if raw_manifest is not None:
                    raise _invalid("清单之后还有成员")
                if info.name == MANIFEST and info.isreg() and info.size <= MANIFEST_MAX_BYTES:
                    stream = tar.extractfile(info)
                    raw_manifest = stream.read() if stream else b""
                    continue
                path = _member_path(info.name)
                if not info.isreg() or info.name in seen:
                    raise _invalid(f"成员 {info.name[:80]}")
                other = _ENGINE_OF_MEMBER.get(info.name, kind)
                if other != kind:  # refused early; the manifest says the same below
                    raise _cross_engine(other, kind)
                seen[info.name] = _extract(tar, info, staging / path)
    except (tarfile.TarError, EOFError, zlib.error) as error:
        raise _corrupt() from error
    except OSError as error:
        if error.errno == errno.ENOSPC:
            raise BackupError(
                f"磁盘空间不足，无法展开备份（{staging.parent}），未作任何改动。"
            ) from None
        raise _corrupt() from error
    if raw_manifest is None:
        raise BackupError(
            "备份文件中没有清单 manifest.json（不完整或不是童护备份），未作任何改动。"
        )
    manifest = manifest_parse(raw_manifest)
    if manifest.engine != kind:
        raise _cross_engine(manifest.engine, kind)
    wrong = sorted(name for name, member in manifest.members.items() if seen.get(name) != member)
    extra = sorted(set(seen) - set(manifest.members))
    if wrong or extra:
        example = (wrong or extra)[0]
        raise BackupError(
            f"备份文件已被改动或损坏：{len(wrong) + len(extra)} 个成员与清单的大小或 SHA-256 不符"
            f"（如 {example}），未作任何改动。"
        )
    return manifest


def _extract(tar: tarfile.TarFile, info: tarfile.TarInfo, target: Path) -> Member:
    stream = tar.extractfile(info)
    if stream is None:
        raise _invalid(f"成员 {info.name[:80]}")
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with target.open("xb") as out:
        os.fchmod(out.fileno(), 0o600)
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return Member(size=size, sha256=digest.hexdigest())


def _cross_engine(backup: str, here: str) -> BackupError:
    source, target = ENGINE_LABELS[backup], ENGINE_LABELS[here]
    return BackupError(
        f"不支持跨数据库恢复：备份来自 {source}，当前数据库是 {target}。"
        f"请恢复到 {source} 数据库，未作任何改动。"
    )


def _known_migrations() -> set[tuple[str, str]]:
    loader = MigrationLoader(None, ignore_no_migrations=True, load=True)
    known = set(loader.disk_migrations)
    for migration in loader.disk_migrations.values():
        known.update(migration.replaces)
    return known


def _migration_check(manifest: Manifest) -> None:
    known = _known_migrations()
    newer = sorted(
        f"{app}.{name}"
        for app, names in manifest.migrations.items()
        for name in names
        if (app, name) not in known
    )
    if newer:
        raise BackupError(
            f"备份来自更新版本的童护（含本程序没有的 {len(newer)} 项数据库结构变更，"
            f"如 {newer[0]}）：请先升级童护再恢复，未作任何改动。"
        )


def _place_files(staging: Path, manifest: Manifest, progress: Progress) -> int:
    roots = stores()
    names = sorted(name for name in manifest.members if name.startswith("files/"))
    for number, name in enumerate(names, start=1):
        progress("恢复文件", done=number, total=len(names))
        _, store, *rest = PurePosixPath(name).parts
        target = roots[store].joinpath(*rest)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(staging / name, target)
        target.chmod(0o600)
    return len(names)


def backup_restore(
    *, archive: Path, force: bool = False, progress: Progress = _quiet
) -> RestoreResult:
    """Restore ``archive`` into the configured (empty, unless ``force``) database and stores."""
    archive = archive.expanduser().absolute()
    if not archive.is_file():
        raise BackupError(f"备份文件 {archive} 不存在。")
    try:
        kind = engine()
        progress("检查目标数据库")
        if not force and not database_is_empty():
            raise BackupError(
                f"目标数据库（{ENGINE_LABELS[kind]}）不是空的，未作任何改动。"
                "恢复只写入空数据库；确需覆盖现有数据时加 --force。"
            )
        var_dir = Path(settings.VAR_DIR)
        var_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".tonghu-restore-", dir=var_dir))  # mode 0700
        try:
            manifest = _unpack(archive, staging, kind=kind, progress=progress)
            _migration_check(manifest)
            warnings = key_warnings(manifest.keys, installed_keys())
            progress(f"恢复{ENGINE_LABELS[kind]}数据库")
            database_restore(staging / manifest.database_member)
            files = _place_files(staging, manifest, progress)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        progress("核对数量")
        counts = database_counts()
    except DatabaseError as error:
        raise BackupError(str(error)) from None
    except OperationalError as error:
        raise _unreachable(error) from None
    if counts != manifest.counts:
        raise BackupError(
            f"恢复后的数量与备份清单不符：清单为 {count_summary(manifest.counts)}，"
            f"数据库中为 {count_summary(counts)}。"
        )
    behind = _known_migrations_missing()
    if behind:
        warnings.append(
            f"备份的数据库结构比本程序旧（缺少 {behind} 项结构变更）：请运行 tonghu migrate 升级。"
        )
    else:
        audit_record(
            actor=None,
            username="命令行",
            action=Action.IMPORT,
            object_type="backup",
            detail=f"从备份恢复（备份时间 {manifest.created_at}）：{count_summary(counts)}",
        )
    return RestoreResult(manifest=manifest, counts=counts, files=files, warnings=warnings)


def _known_migrations_missing() -> int:
    """How many of this program's migrations the restored database has not applied."""
    executor = MigrationExecutor(connection)
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))
