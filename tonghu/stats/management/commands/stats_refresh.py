"""``tonghu stats refresh``: recompute each county's daily figures (run by cron every day)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tonghu import clock
from tonghu.commands import option_county, option_date
from tonghu.stats.services import counties_with_rounds, daily_refresh


class Command(BaseCommand):
    help = "重算每日统计：走访计划执行、未办结和逾期转介、最近一次监护评估等级。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--county", help="只重算这个区县（6位代码）；默认为所有已完成摸排的区县"
        )
        parser.add_argument("--today", help="按此日期统计（YYYY-MM-DD）；默认为今天")

    def handle(self, *args: Any, **options: Any) -> None:
        today = (
            option_date(options["today"], option="--today") if options["today"] else clock.today()
        )
        counties = (
            [option_county(options["county"])] if options["county"] else counties_with_rounds()
        )
        if not counties:
            self.stdout.write("尚无完成监测摸排的区县，无需统计。")
            return
        for county in counties:
            rows = daily_refresh(county=county, today=today)
            self.stdout.write(f"{county}：{today:%Y-%m-%d} 每日统计已更新（{rows} 项）。")
