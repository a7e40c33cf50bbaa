"""``tonghu exchange migrants --for 410403 --out DIR``: the migrants package."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tonghu.commands import option_county
from tonghu.exchange.commands import actor, add_actor
from tonghu.exchange.packages import PackageError
from tonghu.exchange.services import migrants_export


class Command(BaseCommand):
    help = (
        "居住地：把户籍在指定县的本县流动儿童（在册）写成发给该县的交换包（签名并加密，"
        "只有该县能读取）。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--for", dest="recipient", required=True, help="户籍地县代码（6位）")
        parser.add_argument("--out", required=True, help="交换包写入的目录")
        add_actor(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        user, county = actor(options)
        recipient = option_county(options["recipient"], option="--for")
        try:
            exported = migrants_export(
                county=county, recipient=recipient, out_dir=Path(options["out"]), acting_user=user
            )
        except PackageError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"已写出发给 {recipient} 的流动儿童名单（第{exported.package.sequence}号，"
            f"{exported.package.rows} 名儿童）：{exported.path}"
        )
