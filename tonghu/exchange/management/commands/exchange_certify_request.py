"""``tonghu exchange certify --user U --child ID --subject 孤儿 --out DIR``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tonghu.exchange.commands import actor, add_actor
from tonghu.exchange.models import Certify
from tonghu.exchange.packages import PackageError
from tonghu.exchange.services import certify_request_send

SUBJECTS = {**{label: value for value, label in Certify.choices}, **dict.fromkeys(Certify.values)}


class Command(BaseCommand):
    help = (
        "跨省通办（居住地）：请儿童户籍地县核实孤儿、事实无人抚养儿童或残疾人两项补贴，"
        "请求立即写成交换包；答复期限取政策配置 exchange.certify_within_days。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_actor(parser, user_required=True)
        parser.add_argument("--child", required=True, help="儿童编号")
        parser.add_argument(
            "--subject",
            required=True,
            help="核实事项：孤儿、事实无人抚养儿童、残疾人两项补贴"
            "（或 orphan、fuc、disability_allowance）",
        )
        parser.add_argument("--note", default="", help="说明（可选）")
        parser.add_argument("--out", required=True, help="交换包写入的目录")

    def handle(self, *args: Any, **options: Any) -> None:
        user, _ = actor(options)
        assert user is not None  # noqa: S101  (--user is required)
        subject = SUBJECTS.get(options["subject"], options["subject"])
        try:
            request, exported = certify_request_send(
                acting_user=user,
                child_id=options["child"],
                subject=subject or "",
                note=options["note"],
                out_dir=Path(options["out"]),
            )
        except PackageError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"已向 {request.hukou_county} 发出核实请求 {request.request_id}"
            f"（{request.get_subject_display()}，答复期限 {request.due_on:%Y-%m-%d}）："
            f"{exported.path}"
        )
