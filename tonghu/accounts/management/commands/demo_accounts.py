from __future__ import annotations

import io
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.table import Table

from tonghu.accounts.demo import demo_accounts_create
from tonghu.divisions.models import Division


class Command(BaseCommand):
    help = "创建演示账号（每个角色一个，位于演示县）；新密码只显示这一次。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reset-passwords", action="store_true", help="为已有演示账号重设密码")

    def handle(self, *args: Any, **options: Any) -> None:
        if not Division.objects.filter(code="410402100201").exists():
            raise CommandError("请先载入演示县区划：tonghu divisions load --demo")
        results = demo_accounts_create(reset_passwords=options["reset_passwords"])
        table = Table(title="演示账号（请妥善保存，密码不会再次显示）")
        for column in ("用户名", "角色", "区划", "密码"):
            table.add_column(column)
        for account, password in results:
            shown = password or "（已存在，未改变；加 --reset-passwords 重设）"
            table.add_row(account.username, account.role.label, account.division_code, shown)
        console = Console(file=io.StringIO(), width=120)
        console.print(table)
        self.stdout.write(console.file.getvalue())  # type: ignore[attr-defined]
