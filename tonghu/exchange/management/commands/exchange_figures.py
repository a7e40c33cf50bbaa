"""``tonghu exchange figures --for 410400 --out DIR``: the round figures for the city."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tonghu.exchange.commands import add_export_arguments, run_export
from tonghu.exchange.services import figures_export


class Command(BaseCommand):
    help = (
        "把本县各监测轮次的统计（不含儿童个人信息）写成报送本县所属市或省的交换包"
        "（签名并加密，只有该市、省能读取）。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_export_arguments(parser, recipient_help="市或省代码（6位，如 410400）")

    def handle(self, *args: Any, **options: Any) -> None:
        exported = run_export(options, figures_export)
        package = exported.package
        self.stdout.write(
            f"已写出报送 {package.recipient} 的监测统计（第{package.sequence}号，"
            f"{package.summary.get('rounds', 0)} 个轮次）：{exported.path}"
        )
