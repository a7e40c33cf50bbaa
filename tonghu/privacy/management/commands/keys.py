from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console

from tonghu.privacy import crypto
from tonghu.privacy.rotation import keys_reseal, keys_rotate


class Command(BaseCommand):
    help = "字段加密密钥：查看（status）、轮换（rotate）、用最新密钥重新加密（reseal）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["status", "rotate", "reseal"])

    def handle(self, *args: Any, **options: Any) -> None:
        console = Console()
        action = options["action"]
        if action == "status":
            ring = crypto.key_ring()
            where = f"密钥文件 {crypto.key_dir()}" if crypto.uses_key_file() else "环境变量"
            console.print(f"字段加密密钥 {len(ring.keys)} 把（来自{where}）：")
            for position, key_id in enumerate(ring.key_ids):
                console.print(f"  {key_id}" + ("（当前用于加密）" if position == 0 else ""))
            return
        try:
            run = keys_rotate if action == "rotate" else keys_reseal
            counts = run(tell=console.print)
        except crypto.SealError as error:
            raise CommandError(str(error)) from None
        total = sum(counts.rows.values())
        console.print(f"完成：{total} 行、{counts.files} 个附件已用密钥 {counts.key_id} 加密。")
