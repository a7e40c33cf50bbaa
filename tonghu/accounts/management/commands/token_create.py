from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tonghu.accounts.models import ApiToken, User


class Command(BaseCommand):
    help = "为用户签发 API 令牌（Authorization: Bearer <令牌>）；令牌只显示这一次。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="用户名")
        parser.add_argument("--name", default="命令行签发", help="令牌用途说明")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"用户 {options['username']} 不存在或已停用")
        _, plain = ApiToken.issue(user=user, name=options["name"])
        self.stdout.write(plain)
