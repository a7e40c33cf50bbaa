"""``tonghu round run FEEDS_DIR --as-of D --export OUT_DIR``: one whole monitoring round."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from tonghu.commands import option_county, option_date
from tonghu.pipeline.errors import RoundError
from tonghu.pipeline.ingest import NothingToIngestError
from tonghu.pipeline.link import BlockTooLargeError
from tonghu.pipeline.round import STEPS
from tonghu.rounds.services import RoundRun, round_run

ENGINES = ("duckdb", "spark")
STEP_LABELS = {**STEPS, "load": "保存到台账", "export": "写出导出文件"}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class Command(BaseCommand):
    help = (
        "对一个数据目录运行一轮监测摸排：读取清洗各部门数据、跨部门比对、认定流动/留守/困境儿童、"
        "匹配服务清单，结果保存到台账并导出 links.csv、children.csv、services.csv、rejects.csv、"
        "summary.json。同一目录重复运行不会改变任何结果；中途失败不影响已有数据。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("feeds_dir", metavar="FEEDS_DIR", help="本轮各部门数据文件所在目录")
        parser.add_argument(
            "--as-of", dest="as_of", metavar="YYYY-MM-DD", required=True,
            help="摸排基准日：年龄、居住时长等按此日计算",
        )  # fmt: skip
        parser.add_argument("--export", metavar="OUT_DIR", required=True, help="导出文件目录")
        parser.add_argument(
            "--profile", metavar="P",
            help="政策配置：内置名称（default、tianjin、pingdingshan、tongxiang、wuqing）"
            "或 YAML 文件路径；默认取 TONGHU_PROFILE",
        )  # fmt: skip
        parser.add_argument(
            "--engine", default="duckdb",
            help="记录比对引擎：duckdb（默认）或 spark（省级规模）",
        )  # fmt: skip
        parser.add_argument(
            "--county", metavar="CODE", help="本轮所属县（6位代码）；默认从数据推断"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        as_of = option_date(options["as_of"], option="--as-of", not_after_today=True)
        if options["engine"] not in ENGINES:
            raise CommandError(f"--engine 只能是 {' 或 '.join(ENGINES)}，收到：{options['engine']}")
        county = options["county"] and option_county(options["county"])
        console = Console(stderr=True)
        try:
            with Progress(
                SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                console=console, transient=False,
            ) as progress:  # fmt: skip
                task = progress.add_task("准备", total=None)

                def step(name: str) -> None:
                    progress.update(task, description=f"[bold]{STEP_LABELS.get(name, name)}")

                result = round_run(
                    feeds_dir=Path(options["feeds_dir"]),
                    as_of=as_of,
                    export_dir=Path(options["export"]),
                    profile=options["profile"],
                    engine=options["engine"],
                    county=county,
                    progress=step,
                )
                progress.update(task, description="完成")
        except (RoundError, BlockTooLargeError) as error:
            raise CommandError(str(error)) from None
        except NothingToIngestError as error:
            reasons = "；".join(f"{item.name}：{item.reason}" for item in error.skipped)
            raise CommandError(f"没有可读取的数据：{reasons}") from None
        _report(Console(), result)


def _report(console: Console, result: RoundRun) -> None:
    summary = result.round.summary
    if result.unchanged:
        console.print("本轮数据与已完成的一轮完全相同，结果未改变，已重新写出导出文件。")
    table = Table(title=f"{result.round}：监测摸排结果")
    table.add_column("项目")
    table.add_column("人数", justify="right")
    for key, label in (
        ("children", "儿童"), ("resident", "基准日在本地居住"), ("migrants", "流动儿童"),
        ("left_behind", "留守儿童"), ("key_care", "重点关爱服务对象"),
        ("difficulty", "困境/保障情形"), ("dropout_risk", "控辍保学对象"),
        ("new_children", "新发现"), ("review_pairs", "待人工核实的记录对"),
    ):  # fmt: skip
        table.add_row(label, f"{summary.get(key, 0):,}")
    console.print(table)
    rejected = sum(counts["rejected"] for counts in summary["sources"].values())
    console.print(
        f"拒收 {rejected:,} 行（原因见 rejects.csv）；跳过文件 {len(summary['skipped'])} 个。"
    )
    addresses = summary.get("addresses", {})
    if addresses.get("unresolved") or addresses.get("ambiguous"):
        console.print(
            f"注意：{addresses.get('unresolved', 0):,} 条记录的现住址未写区划代码，"
            "地址也未能对应到区划表中的地点；"
            f"{addresses.get('ambiguous', 0):,} 条的县区名称为多个县区共用、无法确定。"
            "这些儿童的现居住地按其他记录认定，请核对数据（见 summary.json 各文件的 warnings）。"
        )
    for path in result.exported:
        console.print(f"已写出 {path}")
