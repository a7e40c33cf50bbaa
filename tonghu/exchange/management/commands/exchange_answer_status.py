"""``tonghu exchange statuses --for 410402 --out DIR``: the hukou_status package."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tonghu.exchange.commands import add_export_arguments, run_export
from tonghu.exchange.services import hukou_status_export


class Command(BaseCommand):
    help = (
        "户籍地：答复居住地县发来的流动儿童名单：对本县台账中关联到的每名儿童，"
        "写出其孤儿、事实无人抚养、低保状态和本县儿童编号。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_export_arguments(parser, recipient_help="居住地县代码（6位）")
        parser.add_argument("--package", help="答复哪一个名单（交换包编号）；默认最近收到的")

    def handle(self, *args: Any, **options: Any) -> None:
        exported = run_export(options, hukou_status_export, package_id=options["package"])
        package = exported.package
        self.stdout.write(
            f"已写出发给 {package.recipient} 的保障状态答复（第{package.sequence}号）：名单 "
            f"{package.summary.get('received', 0)} 名，本县找到 {package.rows} 名：{exported.path}"
        )
