"""``tonghu services load-list FILE.yaml --county 410402 --from 2025-01-01``."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tonghu.services.lists import service_list_load


class Command(BaseCommand):
    help = (
        "载入本区县的服务清单（政策配置 YAML，可写 extends: default 只列增加或放宽的项目），"
        "自指定日期起生效。删去或缩小基础清单项目的清单会被拒绝，并列出相关项目。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE.yaml")
        parser.add_argument("--county", required=True, help="区县代码（6位）")
        parser.add_argument(
            "--from", dest="effective_from", required=True, help="生效日期 YYYY-MM-DD"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not re.fullmatch(r"\d{6}", options["county"]):
            raise CommandError(f"--county 应为6位县级区划代码，收到：{options['county']}")
        try:
            day = dt.date.fromisoformat(options["effective_from"])
        except ValueError:
            raise CommandError(
                f"--from 应为 YYYY-MM-DD 格式的日期：{options['effective_from']}"
            ) from None
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"找不到清单文件：{path}")
        try:
            kept = service_list_load(county_code=options["county"], path=path, effective_from=day)
        except ValidationError as error:
            raise CommandError("清单未载入：" + "；".join(error.messages)) from None
        self.stdout.write(
            f"已载入 {kept.file_name}：{options['county']} 自 {day:%Y-%m-%d} 起生效。"
        )
