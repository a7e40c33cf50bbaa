"""``tonghu services load-list FILE.yaml --county 410402 --from 2025-01-01``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tonghu.commands import option_county, option_date
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
        county = option_county(options["county"])
        day = option_date(options["effective_from"], option="--from")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"找不到清单文件：{path}")
        try:
            kept = service_list_load(county_code=county, path=path, effective_from=day)
        except ValidationError as error:
            raise CommandError("清单未载入：" + "；".join(error.messages)) from None
        self.stdout.write(f"已载入 {kept.file_name}：{county} 自 {day:%Y-%m-%d} 起生效。")
