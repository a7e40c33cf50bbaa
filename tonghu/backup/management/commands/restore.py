"""``tonghu restore FILE``: an archive written by ``tonghu backup`` into an empty database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tonghu.backup.progress import progress_display
from tonghu.backup.services import BackupError, backup_restore, count_summary


class Command(BaseCommand):
    help = (
        "从 tonghu backup 写出的备份文件恢复数据库和文件。目标数据库须为空（新建的数据库），"
        "否则不作任何改动；先逐一核对备份中每个文件的 SHA-256，被改动或不完整的备份一律拒绝。"
    )
    # The system checks open the database (and so create an empty SQLite file): a refused
    # restore must leave the target exactly as it was.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE", help="tonghu backup 写出的备份文件")
        parser.add_argument(
            "--force", action="store_true",
            help="目标数据库不是空的也恢复（覆盖其中与备份同名的表和文件）",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        archive = Path(options["file"])
        if archive.is_dir():
            raise CommandError(f"{archive} 是目录，应为 tonghu backup 写出的备份文件。")
        try:
            with progress_display() as step:
                result = backup_restore(archive=archive, force=options["force"], progress=step)
        except BackupError as error:
            raise CommandError(str(error)) from None
        for warning in result.warnings:
            self.stderr.write(warning, style_func=self.style.WARNING)
        self.stdout.write(
            f"恢复完成（备份时间 {result.manifest.created_at}）：{count_summary(result.counts)}；"
            f"文件 {result.files:,} 个。"
        )
