"""A synthetic county for tonghu: department feeds in the exact format of feeds.md, with the
noise real exports carry, boundary cases of every rule of policy.md, and the truth.

Pure Python (no Django). ``generate`` writes into OUT_DIR:

- ``divisions.csv`` – the division table (feeds.md §5) of the county and the hukou places;
- ``feeds/`` – one or more files per source (feeds.md §1–§3) plus files a round must skip;
- ``truth/`` – ``children.csv`` (true classification by policy.md), ``services.csv``,
  ``records.csv`` (the true child of every written row and the expected reject reason) and
  ``noise.csv`` (every disturbance applied to a cell).

The same children, seed and reference date always give byte-identical files.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from tonghu.synth.draws import Dice
from tonghu.synth.emit import FeedWriter
from tonghu.synth.geo import Geography
from tonghu.synth.layout import LOCK_FILE, OTHER_FILE, README_FILE
from tonghu.synth.model import Child
from tonghu.synth.people import People
from tonghu.synth.population import Population
from tonghu.synth.records import Keys, RecordMaker
from tonghu.synth.scenarios import Scenarios
from tonghu.synth.truth import Policy

__all__ = ["MAX_CHILDREN", "MIN_CHILDREN", "SynthError", "SynthSummary", "generate"]

MIN_CHILDREN = 200  # room for every boundary case (about 100 children) and random families
MAX_CHILDREN = 20_000_000
PROGRESS_EVERY = 1000
EARLIEST_AS_OF = date(2000, 1, 1)

Progress = Callable[[int, int], None]


class SynthError(ValueError):
    """A bad argument; the message is in Chinese, for the user."""


@dataclass
class SynthSummary:
    out_dir: Path
    children: int
    families: int
    seed: int
    as_of: date
    feed_files: list[str]
    skipped_files: list[str]
    rows_by_source: dict[str, int]
    expected_rejects: dict[str, int]
    identical_repeats: int
    classified: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def generate(
    *,
    out_dir: Path,
    children: int,
    seed: int,
    as_of: date,
    progress: Progress | None = None,
) -> SynthSummary:
    """Write a synthetic county of ``children`` children into ``out_dir`` (see module doc)."""
    _check(out_dir=out_dir, children=children, as_of=as_of)
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    dice = Dice(seed)
    generator = np.random.default_rng(seed)
    geo = Geography(children=children, rng=dice.rng)
    people = People(dice=dice, generator=generator, geo=geo)
    keys = Keys()
    maker = RecordMaker(dice=dice, keys=keys, as_of=as_of)
    population = Population(
        geo=geo, people=people, records=maker, dice=dice, generator=generator, as_of=as_of
    )
    policy = Policy(as_of=as_of, is_central=geo.is_central, city_of=geo.city_of)
    writer = FeedWriter(
        out_dir=out_dir, total=children, dice=Dice(f"{seed}/noise"), keys=keys, as_of=as_of
    )
    done = families = 0
    for family in _all_families(population, as_of=as_of, children=children):
        families += 1
        for child in family:
            writer.child(child, policy.classify(child))
            done += 1
            if progress is not None and done % PROGRESS_EVERY == 0:
                progress(done, children)
    feed_files = writer.close()
    _write_divisions(out_dir / "divisions.csv", geo)
    skipped = _write_skipped_files(out_dir / "feeds")
    _write_truth_readme(out_dir / "truth" / "README.md")
    if progress is not None:
        progress(done, children)
    counts = writer.counts
    return SynthSummary(
        out_dir=out_dir,
        children=done,
        families=families,
        seed=seed,
        as_of=as_of,
        feed_files=feed_files,
        skipped_files=skipped,
        rows_by_source=dict(sorted(counts.rows.items())),
        expected_rejects=dict(sorted(counts.rejects.items())),
        identical_repeats=sum(counts.repeats.values()),
        classified=dict(counts.classified),
        seconds=time.perf_counter() - started,
    )


def _check(*, out_dir: Path, children: int, as_of: date) -> None:
    if not MIN_CHILDREN <= children <= MAX_CHILDREN:
        msg = (
            f"儿童人数应在 {MIN_CHILDREN} 到 {MAX_CHILDREN} 之间"
            f"（边界用例约需 100 名儿童），实为 {children}"
        )
        raise SynthError(msg)
    if as_of < EARLIEST_AS_OF:
        msg = f"摸排基准日 {as_of.isoformat()} 过早：应不早于 {EARLIEST_AS_OF.isoformat()}"
        raise SynthError(msg)
    if out_dir.exists() and not out_dir.is_dir():
        msg = f"输出位置 {out_dir} 已存在且不是目录"
        raise SynthError(msg)
    if out_dir.is_dir() and any(out_dir.iterdir()):
        msg = f"输出目录 {out_dir} 不为空：请指定新目录或先清空，以免新旧文件混在一起"
        raise SynthError(msg)


def _all_families(population: Population, *, as_of: date, children: int) -> Iterator[list[Child]]:
    scenarios = Scenarios(population, as_of=as_of)
    yield from scenarios.families()
    yield from population.families(first_ordinal=scenarios.count + 1, last_ordinal=children)


def _write_divisions(path: Path, geo: Geography) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("code", "name", "level", "parent_code", "central_urban"))
        writer.writerows(geo.divisions_rows())


def _write_skipped_files(feeds: Path) -> list[str]:
    """Files a round must report and skip: an Excel lock file, a note, unrelated data."""
    owner = "tonghu".encode("ascii")
    (feeds / LOCK_FILE).write_bytes(bytes([len(owner)]) + owner.ljust(53, b" ") + bytes(110))
    (feeds / README_FILE).write_text(
        "本文件夹为新华区本轮监测摸排各部门报送数据。\n文件名以数据来源开头，请勿改名。\n",
        encoding="utf-8",
    )
    (feeds / OTHER_FILE).write_text(
        "编号,内容\n1,与本轮摸排无关的统计数据\n2,仅供参考\n", encoding="utf-8"
    )
    return sorted([LOCK_FILE, README_FILE, OTHER_FILE])


TRUTH_README = """# 合成数据的真值（truth）

- `children.csv`：每名真实儿童一行，按 policy.md 默认规则由真实事实计算的认定结果。
  列与 feeds.md §6 children.csv 对应（`true_child_id` 代替 `child_id`），另加
  `is_resident`（基准日是否在本地居住）和 `scenario`（边界用例代码，随机儿童为空）。
  `sex` 为 男/女；日期为 YYYY-MM-DD；布尔值为 1/0。
- `services.csv`：流动儿童可享受的基础清单服务（policy.md §7），`true_child_id,service_code`。
- `records.csv`：feeds/ 中写出的每一行数据对应的真实儿童：`source,record_key,true_child_id,
  expected_reject,identical_repeat,file,sheet,row`。`expected_reject` 为应拒收的原因代码
  （feeds.md §4，多个以 `;` 连接），空表示应接收；`identical_repeat=1` 表示与前一行完全相同的
  重复行（应忽略，不拒收）。`row` 为该文件（工作表）内从 1 开始的数据行号（不含表头）。
- `noise.csv`：对单元格施加的每一种干扰：`source,file,sheet,row,column,kind`
  （如 id_bad_check 校验位错误、id_legacy15 十五位旧号、name_homophone 同音字等）。

边界用例的儿童只施加不丢失信息的干扰（格式、全角、小写 x 等），其真值可由一轮摸排准确得到。
"""


def _write_truth_readme(path: Path) -> None:
    path.write_text(TRUTH_README, encoding="utf-8")
