"""``tonghu escalate``: raise every overdue case step to the level its lateness calls for."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from tonghu import clock
from tonghu.cases.escalation import cases_escalate


class Command(BaseCommand):
    help = "检查各案件当前环节是否超过办理时限，逾期的逐级升级督办并提醒（由 cron 每5分钟运行）。"

    def handle(self, *args: Any, **options: Any) -> None:
        now = clock.now()
        raised = cases_escalate(now=now)
        self.stdout.write(
            f"{now:%Y-%m-%d %H:%M} 检查完毕：新升级督办 {len(raised)} 件"
            + (f"（{'、'.join(case.number for case in raised)}）" if raised else "")
            + "。"
        )
