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
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from tonghu.synth.geo import Geography
from tonghu.synth.layout import LOCK_FILE, OTHER_FILE, README_FILE
from tonghu.synth.merge import merge
from tonghu.synth.shard import (
    PROGRESS_FILE,
    RESULT_FILE,
    SHARDS,
    ShardResult,
    ShardSpec,
    geography,
    result_from_json,
    run_shard,
)

__all__ = ["MAX_CHILDREN", "MIN_CHILDREN", "SynthError", "SynthSummary", "generate"]

MIN_CHILDREN = 300  # the first shard (half the county) holds every boundary case (~90 children)
MAX_CHILDREN = 5_000_000  # record-key serial numbers are sized for this
MAX_SEED = 2**63 - 1
EARLIEST_AS_OF = date(2000, 1, 1)
LATEST_AS_OF = date(2099, 12, 31)
PARALLEL_FROM = 20_000  # below this, running the shards here is faster than starting processes
POLL_SECONDS = 0.5
WORK_FOLDER = ".synth-work"

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
    _check(out_dir=out_dir, children=children, seed=seed, as_of=as_of)
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    work = out_dir / WORK_FOLDER
    specs = [
        ShardSpec(shard=k, children=children, seed=seed, as_of=as_of, work=work / f"shard-{k}")
        for k in range(SHARDS)
    ]
    if children < PARALLEL_FROM:
        results = _run_here(specs, progress)
    else:
        results = _run_in_processes(specs, progress)
    feed_files = merge(out_dir=out_dir, works=[s.work for s in specs], results=results)
    geo = geography(children, seed)
    for result in results:
        geo.used_counties |= result.used_counties
    _write_divisions(out_dir / "divisions.csv", geo)
    skipped = _write_skipped_files(out_dir / "feeds")
    _write_truth_readme(out_dir / "truth" / "README.md")
    shutil.rmtree(work)
    return _summary(
        out_dir=out_dir,
        seed=seed,
        as_of=as_of,
        results=results,
        feed_files=feed_files,
        skipped=skipped,
        started=started,
    )


def _summary(
    *,
    out_dir: Path,
    seed: int,
    as_of: date,
    results: list[ShardResult],
    feed_files: list[str],
    skipped: list[str],
    started: float,
) -> SynthSummary:
    rows: Counter[str] = Counter()
    rejects: Counter[str] = Counter()
    repeats: Counter[str] = Counter()
    classified: Counter[str] = Counter()
    for result in results:
        rows.update(result.counts.rows)
        rejects.update(result.counts.rejects)
        repeats.update(result.counts.repeats)
        classified.update(result.counts.classified)
    return SynthSummary(
        out_dir=out_dir,
        children=sum(r.children for r in results),
        families=sum(r.families for r in results),
        seed=seed,
        as_of=as_of,
        feed_files=feed_files,
        skipped_files=skipped,
        rows_by_source=dict(sorted(rows.items())),
        expected_rejects=dict(sorted(rejects.items())),
        identical_repeats=sum(repeats.values()),
        classified=dict(classified),
        seconds=time.perf_counter() - started,
    )


def _run_here(specs: list[ShardSpec], progress: Progress | None) -> list[ShardResult]:
    """The shards one after the other in this process."""
    results: list[ShardResult] = []
    total = specs[0].children
    for spec in specs:
        offset = sum(r.children for r in results)

        def report(done: int, offset: int = offset) -> None:
            if progress is not None:
                progress(offset + done, total)

        results.append(run_shard(spec, report))
    return results


def _run_in_processes(specs: list[ShardSpec], progress: Progress | None) -> list[ShardResult]:
    """Each shard in its own Python process (``python -m tonghu.synth.worker``), which needs
    nothing from the caller: no start method, main-module guard or pickling."""
    environment = dict(os.environ)
    package_root = str(Path(__file__).resolve().parents[2])
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [package_root, environment.get("PYTHONPATH", "")])
    )
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for spec in specs:
            spec.work.mkdir(parents=True, exist_ok=True)
            command = [
                sys.executable, "-m", "tonghu.synth.worker", str(spec.shard), str(spec.children),
                str(spec.seed), spec.as_of.isoformat(), str(spec.work),
            ]  # fmt: skip
            with (spec.work / "stderr.txt").open("wb") as errors:
                processes.append(
                    subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
                        command, stdout=subprocess.DEVNULL, stderr=errors, env=environment
                    )
                )
        _wait(specs, processes, progress)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    return [
        result_from_json((spec.work / RESULT_FILE).read_text(encoding="utf-8")) for spec in specs
    ]


def _wait(
    specs: list[ShardSpec], processes: list[subprocess.Popen[bytes]], progress: Progress | None
) -> None:
    total = specs[0].children
    while True:
        codes = [process.poll() for process in processes]
        for spec, code in zip(specs, codes, strict=True):
            if code not in (None, 0):
                detail = (spec.work / "stderr.txt").read_text(encoding="utf-8", errors="replace")
                msg = f"生成第 {spec.shard + 1} 部分的进程出错（退出码 {code}）：\n{detail[-2000:]}"
                raise RuntimeError(msg)
        if progress is not None:
            progress(sum(_progress_of(spec) for spec in specs), total)
        if all(code == 0 for code in codes):
            return
        time.sleep(POLL_SECONDS)


def _progress_of(spec: ShardSpec) -> int:
    try:
        return int((spec.work / PROGRESS_FILE).read_text(encoding="ascii") or 0)
    except (OSError, ValueError):
        return 0


def _check(*, out_dir: Path, children: int, seed: int, as_of: date) -> None:
    if not MIN_CHILDREN <= children <= MAX_CHILDREN:
        msg = (
            f"儿童人数应在 {MIN_CHILDREN} 到 {MAX_CHILDREN} 之间"
            f"（其中约 100 名为边界用例），实为 {children}"
        )
        raise SynthError(msg)
    if not 0 <= seed <= MAX_SEED:
        msg = f"随机种子应为 0 到 {MAX_SEED} 之间的整数，实为 {seed}"
        raise SynthError(msg)
    if not EARLIEST_AS_OF <= as_of <= LATEST_AS_OF:
        msg = (
            f"摸排基准日 {as_of.isoformat()} 超出范围："
            f"应在 {EARLIEST_AS_OF.isoformat()} 至 {LATEST_AS_OF.isoformat()} 之间"
        )
        raise SynthError(msg)
    if out_dir.exists() and not out_dir.is_dir():
        msg = f"输出位置 {out_dir} 已存在且不是目录"
        raise SynthError(msg)
    if out_dir.is_dir() and any(out_dir.iterdir()):
        msg = f"输出目录 {out_dir} 不为空：请指定新目录或先清空，以免新旧文件混在一起"
        raise SynthError(msg)


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
