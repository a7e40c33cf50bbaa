from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tonghu.divisions.services import (
    DEMO_COUNTY_FILE,
    NATIONAL_FILE,
    DivisionFileError,
    divisions_load,
)


class Command(BaseCommand):
    help = "载入行政区划表（code,name,level,parent_code,central_urban）；整表校验，有错则整表拒绝。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "files",
            nargs="*",
            type=Path,
            help="区划 CSV 文件；不给出时载入内置的全国县级区划表",
        )
        parser.add_argument(
            "--demo",
            action="store_true",
            help="同时载入演示县（平顶山市新华区，乡镇和村的名称为虚构）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        files: list[Path] = options["files"] or [NATIONAL_FILE]
        if options["demo"]:
            files.append(DEMO_COUNTY_FILE)
        for path in files:
            try:
                result = divisions_load(path=path)
            except DivisionFileError as exc:
                raise CommandError(_refusal(path, exc.problems)) from None
            self.stdout.write(
                f"{path.name}：新增 {result.created}，"
                f"更新 {result.updated}，未变 {result.unchanged}"
            )


def _refusal(path: Path, problems: list[str]) -> str:
    lines = "\n".join(f"  - {problem}" for problem in problems)
    return f"{path.name} 未载入（共 {len(problems)} 处错误，未写入任何数据）：\n{lines}"
