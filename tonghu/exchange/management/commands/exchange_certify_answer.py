"""``tonghu exchange answer --user U --request ID --yes|--no --reference R --out DIR``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tonghu.exchange.commands import actor, add_actor
from tonghu.exchange.packages import PackageError
from tonghu.exchange.services import certify_answer_send


class Command(BaseCommand):
    help = "跨省通办（户籍地）：答复核实请求（属实或不属实、答复文号、说明），答复立即写成交换包。"

    def add_arguments(self, parser: CommandParser) -> None:
        add_actor(parser, user_required=True)
        parser.add_argument("--request", required=True, help="核实请求编号")
        answer = parser.add_mutually_exclusive_group(required=True)
        answer.add_argument("--yes", dest="certified", action="store_true", help="属实")
        answer.add_argument("--no", dest="certified", action="store_false", help="不属实")
        parser.add_argument("--reference", required=True, help="答复文号")
        parser.add_argument("--note", default="", help="说明（可选）")
        parser.add_argument("--out", required=True, help="交换包写入的目录")

    def handle(self, *args: Any, **options: Any) -> None:
        user, _ = actor(options)
        assert user is not None  # noqa: S101  (--user is required)
        try:
            request, exported = certify_answer_send(
                acting_user=user,
                request_id=options["request"],
                certified=options["certified"],
                reference=options["reference"],
                note=options["note"],
                out_dir=Path(options["out"]),
            )
        except PackageError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"已答复核实请求 {request.request_id}：{request.answer_label}，"
            f"文号 {request.reference}：{exported.path}"
        )
