"""Province-scale linkage on Spark (local mode): time, memory and pair counts by size, and
from their growth an estimate of the Spark cluster a province of 50 million children needs.

    .venv/bin/python bench/scale_bench.py [--sizes 1000000,3000000] [--seed 5]
        [--data var/bench/scale] [--driver-memory 4g] [--duckdb-memory 4GB]
    .venv/bin/python bench/scale_bench.py --sizes 50000      # smoke test (a few minutes)

For each size, a ``tonghu synth`` county is generated and ingested (cached under --data, so
re-runs skip both; their times are shown apart, never in the linkage time) and the blocked
comparisons are counted exactly in DuckDB. Then tonghu.pipeline.link runs with
``engine="spark"`` (local mode unless TONGHU_SPARK_MASTER) in its own process, so that its
peak memory is its own: the driver's (Python + DuckDB) from getrusage, the Spark JVM's from
VmHWM in /proc, polled from here, with the Spark/DuckDB scratch disk. Each step of the
linkage is timed (wall, JVM CPU and driver CPU) by wrapping the pipeline's functions.

Issue 11 point 4. Each size is stopped after --timeout seconds or when the machine's
available memory falls below --min-free-mb (other work runs here too).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from link_bench import _generate, _ingest, _thresholds
from scale_report import report

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT / "var" / "bench" / "scale"
RESULT_FILE = "scale-result.json"
PREPARED_FILE = "prepared.json"
MARKS_FILE = "link-marks.jsonl"  # the linkage's step marks as they happen
MIN_FREE_DISK_GB = 8  # stop a size before Spark's scratch files fill the disk
TICK = os.sysconf("SC_CLK_TCK")
MB = 1024 * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,3000000", help="children, comma-separated")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="cache of synth data")
    parser.add_argument("--driver-memory", default="4g", help="spark.driver.memory (local mode)")
    parser.add_argument("--duckdb-memory", default="4GB", help="DuckDB memory_limit (round's)")
    parser.add_argument("--timeout", type=float, default=2400, help="seconds per size's linkage")
    parser.add_argument("--min-free-mb", type=int, default=1500, help="stop below this")
    parser.add_argument("--target-hours", type=float, default=2.0, help="cluster wall time")
    parser.add_argument("--core-speed", type=float, default=1.0, help="cluster core / this core")
    parser.add_argument("--efficiency", type=float, default=0.6, help="cluster parallel eff.")
    parser.add_argument("--cores-per-executor", type=int, default=4)
    parser.add_argument("--driver-cores", type=int, default=16, help="cluster driver's cores")
    parser.add_argument("--reuse", action="store_true", help="report saved results, run nothing")
    parser.add_argument("--prepare", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--link", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        print(json.dumps(_prepare(args.prepare, args)))
        return
    if args.link:
        print(json.dumps(_link(args.link, args)))
        return
    sizes = [int(size) for size in args.sizes.split(",")]
    report([_size(children, args) for children in sizes], args)


# -- one size, from the parent ---------------------------------------------------------


def _folder(children: int, args: argparse.Namespace) -> Path:
    return Path(args.data).resolve() / f"children-{children}-seed-{args.seed}"


def _size(children: int, args: argparse.Namespace) -> dict[str, Any]:
    folder = _folder(children, args)
    saved = folder / RESULT_FILE
    if args.reuse:
        if not saved.exists():
            return {"children": children, "failed": f"no saved result in {saved}"}
        result: dict[str, Any] = json.loads(saved.read_text(encoding="utf-8"))
        return result
    _say(f"[{children:,}] preparing data in {folder} (generate, ingest, count pairs) ...")
    prepared, _ = _child(["--prepare", str(children)], args, folder, watch=False)
    if "failed" in prepared:
        return {"children": children, **prepared}
    _say(f"[{children:,}] linking on Spark ...")
    linked, watch = _child(["--link", str(children)], args, folder, watch=True)
    result = {"children": children, "seed": args.seed, "prepared": prepared, **linked}
    result["watch"] = watch
    if result.get("failed"):  # the steps it finished before it failed or was stopped
        result["steps"] = _spans(_read_marks(folder / MARKS_FILE))
    saved.write_text(json.dumps(result, indent=1), encoding="utf-8")
    return result


def _child(
    extra: list[str], args: argparse.Namespace, folder: Path, *, watch: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run this script in a child process (its own session, so it can be stopped whole);
    the last line of its output is its JSON result."""
    folder.mkdir(parents=True, exist_ok=True)
    work = folder / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    command = [
        sys.executable, __file__, *extra, "--seed", str(args.seed), "--data", str(args.data),
        "--driver-memory", args.driver_memory, "--duckdb-memory", args.duckdb_memory,
    ]  # fmt: skip
    out_path, err_path = folder / f"{extra[0][2:]}.out", folder / f"{extra[0][2:]}.err"
    with out_path.open("w") as out, err_path.open("w") as err:
        process = subprocess.Popen(  # noqa: S603 - this script, fixed arguments
            command, stdout=out, stderr=err, start_new_session=True
        )
        watcher = Watcher(process.pid, work, args.min_free_mb * 1024)
        watcher.start()
        try:
            process.wait(timeout=args.timeout if watch else None)
        except subprocess.TimeoutExpired:
            watcher.stopped = f"over the --timeout of {args.timeout:.0f} s"
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        finally:
            watcher.finish()
    shutil.rmtree(work, ignore_errors=True)
    lines = out_path.read_text(encoding="utf-8").splitlines()
    for line in lines[:-1]:
        _say(f"    {line}")
    if watcher.stopped or process.returncode != 0 or not lines:
        detail = watcher.stopped or f"exit code {process.returncode}"
        errors = err_path.read_text(encoding="utf-8", errors="replace").splitlines()
        tail = "\n".join(e for e in errors if e.strip() and "[Stage " not in e)[-3000:]
        _say(f"    FAILED ({detail}); last of {err_path}:\n{tail}")
        return {"failed": detail, "stderr_tail": tail[-800:]}, watcher.summary()
    result: dict[str, Any] = json.loads(lines[-1])
    return result, watcher.summary()


