"""``tonghu exchange migrants --for 410403 --out DIR``: the migrants package."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tonghu.exchange.commands import add_export_arguments, run_export
from tonghu.exchange.services import migrants_export


class Command(BaseCommand):
    help = (
        "居住地：把户籍在指定县的本县流动儿童（在册）写成发给该县的交换包（签名并加密，"
        "只有该县能读取）。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_export_arguments(parser, recipient_help="户籍地县代码（6位）")

    def handle(self, *args: Any, **options: Any) -> None:
        exported = run_export(options, migrants_export)
        package = exported.package
        self.stdout.write(
            f"已写出发给 {package.recipient} 的流动儿童名单（第{package.sequence}号，"
            f"{package.rows} 名儿童）：{exported.path}"
        )
