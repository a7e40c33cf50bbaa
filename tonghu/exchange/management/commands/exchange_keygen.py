"""``tonghu exchange keygen --county 410402``: the county's exchange key pair."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tonghu.exchange.commands import actor, add_actor
from tonghu.exchange.keys import key_path, registry_path
from tonghu.exchange.packages import PackageError
from tonghu.exchange.services import exchange_keygen


class Command(BaseCommand):
    help = (
        "为本县生成交换密钥（Ed25519 签名密钥和 X25519 加密密钥）。私钥保存在密钥目录的 "
        "exchange/ 下（权限 0600，不进数据库）；显示公钥，请发给各交换县登记。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_actor(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        user, county = actor(options)
        try:
            entry = exchange_keygen(county=county or "", acting_user=user)
        except PackageError as error:
            raise CommandError(str(error)) from None
        self.stderr.write(
            f"已生成 {entry.county} 的交换密钥：私钥 {key_path(entry.county)}"
            "（请与数据库分开备份），"
            f"公钥已登记到 {registry_path()}。\n请把以下公钥发给各交换县，"
            "对方用 tonghu exchange trust 文件 登记："
        )
        self.stdout.write(json.dumps(entry.to_json(), ensure_ascii=False, indent=2))