class Watcher(threading.Thread):
    """Polls a process tree's memory (VmHWM, VmRSS), the machine's available memory and the
    scratch folder's size; kills the tree (its own session) when memory runs short."""

    def __init__(self, root: int, work: Path, min_free_kb: int) -> None:
        super().__init__(daemon=True)
        self.root, self.work, self.min_free_kb = root, work, min_free_kb
        self.hwm_kb: dict[int, tuple[str, int]] = {}  # pid -> (name, VmHWM)
        self.peak_tree_kb = 0
        self.min_available_kb = _meminfo("MemAvailable")
        self.peak_disk = 0
        self.peak_load = 0.0
        self.loads: list[float] = []
        self.stopped = ""
        self._done = threading.Event()

    def run(self) -> None:
        samples = 0
        while not self._done.wait(0.5):
            self._sample(disk=samples % 6 == 0)
            samples += 1

    def finish(self) -> None:
        self._done.set()
        self.join()

    def _sample(self, *, disk: bool) -> None:
        tree = 0
        for pid in _descendants(self.root):
            status = _status(pid)
            if status is None:
                continue
            name, hwm, rss = status
            tree += rss
            if hwm > self.hwm_kb.get(pid, ("", 0))[1]:
                self.hwm_kb[pid] = (name, hwm)
        self.peak_tree_kb = max(self.peak_tree_kb, tree)
        available = _meminfo("MemAvailable")
        self.min_available_kb = min(self.min_available_kb, available)
        self.peak_load = max(self.peak_load, os.getloadavg()[0])
        self.loads.append(os.getloadavg()[0])
        if disk:
            self.peak_disk = max(self.peak_disk, _disk_usage(self.work))
            free_gb = shutil.disk_usage(self.work).free / 1024**3
            if free_gb < MIN_FREE_DISK_GB:
                self._halt(f"disk nearly full ({free_gb:.1f} GB free)")
        if available < self.min_free_kb:
            self._halt(f"machine memory nearly exhausted ({available // 1024} MB available)")

    def _halt(self, reason: str) -> None:
        if not self.stopped:
            self.stopped = reason
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.root, signal.SIGKILL)

    def summary(self) -> dict[str, Any]:
        java = [hwm for name, hwm in self.hwm_kb.values() if name == "java"]
        others = [h for pid, (n, h) in self.hwm_kb.items() if n != "java" and pid != self.root]
        return {
            "jvm_peak_mb": max(java, default=0) / 1024,
            "driver_hwm_mb": self.hwm_kb.get(self.root, ("", 0))[1] / 1024,
            "other_peak_mb": sum(others) / 1024,
            "tree_peak_mb": self.peak_tree_kb / 1024,
            "min_available_mb": self.min_available_kb / 1024,
            "disk_peak_mb": self.peak_disk / MB,
            "load_peak": self.peak_load,
            "load_mean": sum(self.loads) / max(len(self.loads), 1),
        }


