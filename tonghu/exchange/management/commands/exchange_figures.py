"""``tonghu exchange figures --for 410400 --out DIR``: the round figures for the city."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tonghu.commands import option_county
from tonghu.exchange.commands import actor, add_actor
from tonghu.exchange.packages import PackageError
from tonghu.exchange.services import figures_export


class Command(BaseCommand):
    help = (
        "把本县各监测轮次的统计（不含儿童个人信息）写成报送本县所属市或省的交换包"
        "（签名并加密，只有该市、省能读取）。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--for", dest="recipient", required=True, help="市或省代码（6位，如 410400）"
        )
        parser.add_argument("--out", required=True, help="交换包写入的目录")
        add_actor(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        user, county = actor(options)
        recipient = option_county(options["recipient"], option="--for")
        try:
            exported = figures_export(
                county=county, recipient=recipient, out_dir=Path(options["out"]), acting_user=user
            )
        except PackageError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"已写出报送 {recipient} 的监测统计（第{exported.package.sequence}号，"
            f"{exported.package.summary.get('rounds', 0)} 个轮次）：{exported.path}"
        )
