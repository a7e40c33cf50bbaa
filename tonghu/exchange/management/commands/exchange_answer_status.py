"""``tonghu exchange statuses --for 410402 --out DIR``: the hukou_status package."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tonghu.commands import option_county
from tonghu.exchange.commands import actor, add_actor
from tonghu.exchange.packages import PackageError
from tonghu.exchange.services import hukou_status_export


class Command(BaseCommand):
    help = (
        "户籍地：答复居住地县发来的流动儿童名单：对本县台账中关联到的每名儿童，"
        "写出其孤儿、事实无人抚养、低保状态和本县儿童编号。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--for", dest="recipient", required=True, help="居住地县代码（6位）")
        parser.add_argument("--out", required=True, help="交换包写入的目录")
        parser.add_argument("--package", help="答复哪一个名单（交换包编号）；默认最近收到的")
        add_actor(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        user, county = actor(options)
        recipient = option_county(options["recipient"], option="--for")
        try:
            exported = hukou_status_export(
                county=county,
                recipient=recipient,
                out_dir=Path(options["out"]),
                acting_user=user,
                package_id=options["package"],
            )
        except PackageError as error:
            raise CommandError(str(error)) from None
        package = exported.package
        self.stdout.write(
            f"已写出发给 {recipient} 的保障状态答复（第{package.sequence}号）：名单 "
            f"{package.summary.get('received', 0)} 名，本县找到 {package.rows} 名：{exported.path}"
        )
