"""``tonghu backup FILE``: the database and the files it refers to in one archive (no keys)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tonghu.backup.progress import progress_display
from tonghu.backup.services import BackupError, backup_create, count_summary


class Command(BaseCommand):
    help = (
        "把数据库（SQLite 在线一致副本或 PostgreSQL pg_dump）与它引用的文件（数据导入、摸排结果、"
        "案件材料、委托照护协议扫描件）写入一个备份文件（权限 0600）。"
        "文件名以 .tar 结尾时不压缩，否则 gzip 压缩。密钥不写入备份，须另行保管。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE", help="备份文件，例如 tonghu-2025-06-30.tar.gz")
        parser.add_argument("--force", action="store_true", help="FILE 已存在时覆盖")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with progress_display() as step:
                result = backup_create(
                    target=Path(options["file"]), overwrite=options["force"], progress=step
                )
        except BackupError as error:
            raise CommandError(str(error)) from None
        megabytes = result.size / 1024 / 1024
        for line in (
            f"已写出备份 {result.path}（{megabytes:,.1f} MB，权限 0600）。",
            f"其中：{count_summary(result.manifest.counts)}；文件 {result.files:,} 个。",
            f"备份文件 SHA-256：{result.sha256}",
            "密钥（secret_key 与字段加密密钥）不在备份中：请另行妥善保管，恢复时放回原处。",
        ):
            self.stdout.write(line)
