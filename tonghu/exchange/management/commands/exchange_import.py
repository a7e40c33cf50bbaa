"""``tonghu exchange import FILE [FILE ...]``: verify and import packages, each all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tonghu.exchange.commands import actor, add_actor
from tonghu.exchange.packages import PackageError
from tonghu.exchange.services import package_import


class Command(BaseCommand):
    help = (
        "导入其他县发来的交换包：核对发送县已登记、签名有效、收件县是本县、此前未导入过，"
        "任何一项不符即整体拒绝该交换包，不导入其中任何内容。可一次给出多个文件，按给出的顺序逐个导入。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", metavar="FILE", nargs="+")
        add_actor(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        user, county = actor(options)
        refused: list[str] = []
        for name in options["files"]:
            path = Path(name)
            try:
                imported = package_import(path=path, acting_user=user, county=county)
            except PackageError as error:
                refused.append(path.name)
                self.stderr.write(f"{path.name}：交换包未导入：{error}")
                continue
            for line in imported.lines:
                self.stdout.write(line)
        if refused:
            raise CommandError(f"{len(refused)} 个交换包未导入：{'、'.join(refused)}")
