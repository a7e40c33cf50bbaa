"""``tonghu exchange requests [--overdue] [--today D]``: the county's 跨省通办 requests."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tonghu import clock
from tonghu.audit.models import Action
from tonghu.audit.services import audit_record
from tonghu.commands import option_date
from tonghu.exchange.commands import actor, add_actor
from tonghu.exchange.packages import PackageError
from tonghu.exchange.selectors import certify_requests, ledger_hint, overdue_q
from tonghu.exchange.services import acting_county


class Command(BaseCommand):
    help = (
        "列出本县的跨省通办核实请求（本县发出的和待本县答复的）及状态："
        "已发出、待答复、已答复、已逾期；--overdue 只列逾期未答复的。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_actor(parser)
        parser.add_argument("--overdue", action="store_true", help="只列已逾期的")
        parser.add_argument("--today", help="按哪一天判断逾期（YYYY-MM-DD），默认今天")

    def handle(self, *args: Any, **options: Any) -> None:
        user, county = actor(options)
        try:
            county = acting_county(acting_user=user, county=county)
        except PackageError as error:
            raise CommandError(str(error)) from None
        today = (
            option_date(options["today"], option="--today") if options["today"] else clock.today()
        )
        requests = certify_requests(county=county)
        if options["overdue"]:
            requests = requests.filter(overdue_q(today))
        rows = list(requests.order_by("due_on", "id"))
        audit_record(
            actor=user,
            username="" if user else "命令行",
            action=Action.SEARCH,
            object_type="certify_request",
            object_ids=[str(row.pk) for row in rows],
            child_ids=[row.child.child_id for row in rows if row.child],
            detail=f"列出跨省通办核实请求{'（已逾期）' if options['overdue'] else ''}",
        )
        if not rows:
            self.stdout.write("没有逾期的核实请求。" if options["overdue"] else "没有核实请求。")
            return
        for row in rows:
            child = (
                row.child.child_id if row.child else f"（未关联，对方编号 {row.remote_child_id}）"
            )
            other = row.hukou_county if row.side == "requester" else row.residence_county
            parts = [
                str(row.request_id),
                row.get_side_display(),
                f"对方 {other}",
                child,
                row.get_subject_display(),
                f"【{row.status_label(today)}】",
                f"期限 {row.due_on:%Y-%m-%d}",
            ]
            if row.status == row.Status.ANSWERED:
                parts.append(f"{row.answer_label} 文号 {row.reference}")
            hint = ledger_hint(row)
            if hint and row.status != row.Status.ANSWERED:
                parts.append(hint)
            self.stdout.write("  ".join(parts))
