"""``tonghu exchange trust FILE.json [--replace]``: enter other counties' public keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tonghu.exchange.commands import actor
from tonghu.exchange.keys import registry_path
from tonghu.exchange.packages import PackageError
from tonghu.exchange.services import registry_trust


class Command(BaseCommand):
    help = (
        "把其他县的交换公钥（tonghu exchange keygen 显示的内容，或整份公钥登记表）登记到本县的"
        "公钥登记表。已登记的县换了公钥时须加 --replace。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE.json")
        parser.add_argument("--replace", action="store_true", help="替换已登记的不同公钥")
        parser.add_argument("--user", metavar="USERNAME", help="以哪位用户的名义办理")

    def handle(self, *args: Any, **options: Any) -> None:
        user, _ = actor(options)
        try:
            changed = registry_trust(
                path=Path(options["file"]), acting_user=user, replace=options["replace"]
            )
        except PackageError as error:
            raise CommandError(str(error)) from None
        if not changed:
            self.stdout.write("公钥均已登记，没有变化。")
            return
        counties = "、".join(f"{e.name}（{e.county}）" if e.name else e.county for e in changed)
        self.stdout.write(f"已登记 {counties} 的交换公钥到 {registry_path()}。")
