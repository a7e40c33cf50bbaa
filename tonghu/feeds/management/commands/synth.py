"""``tonghu synth OUT_DIR --children N --seed S --as-of D [--noise name=value,...]``: write a
synthetic county; ``tonghu synth OUT_DIR --next-of PREVIOUS --as-of D``: its next round."""

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
from tonghu.synth import (
    DEFAULT_REISSUE,
    MAX_CHILDREN,
    MIN_CHILDREN,
    MIN_CHILDREN_WITHOUT_BOUNDARIES,
    NOISE_FIELDS,
    NoiseSettings,
    SynthError,
    SynthSummary,
    generate,
    generate_next,
)
from tonghu.synth.columns import SOURCE_BY_NAME

DEFAULT_CHILDREN = 2000
DEFAULT_SEED = 1
NO_SOURCES = frozenset({"", "none", "无"})
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
            default=None,
            help=(
                f"儿童人数，{MIN_CHILDREN} 至 {MAX_CHILDREN}（默认 {DEFAULT_CHILDREN}；"
                f"不要边界用例时可少至 {MIN_CHILDREN_WITHOUT_BOUNDARIES}）"
            ),
        )
        parser.add_argument(
            "--seed",
            default=None,
            help=(
                f"随机种子，非负整数（默认 {DEFAULT_SEED}，下一轮默认沿用上一轮的）；"
                "种子相同则输出相同"
            ),
        )
        parser.add_argument(
            "--as-of",
            dest="as_of",
            metavar="YYYY-MM-DD",
            help="摸排基准日（必填）：年龄、居住时长等按此日计算",
        )
        parser.add_argument(
            "--noise",
            default=None,
            metavar="名称=数值,...",
            help=(
                "干扰设置（比例为 0 到 1 的小数或百分数），如 "
                "--noise id_missing=0.1,name_swap=0.02,boundary_cases=0。可用的设置："
                + "；".join(f"{name}：{field.label}" for name, field in NOISE_FIELDS.items())
            ),
        )
        parser.add_argument(
            "--next-of",
            dest="next_of",
            metavar="PREVIOUS_DIR",
            default=None,
            help=(
                "生成 PREVIOUS_DIR 中合成县的下一轮（--as-of 须晚于上一轮）：部分家庭迁出、"
                "新家庭迁入、新生儿出生、走访更新；同一儿童的真值编号不变"
            ),
        )
        parser.add_argument(
            "--leave-share",
            dest="leave_share",
            default="0.05",
            help="下一轮：两轮之间迁出的家庭比例（默认 0.05）",
        )
        parser.add_argument(
            "--arrive-share",
            dest="arrive_share",
            default="0.05",
            help="下一轮：新迁入儿童占上一轮儿童人数的比例（默认 0.05）",
        )
        parser.add_argument(
            "--birth-share",
            dest="birth_share",
            default="0.04",
            help="下一轮：母亲 20–42 岁的家庭两轮之间生育的概率（默认 0.04）",
        )
        parser.add_argument(
            "--reissue",
            default=",".join(DEFAULT_REISSUE),
            metavar="来源,...",
            help=(
                "下一轮：记录编号重新生成的数据来源（默认 "
                + ",".join(DEFAULT_REISSUE)
                + "；none 表示都不变），其余来源沿用上一轮的记录编号"
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        as_of = option_date(options["as_of"], option="--as-of")
        out_dir = _out_dir(options["out_dir"])
        noise = _noise(options["noise"])
        previous = options["next_of"]
        if previous is None:
            children = _integer(options["children"] or DEFAULT_CHILDREN, "儿童人数（--children）")
            seed = _integer(options["seed"] or DEFAULT_SEED, "随机种子（--seed）")

            def run(report: Any) -> SynthSummary:
                return generate(
                    out_dir=out_dir,
                    children=children,
                    seed=seed,
                    as_of=as_of,
                    noise=noise,
                    progress=report,
                )

            expected = children
        else:
            if options["children"] is not None:
                msg = "生成下一轮（--next-of）时不能指定 --children：儿童沿用上一轮"
                raise CommandError(msg)
            next_seed = None
            if options["seed"] is not None:
                next_seed = _integer(options["seed"], "随机种子（--seed）")
            shares = {
                name: _share(options[name], option)
                for name, option in (
                    ("leave_share", "--leave-share"),
                    ("arrive_share", "--arrive-share"),
                    ("birth_share", "--birth-share"),
                )
            }
            reissue = _sources(options["reissue"])
            previous_dir = Path(previous)

            def run(report: Any) -> SynthSummary:
                return generate_next(
                    previous=previous_dir,
                    out_dir=out_dir,
                    as_of=as_of,
                    seed=next_seed,
                    noise=noise,
                    reissue=reissue,
                    progress=report,
                    **shares,
                )

            expected = 0
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
            task = progress.add_task("synth", total=expected or None)

            def report(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            try:
                summary = run(report)
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


def _noise(text: str | None) -> NoiseSettings | None:
    if text is None:
        return None
    try:
        return NoiseSettings.parse(text)
    except SynthError as exc:
        raise CommandError(f"--noise：{exc}") from None


def _share(text: str, option: str) -> float:
    try:
        value = float(str(text).strip())
    except ValueError:
        msg = f"{option} 应为 0 到 1 之间的小数，实为 {text!r}"
        raise CommandError(msg) from None
    if not 0 <= value <= 1:
        msg = f"{option} 应为 0 到 1 之间的小数，实为 {text!r}"
        raise CommandError(msg)
    return value


def _sources(text: str) -> tuple[str, ...]:
    if text.strip().lower() in NO_SOURCES:
        return ()
    return tuple(name.strip() for name in text.replace("，", ",").split(",") if name.strip())


def _integer(text: str | int, label: str) -> int:
    try:
        return int(str(text).strip())
    except ValueError:
        msg = f"{label}应为整数，实为 {text!r}"
        raise CommandError(msg) from None


def _summary_text(summary: SynthSummary) -> str:
    heading = "已生成合成县"
    if summary.round_number > 1:
        heading = f"已生成合成县的第 {summary.round_number} 轮（上一轮：{summary.previous}）"
    lines = [
        (
            f"{heading}：{summary.children} 名儿童（{summary.families} 户），"
            f"随机种子 {summary.seed}，摸排基准日 {summary.as_of.isoformat()}，"
            f"用时 {summary.seconds:.1f} 秒。"
        ),
        f"输出目录：{summary.out_dir}",
        "  divisions.csv  区划表（本县乡镇、村居及户籍地所在区县）",
        (
            f"  feeds/         {len(summary.feed_files)} 个报送文件，"
            f"另有 {len(summary.skipped_files)} 个一轮摸排应跳过的文件"
        ),
        "  truth/         真值：children.csv、services.csv、records.csv、noise.csv、synth.json",
    ]
    if summary.round_number > 1:
        lines.append(f"本轮新迁入儿童 {summary.arrivals} 名（另有两轮之间出生的新生儿）")
    changed = summary.noise.to_text()
    lines.append(f"干扰设置：{changed.replace(',', '，') if changed else '默认'}")
    lines.append("各来源写出行数：")
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