def _descendants(root: int) -> list[int]:
    """root and every process below it (from /proc/*/stat)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [root]
    while queue:
        pid = queue.pop()
        found.append(pid)
        queue.extend(children.get(pid, []))
    return found


def _status(pid: int) -> tuple[str, int, int] | None:
    """(name, VmHWM kB, VmRSS kB) of a process, None once it has gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return None
    fields = dict(line.split(":", 1) for line in lines if ":" in line)
    if "VmHWM" not in fields:
        return None
    return (
        fields["Name"].strip(),
        int(fields["VmHWM"].split()[0]),
        int(fields["VmRSS"].split()[0]),
    )


def _meminfo(key: str) -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _disk_usage(folder: Path) -> int:
    total = 0
    for path, _, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += (Path(path) / name).stat().st_blocks * 512
    return total


def _say(text: str) -> None:
    print(text, flush=True)


# -- child: generate, ingest, count pairs (cached) --------------------------------------


def _prepare(children: int, args: argparse.Namespace) -> dict[str, Any]:
    folder = _folder(children, args)
    cached = folder / PREPARED_FILE
    if cached.exists():
        prepared: dict[str, Any] = json.loads(cached.read_text(encoding="utf-8"))
        return {**prepared, "cached": True}
    county, records = folder / "county", folder / "records" / "records.parquet"
    started = time.perf_counter()
    if not (county / "divisions.csv").exists():
        partial = folder / "county.partial"
        shutil.rmtree(partial, ignore_errors=True)
        _generate(partial, children, args.seed)
        partial.rename(county)
    generated = time.perf_counter()
    if not records.exists():
        partial = folder / "records.partial"
        shutil.rmtree(partial, ignore_errors=True)
        _ingest(county, partial, args.duckdb_memory)
        partial.rename(records.parent)
    ingested = time.perf_counter()
    pairs = _count_pairs(records, folder / "work", args.duckdb_memory)
    prepared = {
        "generate_s": generated - started,
        "ingest_s": ingested - generated,
        "count_s": time.perf_counter() - ingested,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "records_file": str(records),
        **pairs,
    }
    cached.write_text(json.dumps(prepared, indent=1), encoding="utf-8")
    return prepared


