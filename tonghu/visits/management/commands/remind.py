"""``tonghu remind [--today YYYY-MM-DD]``: due visits and lapsed contacts as notifications."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from tonghu.commands import option_date
from tonghu.notifications.models import Notification
from tonghu.visits.reminders import remind

# The kinds this command sends (the others come from cases, alerts and assessments).
REMINDED = (
    Notification.Kind.VISIT_DUE,
    Notification.Kind.VISIT_OVERDUE,
    Notification.Kind.CONTACT_LAPSED,
)


class Command(BaseCommand):
    help = (
        "把每位儿童主任、儿童督导员到期和逾期的走访、中断的亲子联系写入站内提醒（每天运行一次）。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--today", help="按此日期计算（默认今天），YYYY-MM-DD")

    def handle(self, *args: Any, **options: Any) -> None:
        today = (
            option_date(options["today"], option="--today")
            if options["today"]
            else timezone.localdate()
        )
        sent = remind(today=today)
        parts = "，".join(
            f"{label} {sent.get(kind, 0)} 条"
            for kind, label in Notification.Kind.choices
            if kind in REMINDED
        )
        self.stdout.write(f"{today:%Y-%m-%d} 新增站内提醒 {sum(sent.values())} 条：{parts}。")
