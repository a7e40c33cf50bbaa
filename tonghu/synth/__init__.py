"""A synthetic county for tonghu: department feeds in the exact format of feeds.md, with the
noise real exports carry, boundary cases of every rule of policy.md, and the truth.

Pure Python (no Django). ``generate`` writes into OUT_DIR:

- ``divisions.csv`` – the division table (feeds.md §5) of the county and the hukou places;
- ``feeds/`` – one or more files per source (feeds.md §1–§3) plus files a round must skip;
- ``truth/`` – ``children.csv`` (true classification by policy.md), ``services.csv``,
  ``records.csv`` (the true child of every written row and the expected reject reason),
  ``noise.csv`` (every disturbance applied to a cell) and ``synth.json`` (how the county was
  generated: what ``generate_next`` needs to write its next round).

How much of each kind of noise a county carries is a ``NoiseSettings`` (settings.py); the
defaults are the noise synth has always written. ``generate_next`` writes the same county's
next round (evolve.py): a later reference date, children leaving and arriving, newborns, keys
kept by some sources and re-issued by others, new visits; the true child ids stay the same.

The same children, seed, reference date and settings always give byte-identical files.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from tonghu.synth.columns import SOURCE_BY_NAME
from tonghu.synth.evolve import DEFAULT_REISSUE, RoundSpec
from tonghu.synth.geo import Geography
from tonghu.synth.layout import LOCK_FILE, OTHER_FILE, README_FILE
from tonghu.synth.merge import merge
from tonghu.synth.settings import DEFAULT_SETTINGS, FIELDS, NoiseSettings, SynthError
from tonghu.synth.shard import (
    PROGRESS_FILE,
    RESULT_FILE,
    SHARDS,
    SPEC_FILE,
    ShardResult,
    ShardSpec,
    geography,
    result_from_json,
    round_from_json,
    round_to_json,
    run_shard,
    spec_to_json,
)

__all__ = [
    "DEFAULT_REISSUE",
    "MAX_CHILDREN",
    "MIN_CHILDREN",
    "MIN_CHILDREN_WITHOUT_BOUNDARIES",
    "NOISE_FIELDS",
    "NoiseSettings",
    "SynthError",
    "SynthSummary",
    "generate",
    "generate_next",
]

NOISE_FIELDS = FIELDS
MIN_CHILDREN = 300  # the first shard (half the county) holds every boundary case (~90 children)
MIN_CHILDREN_WITHOUT_BOUNDARIES = 20  # NoiseSettings(boundary_cases=False)
MAX_CHILDREN = 5_000_000  # record-key serial numbers are sized for this
MAX_SEED = 2**63 - 1
EARLIEST_AS_OF = date(2000, 1, 1)
LATEST_AS_OF = date(2099, 12, 31)
PARALLEL_FROM = 20_000  # below this, running the shards here is faster than starting processes
POLL_SECONDS = 0.5
WORK_FOLDER = ".synth-work"
STATE_FILE = "synth.json"  # in truth/
STATE_FORMAT = 1
DEFAULT_LEAVE_SHARE = 0.05
DEFAULT_ARRIVE_SHARE = 0.05
DEFAULT_BIRTH_SHARE = 0.04
# A key made of the holder's ID number cannot be re-issued.
NOT_REISSUABLE = frozenset({"disability_cert"})

Progress = Callable[[int, int], None]


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
    noise: NoiseSettings = DEFAULT_SETTINGS
    round_number: int = 1  # 1 for a new county, 2 for its next round, ...
    previous: Path | None = None  # the folder of the previous round
    arrivals: int = 0  # children of families that came since the previous round
    last_ordinal: int = 0  # the largest true child number (true_child_id T0000123 is 123)


def generate(
    *,
    out_dir: Path,
    children: int,
    seed: int,
    as_of: date,
    noise: NoiseSettings | None = None,
    progress: Progress | None = None,
) -> SynthSummary:
    """Write a synthetic county of ``children`` children into ``out_dir`` (see module doc),
    with the noise of ``noise`` (default: ``NoiseSettings()``)."""
    settings = _settings(noise)
    _check(out_dir=out_dir, children=children, seed=seed, as_of=as_of, noise=settings)
    first = RoundSpec(as_of=as_of, seed=seed, noise=settings)
    return _generate(
        out_dir=out_dir, children=children, rounds=(first,), history=[], progress=progress
    )


def generate_next(
    *,
    previous: Path,
    out_dir: Path,
    as_of: date,
    seed: int | None = None,
    leave_share: float = DEFAULT_LEAVE_SHARE,
    arrive_share: float = DEFAULT_ARRIVE_SHARE,
    birth_share: float = DEFAULT_BIRTH_SHARE,
    reissue: Sequence[str] = DEFAULT_REISSUE,
    noise: NoiseSettings | None = None,
    progress: Progress | None = None,
) -> SynthSummary:
    """Write the next round of the county in ``previous`` (a folder written by ``generate`` or
    ``generate_next``) into ``out_dir``, at the later reference date ``as_of``.

    Between the rounds, families move away with chance ``leave_share`` (their permits are
    cancelled, school records 转出, and records that need them here gone), families with
    ``arrive_share`` times the previous round's children arrive, a family with a mother of
    20–42 has a baby with chance ``birth_share``, and the sources in ``reissue`` give their
    records new keys (the others keep them). ``seed`` and ``noise`` default to the previous
    round's. True child ids stay the same for the same child.
    """
    chosen = tuple(dict.fromkeys(reissue))
    _check_changes(
        shares={"leave_share": leave_share, "arrive_share": arrive_share,
                "birth_share": birth_share},
        reissue=chosen,
    )  # fmt: skip
    state = read_state(previous)
    history = list(state["rounds"])
    rounds = tuple(round_from_json(item) for item in history)
    children = int(state["children"])
    last = rounds[-1]
    settings = last.noise if noise is None else _settings(noise)
    seed = last.seed if seed is None else seed
    _check_next(previous=previous, out_dir=out_dir, as_of=as_of, after=last.as_of, seed=seed)
    outcome = history[-1]["result"]
    spec = RoundSpec(
        as_of=as_of,
        seed=seed,
        noise=settings,
        leave_share=float(leave_share),
        arrive_share=float(arrive_share),
        birth_share=float(birth_share),
        reissue=chosen,
        arrivals=round(arrive_share * int(outcome["children"])),
        key_counts={str(k): int(v) for k, v in outcome["key_counts"].items()},
        first_ordinal=int(outcome["last_ordinal"]),
    )
    return _generate(
        out_dir=out_dir,
        children=children,
        rounds=(*rounds, spec),
        history=history,
        progress=progress,
        previous=previous,
    )


def read_state(folder: Path) -> dict[str, Any]:
    """truth/synth.json of a county folder: how it was generated (SynthError if missing)."""
    path = folder / "truth" / STATE_FILE
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        msg = (
            f"找不到 {path}：上一轮须是本版本 tonghu synth 生成的合成县目录"
            "（其中 truth/synth.json 记录了生成参数）"
        )
        raise SynthError(msg) from None
    except (OSError, ValueError) as exc:
        msg = f"无法读取上一轮的生成参数 {path}：{exc}"
        raise SynthError(msg) from None
    if (
        not isinstance(state, dict)
        or state.get("format") != STATE_FORMAT
        or not state.get("rounds")
    ):
        msg = f"{path} 不是本版本 tonghu synth 写出的生成参数文件"
        raise SynthError(msg)
    return state


def _settings(noise: NoiseSettings | None) -> NoiseSettings:
    if noise is None:
        return DEFAULT_SETTINGS
    if not isinstance(noise, NoiseSettings):
        msg = f"干扰设置应为 NoiseSettings，实为 {type(noise).__name__}"
        raise SynthError(msg)
    return noise


def _generate(
    *,
    out_dir: Path,
    children: int,
    rounds: tuple[RoundSpec, ...],
    history: list[dict[str, Any]],
    progress: Progress | None,
    previous: Path | None = None,
) -> SynthSummary:
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    work = out_dir / WORK_FOLDER
    specs = [
        ShardSpec(shard=k, children=children, rounds=rounds, work=work / f"shard-{k}")
        for k in range(SHARDS)
    ]
    total = children
    if history:
        total = int(history[-1]["result"]["children"]) + rounds[-1].arrivals
    if children < PARALLEL_FROM:
        results = _run_here(specs, total, progress)
    else:
        results = _run_in_processes(specs, total, progress)
    _check_replay(results, history, work)
    feed_files = merge(out_dir=out_dir, works=[s.work for s in specs], results=results)
    geo = geography(children, rounds[0].seed)
    for result in results:
        geo.used_counties |= result.used_counties
    _write_divisions(out_dir / "divisions.csv", geo)
    skipped = _write_skipped_files(out_dir / "feeds")
    _write_truth_readme(out_dir / "truth" / "README.md")
    summary = _summary(
        out_dir=out_dir,
        rounds=rounds,
        results=results,
        feed_files=feed_files,
        skipped=skipped,
        started=started,
        previous=previous,
    )
    _write_state(
        out_dir / "truth" / STATE_FILE,
        children,
        rounds=rounds,
        history=history,
        results=results,
        summary=summary,
    )
    shutil.rmtree(work)
    return summary


def _check_replay(results: list[ShardResult], history: list[dict[str, Any]], work: Path) -> None:
    """Each earlier round, replayed, must give the rows its own folder holds."""
    for number, item in enumerate(history):
        expected = item["result"].get("fingerprints", [])
        got = [r.fingerprints[number] for r in sorted(results, key=lambda r: r.shard)]
        if expected and got != expected:
            shutil.rmtree(work, ignore_errors=True)
            msg = (
                f"按上一轮的生成参数重新生成第 {number + 1} 轮，结果与其目录中的数据不一致："
                "上一轮可能由另一版本的 tonghu synth 生成，请用同一版本重新生成各轮"
            )
            raise SynthError(msg)


def _write_state(
    path: Path,
    children: int,
    *,
    rounds: tuple[RoundSpec, ...],
    history: list[dict[str, Any]],
    results: list[ShardResult],
    summary: SynthSummary,
) -> None:
    ordered = sorted(results, key=lambda r: r.shard)
    key_counts: dict[str, int] = {}
    for result in ordered:
        for source, count in result.key_counts.items():
            key_counts[source] = max(key_counts.get(source, 0), count)
    this = round_to_json(rounds[-1])
    this["result"] = {
        "children": summary.children,
        "last_ordinal": summary.last_ordinal,
        "key_counts": dict(sorted(key_counts.items())),
        "fingerprints": [result.fingerprints[-1] for result in ordered],
    }
    state = {
        "generator": "tonghu synth",
        "format": STATE_FORMAT,
        "children": children,
        "rounds": [*history, this],
    }
    path.write_text(json.dumps(state, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def _summary(
    *,
    out_dir: Path,
    rounds: tuple[RoundSpec, ...],
    results: list[ShardResult],
    feed_files: list[str],
    skipped: list[str],
    started: float,
    previous: Path | None,
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
    last = rounds[-1]
    return SynthSummary(
        out_dir=out_dir,
        children=sum(r.children for r in results),
        families=sum(r.families for r in results),
        seed=last.seed,
        as_of=last.as_of,
        feed_files=feed_files,
        skipped_files=skipped,
        rows_by_source=dict(sorted(rows.items())),
        expected_rejects=dict(sorted(rejects.items())),
        identical_repeats=sum(repeats.values()),
        classified=dict(classified),
        seconds=time.perf_counter() - started,
        noise=last.noise,
        round_number=len(rounds),
        previous=previous,
        arrivals=last.arrivals,
        last_ordinal=max(r.last_ordinal for r in results),
    )


def _run_here(specs: list[ShardSpec], total: int, progress: Progress | None) -> list[ShardResult]:
    """The shards one after the other in this process."""
    results: list[ShardResult] = []
    for spec in specs:
        offset = sum(r.children for r in results)

        def report(done: int, offset: int = offset) -> None:
            if progress is not None:
                progress(offset + done, max(total, offset + done))

        results.append(run_shard(spec, report))
    return results


def _run_in_processes(
    specs: list[ShardSpec], total: int, progress: Progress | None
) -> list[ShardResult]:
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
            (spec.work / SPEC_FILE).write_text(spec_to_json(spec), encoding="utf-8")
            command = [sys.executable, "-m", "tonghu.synth.worker", str(spec.work)]
            with (spec.work / "stderr.txt").open("wb") as errors:
                processes.append(
                    subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
                        command, stdout=subprocess.DEVNULL, stderr=errors, env=environment
                    )
                )
        _wait(specs, processes, total, progress)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    return [
        result_from_json((spec.work / RESULT_FILE).read_text(encoding="utf-8")) for spec in specs
    ]


def _wait(
    specs: list[ShardSpec],
    processes: list[subprocess.Popen[bytes]],
    total: int,
    progress: Progress | None,
) -> None:
    while True:
        codes = [process.poll() for process in processes]
        for spec, code in zip(specs, codes, strict=True):
            if code not in (None, 0):
                detail = (spec.work / "stderr.txt").read_text(encoding="utf-8", errors="replace")
                msg = f"生成第 {spec.shard + 1} 部分的进程出错（退出码 {code}）：\n{detail[-2000:]}"
                raise RuntimeError(msg)
        if progress is not None:
            done = sum(_progress_of(spec) for spec in specs)
            progress(done, max(total, done))
        if all(code == 0 for code in codes):
            return
        time.sleep(POLL_SECONDS)


def _progress_of(spec: ShardSpec) -> int:
    try:
        return int((spec.work / PROGRESS_FILE).read_text(encoding="ascii") or 0)
    except (OSError, ValueError):
        return 0


def _check(*, out_dir: Path, children: int, seed: int, as_of: date, noise: NoiseSettings) -> None:
    if noise.boundary_cases and not MIN_CHILDREN <= children <= MAX_CHILDREN:
        msg = (
            f"儿童人数应在 {MIN_CHILDREN} 到 {MAX_CHILDREN} 之间"
            f"（其中约 100 名为边界用例；不要边界用例时可少至 "
            f"{MIN_CHILDREN_WITHOUT_BOUNDARIES} 名：--noise boundary_cases=0），实为 {children}"
        )
        raise SynthError(msg)
    if not MIN_CHILDREN_WITHOUT_BOUNDARIES <= children <= MAX_CHILDREN:
        msg = (
            f"儿童人数应在 {MIN_CHILDREN_WITHOUT_BOUNDARIES} 到 {MAX_CHILDREN} 之间"
            f"（不生成边界用例时），实为 {children}"
        )
        raise SynthError(msg)
    _check_seed(seed)
    _check_as_of(as_of)
    _check_out_dir(out_dir)


def _check_seed(seed: int) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        msg = f"随机种子应为 0 到 {MAX_SEED} 之间的整数，实为 {seed}"
        raise SynthError(msg)


def _check_as_of(as_of: date) -> None:
    if not EARLIEST_AS_OF <= as_of <= LATEST_AS_OF:
        msg = (
            f"摸排基准日 {as_of.isoformat()} 超出范围："
            f"应在 {EARLIEST_AS_OF.isoformat()} 至 {LATEST_AS_OF.isoformat()} 之间"
        )
        raise SynthError(msg)


def _check_next(*, previous: Path, out_dir: Path, as_of: date, after: date, seed: int) -> None:
    _check_seed(seed)
    _check_as_of(as_of)
    if as_of <= after:
        msg = f"下一轮的摸排基准日 {as_of.isoformat()} 应晚于上一轮的 {after.isoformat()}"
        raise SynthError(msg)
    if out_dir.resolve() == previous.resolve():
        msg = f"下一轮的输出目录不能是上一轮的目录 {previous}"
        raise SynthError(msg)
    _check_out_dir(out_dir)


def _check_changes(*, shares: dict[str, float], reissue: tuple[str, ...]) -> None:
    labels = {"leave_share": "迁出比例", "arrive_share": "迁入比例", "birth_share": "新生儿比例"}
    for name, value in shares.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            msg = f"{labels[name]}（{name}）应在 0 到 1 之间，实为 {value!r}"
            raise SynthError(msg)
    unknown = [name for name in reissue if name not in SOURCE_BY_NAME]
    if unknown:
        msg = f"未知的数据来源：{'、'.join(unknown)}。可用的来源有：{'、'.join(SOURCE_BY_NAME)}"
        raise SynthError(msg)
    fixed = [name for name in reissue if name in NOT_REISSUABLE]
    if fixed:
        msg = f"{'、'.join(fixed)} 的记录编号由身份证号构成，不能重新编号"
        raise SynthError(msg)


def _check_out_dir(out_dir: Path) -> None:
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
  （如 id_bad_check 校验位错误、id_legacy15 十五位旧号、name_homophone 同音字等；按干扰设置
  还可能有 name_swap 名字两字颠倒、name_placeholder 早期记录仍用“某某之子/之女”、
  birth_shift 出生日期差一天、residence_code_missing / hukou_code_missing 区划代码留空、
  address_no_province / address_county_short / address_town_village / address_street_office
  现住址写法、key_reuse 误用上一行的记录编号）。
- `synth.json`：生成参数（儿童人数、各轮的随机种子、基准日、干扰设置等），
  `tonghu synth 新目录 --next-of 本目录` 据此生成同一县的下一轮。

边界用例的儿童只施加不丢失信息的干扰（格式、全角、小写 x 等），其真值可由一轮摸排准确得到。
下一轮中，同一儿童的 `true_child_id` 不变；新生儿和新迁入的儿童编号接在上一轮之后。
"""


def _write_truth_readme(path: Path) -> None:
    path.write_text(TRUTH_README, encoding="utf-8")