def _count_pairs(records: Path, work: Path, memory: str) -> dict[str, Any]:
    """The comparisons the linkage makes, counted exactly in DuckDB on the linkage's own
    input table: prediction (each rule's new pairs) and the two EM sessions' blocks."""
    from splink import DuckDBAPI, block_on  # noqa: PLC0415
    from splink.blocking_analysis import count_comparisons_from_blocking_rules  # noqa: PLC0415

    from tonghu.pipeline.link import _INPUT, PREDICTION_RULES, RECORD_ID  # noqa: PLC0415
    from tonghu.pipeline.names import register_name_keys  # noqa: PLC0415

    con = _connect(records, work, memory)
    register_name_keys(
        con,
        source_view="records",
        name_columns=["name", "guardian_name", "mother_name", "father_name"],
        target="link_names",
    )
    con.execute(_INPUT.format(records="records"))
    ((count,),) = con.execute("SELECT count(*) FROM link_input").fetchall()
    table = DuckDBAPI(connection=con).register("link_input")
    options = {"link_type": "dedupe_only", "unique_id_column_name": RECORD_ID}
    prediction = count_comparisons_from_blocking_rules(
        table, blocking_rules=PREDICTION_RULES, record_sample_proportion=1.0, **options
    )
    training = {
        name: count_comparisons_from_blocking_rules(
            table, blocking_rules=[rule], record_sample_proportion=1.0, **options
        )[0]["marginal_comparison_count"]
        for name, rule in (
            ("id_number", block_on("id_number")),
            ("birth_date+surname_pinyin", block_on("birth_date", "surname_pinyin")),
        )
    }
    return {
        "records": int(count),
        "rule_pairs": {
            row["blocking_rule"]: int(row["marginal_comparison_count"]) for row in prediction
        },
        "blocked_pairs": int(prediction[-1]["cumulative_comparison_count"]),
        "em_pairs": training,
    }


def _connect(records: Path, work: Path, memory: str) -> Any:
    from tonghu.pipeline.duck import connect  # noqa: PLC0415
    from tonghu.pipeline.normalise import install_macros  # noqa: PLC0415

    con = connect(memory_limit=memory, temp_dir=work / "duckdb")
    install_macros(con)
    con.execute(f"CREATE VIEW records AS SELECT * FROM read_parquet('{records}')")
    return con


# -- child: the linkage on Spark, step by step ------------------------------------------


@dataclass
class Clock:
    """Step marks: wall time, the Spark JVM's CPU and this process's CPU at each mark."""

    path: Path
    em_sessions: int = 0

    def __post_init__(self) -> None:
        self.path.write_text("", encoding="utf-8")

    def mark(self, name: str) -> None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        mark = [name, time.perf_counter(), _jvm_cpu(), usage.ru_utime + usage.ru_stime]
        with self.path.open("a", encoding="utf-8") as marks:
            marks.write(json.dumps(mark) + "\n")

    def wrap(self, name: str | Callable[[], str], function: Callable[..., Any]) -> Any:
        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            label = name if isinstance(name, str) else name()
            self.mark(f"{label}:start")
            try:
                return function(*args, **kwargs)
            finally:
                self.mark(f"{label}:end")

        return timed

    def em_label(self) -> str:
        self.em_sessions += 1
        return f"em{self.em_sessions}"


def _read_marks(path: Path) -> dict[str, list[float]]:
    marks: dict[str, list[float]] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            name, *values = json.loads(line)
            marks[name] = values
    return marks


def _spans(marks: dict[str, list[float]]) -> list[list[Any]]:
    """[label, wall s, JVM CPU s, driver CPU s] of each step whose marks are both there."""
    return [
        [label, *(last - first for first, last in zip(marks[start], marks[end], strict=True))]
        for label, start, end in STEPS
        if start in marks and end in marks
    ]


def _jvm_cpu() -> float:
    """CPU seconds (user + system) of the java processes started by this process."""
    total = 0
    for pid in _descendants(os.getpid())[1:]:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        if name == "java":
            fields = stat.rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / TICK


