"""``tonghu synth OUT_DIR --children N --seed S --as-of D``: write a synthetic county."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from tonghu.commands import option_date
from tonghu.synth import MAX_CHILDREN, MIN_CHILDREN, SynthError, SynthSummary, generate
from tonghu.synth.columns import SOURCE_BY_NAME

DEFAULT_CHILDREN = 2000
DEFAULT_SEED = 1
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
CLASS_LABELS = (
    ("resident", "基准日在本地居住"),
    ("migrant", "流动儿童"),
    ("left_behind", "留守儿童"),
    ("key_care", "重点关爱服务对象"),
    ("difficulty", "困境/保障情形"),
    ("dropout_risk", "控辍保学对象"),
)


class Command(BaseCommand):
    help = (
        "生成一个合成县（平顶山市新华区）用于测试和演示：按 feeds.md 的格式写出九个部门的"
        "报送文件（含真实数据常见的各种不规范写法）、区划表 divisions.csv，以及按 policy.md "
        "计算的真值 truth/。所有姓名、身份证号和电话均为虚构；相同参数总是生成完全相同的文件。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out_dir", metavar="OUT_DIR", help="输出目录（须不存在或为空）")
        parser.add_argument(
            "--children",
            default=str(DEFAULT_CHILDREN),
            help=f"儿童人数，{MIN_CHILDREN} 至 {MAX_CHILDREN}（默认 {DEFAULT_CHILDREN}）",
        )
        parser.add_argument(
            "--seed",
            default=str(DEFAULT_SEED),
            help=f"随机种子，非负整数（默认 {DEFAULT_SEED}）；种子相同则输出相同",
        )
        parser.add_argument(
            "--as-of",
            dest="as_of",
            metavar="YYYY-MM-DD",
            help="摸排基准日（必填）：年龄、居住时长等按此日计算",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        children = _integer(options["children"], "儿童人数（--children）")
        seed = _integer(options["seed"], "随机种子（--seed）")
        as_of = option_date(options["as_of"], option="--as-of")
        out_dir = _out_dir(options["out_dir"])
        console = Console(stderr=True)
        with Progress(
            TextColumn("生成合成县"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("名儿童"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("synth", total=children)

            def report(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            try:
                summary = generate(
                    out_dir=out_dir, children=children, seed=seed, as_of=as_of, progress=report
                )
            except SynthError as exc:
                raise CommandError(str(exc)) from None
            except OSError as exc:
                msg = f"无法写入输出目录 {out_dir}：{exc.strerror or exc}"
                raise CommandError(msg) from None
        self.stdout.write(_summary_text(summary))


def _out_dir(text: str) -> Path:
    path = Path(text)
    if path.exists() and not path.is_dir():
        msg = f"输出位置 {path} 已存在且不是目录"
        raise CommandError(msg)
    if path.is_dir() and any(path.iterdir()):
        msg = f"输出目录 {path} 不为空：请指定新目录或先清空它"
        raise CommandError(msg)
    return path


def _integer(text: str, label: str) -> int:
    try:
        return int(str(text).strip())
    except ValueError:
        msg = f"{label}应为整数，实为 {text!r}"
        raise CommandError(msg) from None


def _summary_text(summary: SynthSummary) -> str:
    lines = [
        (
            f"已生成合成县：{summary.children} 名儿童（{summary.families} 户），"
            f"随机种子 {summary.seed}，摸排基准日 {summary.as_of.isoformat()}，"
            f"用时 {summary.seconds:.1f} 秒。"
        ),
        f"输出目录：{summary.out_dir}",
        "  divisions.csv  区划表（本县乡镇、村居及户籍地所在区县）",
        (
            f"  feeds/         {len(summary.feed_files)} 个报送文件，"
            f"另有 {len(summary.skipped_files)} 个一轮摸排应跳过的文件"
        ),
        "  truth/         真值：children.csv、services.csv、records.csv、noise.csv",
        "各来源写出行数：",
    ]
    for source, rows in summary.rows_by_source.items():
        lines.append(f"  {source:<18} {rows:>9}  {SOURCE_BY_NAME[source].label}")
    rejects = "，".join(f"{reason} {count}" for reason, count in summary.expected_rejects.items())
    lines.append(
        f"应拒收的行：{rejects or '无'}；完全相同的重复行（应忽略）{summary.identical_repeats}"
    )
    counts = summary.classified
    lines.append(
        "真值：" + "，".join(f"{label} {counts.get(key, 0)}" for key, label in CLASS_LABELS)
    )
    return "\n".join(lines)