# The linkage's steps as spans between marks: (label, start mark, end mark).
STEPS = (
    ("prepare (DuckDB: name keys, link_input, block-size check)", "link:start", "spark:start"),
    ("Spark session start (JVM)", "spark:start", "session:ready"),
    ("records DuckDB -> Spark (Parquet)", "session:ready", "to_spark:end"),
    ("training (Spark)", "train:start", "train:end"),
    ("  prior: P(two random records match)", "prior:start", "prior:end"),
    ("  u by random sampling (2,000,000 pairs)", "u:start", "u:end"),
    ("  EM on id_number", "em1:start", "em1:end"),
    ("  EM on birth_date+surname_pinyin", "em2:start", "em2:end"),
    ("prediction (Spark)", "predict:start", "predict:end"),
    ("scored pairs Spark -> DuckDB (Parquet)", "from_spark:start", "from_spark:end"),
    ("Spark session stop", "session:stopping", "spark:end"),
    ("hard rules (DuckDB)", "decide:start", "decide:end"),
    ("clustering (DuckDB: components + ID anchoring)", "decide:end", "link:end"),
    ("  connected components", "components:start", "components:end"),
    ("linkage total", "link:start", "link:end"),
)


def _link(children: int, args: argparse.Namespace) -> dict[str, Any]:
    from splink.internals.linker_components.clustering import LinkerClustering  # noqa: PLC0415
    from splink.internals.linker_components.inference import LinkerInference  # noqa: PLC0415
    from splink.internals.linker_components.training import LinkerTraining  # noqa: PLC0415

    from tonghu.pipeline import link as link_module  # noqa: PLC0415
    from tonghu.pipeline import spark as spark_module  # noqa: PLC0415

    folder = _folder(children, args)
    prepared = json.loads((folder / PREPARED_FILE).read_text(encoding="utf-8"))
    work = folder / "work"
    clock = Clock(folder / MARKS_FILE)
    original_session = spark_module.spark_session

    @contextlib.contextmanager
    def session(*, work_dir: Path, driver_memory: str = "4g") -> Iterator[Any]:
        del driver_memory  # the bench's --driver-memory instead (default: the same 4g)
        with original_session(work_dir=work_dir, driver_memory=args.driver_memory) as spark:
            clock.mark("session:ready")
            try:
                yield spark
            finally:
                clock.mark("session:stopping")

    spark_module.spark_session = session
    spark_module.to_spark = clock.wrap("to_spark", spark_module.to_spark)
    spark_module.from_spark = clock.wrap("from_spark", spark_module.from_spark)
    link_module._score_on_spark = clock.wrap("spark", link_module._score_on_spark)
    link_module._train = clock.wrap("train", link_module._train)
    link_module._decide = clock.wrap("decide", link_module._decide)
    training = (
        ("estimate_probability_two_random_records_match", "prior"),
        ("estimate_u_using_random_sampling", "u"),
        ("estimate_parameters_using_expectation_maximisation", clock.em_label),
    )
    for method, label in training:
        setattr(LinkerTraining, method, clock.wrap(label, getattr(LinkerTraining, method)))
    LinkerInference.predict = clock.wrap("predict", LinkerInference.predict)
    LinkerClustering.cluster_pairwise_predictions_at_threshold = clock.wrap(
        "components", LinkerClustering.cluster_pairwise_predictions_at_threshold
    )

    con = _connect(Path(prepared["records_file"]), work, args.duckdb_memory)
    match, review = _thresholds()
    clock.mark("link:start")
    result = link_module.link(
        con,
        records="records",
        match_threshold=match,
        review_threshold=review,
        engine="spark",
        work_dir=work,
    )
    clock.mark("link:end")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    ((clusters,),) = con.execute(
        f"SELECT count(DISTINCT cluster_id) FROM {result.clusters}"
    ).fetchall()
    ((review_pairs,),) = con.execute(f"SELECT count(*) FROM {result.review}").fetchall()
    return {
        "master": os.environ.get("TONGHU_SPARK_MASTER", "local[*]"),
        "cores": os.cpu_count(),
        "driver_memory": args.driver_memory,
        "duckdb_memory": args.duckdb_memory,
        "steps": _spans(_read_marks(clock.path)),
        "driver_peak_mb": usage.ru_maxrss / 1024,
        "pairs_scored": result.pairs_scored,
        "largest_blocks": result.largest_blocks,
        "marks": _read_marks(clock.path),
        "clusters": int(clusters),
        "review_pairs": int(review_pairs),
        "thresholds": [match, review],
    }


if __name__ == "__main__":
    main()
