"""A whole ``tonghu round run``, step by step and with the load into the ledger, on SQLite and
PostgreSQL, beside a plain DuckDB read of the same files.

    .venv/bin/python bench/round_bench.py [--children 100000] [--seed 7] [--data DIR]
        [--databases sqlite,postgres] [--server postgres://postgres@127.0.0.1:5432/postgres]
    .venv/bin/python bench/round_bench.py --children 1000000

A ``tonghu synth`` county is generated (or reused with --data: a folder holding
``divisions.csv`` and ``feeds/``). Each database gets a fresh ledger in its own process (a
temporary TONGHU_VAR_DIR; on PostgreSQL a database ``tonghu_round_bench`` created and dropped
here): migrate and the division table (untimed), then ``round_run`` -- what ``tonghu round
run`` calls -- with a progress callback marking each step: the batch (ingest, link, identity,
classify, match, summarise, write), the load into the ledger (one transaction, then the
results moved into the store) and the export. Each step's peak memory is the process's own
(VmHWM, reset at every step; DuckDB runs in the process); the XLSX reader's child processes
and the PostgreSQL server are not in it. The load's share of the PostgreSQL server's CPU is
printed beside it (the backend's user + system time over the run, from /proc).

The floor, in its own process: the same feed files read plainly -- the CSV files by DuckDB's
``read_csv`` (every column text, bad rows skipped; a GB18030 file converted to UTF-8 first,
as the pipeline does), the XLSX files by calamine (what the pipeline reads them with) into
Python rows.

Target (issue 20): the load takes no longer than the batch (load/batch <= 1).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
AS_OF = dt.date(2025, 6, 30)
DB_NAME = "tonghu_round_bench"
DATABASES = ("sqlite", "postgres")
BATCH_STEPS = ("ingest", "link", "identity", "classify", "match", "summarise", "write")
STEPS = ("prepare", *BATCH_STEPS, "load", "export")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data", type=Path, help="an existing synth folder to reuse")
    parser.add_argument("--databases", default=",".join(DATABASES), help="comma-separated")
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--run", choices=DATABASES, help=argparse.SUPPRESS)
    parser.add_argument("--floor", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor:
        print(json.dumps(_floor(args.data)))
        return
    if args.run:
        print(json.dumps(_round(args.data)))
        return
    databases = [name.strip() for name in args.databases.split(",") if name.strip()]
    if unknown := set(databases) - set(DATABASES):
        parser.error(f"unknown databases: {', '.join(sorted(unknown))}")
    with tempfile.TemporaryDirectory(prefix="round-bench-") as work:
        data = args.data.resolve() if args.data else _generate(Path(work) / "county", args)
        print(f"data: {data}; machine: {os.cpu_count()} cores, load average {_load()}")
        floor = _child(["--floor"], data, {})
        results = {name: _database(name, data, Path(work), args.server) for name in databases}
    _report(floor, results, args, data)


def _generate(out: Path, args: argparse.Namespace) -> Path:
    from tonghu.synth import generate  # noqa: PLC0415

    started = time.perf_counter()
    generate(out_dir=out, children=args.children, seed=args.seed, as_of=AS_OF)
    print(f"synth: {args.children:,} children in {time.perf_counter() - started:.1f} s")
    return out


def _load() -> str:
    return ", ".join(f"{value:.1f}" for value in os.getloadavg())


# -- in the parent -----------------------------------------------------------------------


def _database(name: str, data: Path, work: Path, server: str) -> dict[str, Any]:
    var = work / f"var-{name}"
    var.mkdir()
    env = {"TONGHU_VAR_DIR": str(var), "DATABASE_URL": ""}
    if name == "postgres":
        _server(server, f"DROP DATABASE IF EXISTS {DB_NAME}")
        _server(server, f"CREATE DATABASE {DB_NAME}")
        env["DATABASE_URL"] = server.rsplit("/", 1)[0] + "/" + DB_NAME
    print(f"{name}: running the round (load average {_load()}) ...", flush=True)
    try:
        return _child(["--run", name], data, env)
    finally:
        if name == "postgres":
            _server(server, f"DROP DATABASE IF EXISTS {DB_NAME}")
        shutil.rmtree(var, ignore_errors=True)


def _server(url: str, statement: str) -> None:
    import psycopg  # noqa: PLC0415

    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(statement)


def _child(extra: list[str], data: Path, env: dict[str, str]) -> dict[str, Any]:
    """This script in a child process, so that its peak memory is its own; the last line
    of its output is its JSON result."""
    environment = {**os.environ, **env, "DJANGO_SETTINGS_MODULE": "tonghu.config.settings"}
    if not environment.get("DATABASE_URL"):  # SQLite
        environment.pop("DATABASE_URL", None)
    command = [sys.executable, __file__, *extra, "--data", str(data)]
    finished = subprocess.run(  # noqa: S603 - this script, fixed arguments
        command, capture_output=True, text=True, env=environment, check=False, cwd=ROOT
    )
    lines = finished.stdout.splitlines()
    if finished.returncode != 0 or not lines:
        tail = finished.stderr[-3000:]
        print(f"  FAILED (exit code {finished.returncode}):\n{tail}")
        return {"failed": f"exit code {finished.returncode}"}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


# -- the floor ---------------------------------------------------------------------------


def _floor(data: Path) -> dict[str, Any]:
    import duckdb  # noqa: PLC0415
    from python_calamine import CalamineWorkbook  # noqa: PLC0415

    from tonghu.pipeline.read import detect_encoding, plan_folder  # noqa: PLC0415

    files, _ = plan_folder(data / "feeds")
    con = duckdb.connect()
    load = _load()
    csv_rows = xlsx_rows = 0
    with tempfile.TemporaryDirectory(prefix="round-bench-floor-") as work:
        started = time.perf_counter()
        for number, feed in enumerate(f for f in files if f.path.suffix.lower() == ".csv"):
            path = feed.path
            if detect_encoding(path) == "gb18030":
                path = Path(work) / f"{number}.csv"
                path.write_text(feed.path.read_text(encoding="gb18030"), encoding="utf-8")
            table = f"t{number}"
            con.execute(
                f"CREATE TABLE {table} AS SELECT * FROM read_csv(?, all_varchar = true, "
                "header = true, ignore_errors = true, null_padding = true)",
                [str(path)],
            )
            csv_rows += con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
        csv_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for feed in files:
        if feed.path.suffix.lower() == ".xlsx":
            workbook = CalamineWorkbook.from_path(str(feed.path))
            for name in workbook.sheet_names:
                xlsx_rows += len(workbook.get_sheet_by_name(name).to_python()) - 1
    xlsx_seconds = time.perf_counter() - started
    return {
        "csv_seconds": csv_seconds,
        "csv_rows": csv_rows,
        "xlsx_seconds": xlsx_seconds,
        "xlsx_rows": xlsx_rows,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "load": load,
    }


# -- one database's round ----------------------------------------------------------------


class Steps:
    """The progress callback: each step's wall time and peak memory (VmHWM, reset when a
    step starts, where the kernel allows it)."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.current = "prepare"
        self.seconds: dict[str, float] = {}
        self.peak_mb: dict[str, float] = {}
        self.load: dict[str, str] = {}
        self.resettable = _reset_peak()

    def __call__(self, step: str) -> None:
        self._close()
        self.current, self.started = step, time.perf_counter()
        self.resettable = _reset_peak()

    def _close(self) -> None:
        # A step told twice (never, today) adds up.
        elapsed = time.perf_counter() - self.started
        self.seconds[self.current] = self.seconds.get(self.current, 0.0) + elapsed
        peak = _peak_mb()
        self.peak_mb[self.current] = max(self.peak_mb.get(self.current, 0.0), peak)
        self.load[self.current] = _load()

    def finish(self) -> None:
        self._close()


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5", encoding="ascii")
    except OSError:
        return False
    return True


def _peak_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _round(data: Path) -> dict[str, Any]:
    import django  # noqa: PLC0415

    django.setup()
    from django.core.management import call_command  # noqa: PLC0415
    from django.db import connection  # noqa: PLC0415

    from tonghu.divisions.services import divisions_load  # noqa: PLC0415
    from tonghu.rounds.services import round_run  # noqa: PLC0415

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    divisions_load(path=data / "divisions.csv")
    setup_seconds = time.perf_counter() - started
    server_cpu = _backend_cpu()
    steps = Steps()
    run: Callable[..., Any] = round_run
    result = run(
        feeds_dir=data / "feeds",
        as_of=AS_OF,
        export_dir=Path(os.environ["TONGHU_VAR_DIR"]) / "export",
        progress=steps,
    )
    steps.finish()
    counts = result.counts
    return {
        "vendor": connection.vendor,
        "setup_seconds": setup_seconds,
        "seconds": steps.seconds,
        "peak_mb": steps.peak_mb,
        "per_step_peak": steps.resettable,
        "load": steps.load,
        # ru_maxrss follows VmHWM, which each step resets: the run's peak is the steps' top.
        "process_peak_mb": max(steps.peak_mb.values()),
        "server_cpu": _backend_cpu() - server_cpu,
        "server": _server_settings(),
        "children": counts.children if counts else 0,
        "records": counts.records if counts else 0,
        "review_pairs": counts.review_pairs if counts else 0,
        "timings": result.round.summary.get("timings", {}),
    }


def _backend_cpu() -> float:
    """CPU seconds (user + system) of this process's PostgreSQL backend (0 on SQLite)."""
    from django.db import connection  # noqa: PLC0415

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    except OSError:  # a server on another machine
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _server_settings() -> str:
    from django.db import connection  # noqa: PLC0415

    if connection.vendor != "postgresql":
        return ""
    names = ("shared_buffers", "max_wal_size", "synchronous_commit")
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        (version,) = cursor.fetchone()
        settings = []
        for name in names:
            cursor.execute(f"SHOW {name}")
            settings.append(f"{name} {cursor.fetchone()[0]}")
    return f"{' '.join(version.split()[:2])}, {', '.join(settings)}"


# -- the report --------------------------------------------------------------------------


def _report(
    floor: dict[str, Any], results: dict[str, dict[str, Any]], args: argparse.Namespace, data: Path
) -> None:
    ok = {name: result for name, result in results.items() if "failed" not in result}
    print()
    print(f"tonghu round run on {data} ({args.children:,} children unless --data says otherwise)")
    header = f"{'step':<11}" + "".join(f"{name + ' s':>13}{'peak MB':>9}" for name in ok)
    print(header + "   load average at the step's end (1, 5, 15 min)")
    for step in STEPS:
        cells = "".join(
            f"{result['seconds'].get(step, 0.0):>13.1f}{result['peak_mb'].get(step, 0.0):>9.0f}"
            for result in ok.values()
        )
        loads = " | ".join(result["load"].get(step, "") for result in ok.values())
        print(f"{step:<11}{cells}   {loads}")
    batch = {name: sum(r["seconds"].get(s, 0.0) for s in BATCH_STEPS) for name, r in ok.items()}
    total = {name: sum(r["seconds"].values()) for name, r in ok.items()}
    print(f"{'batch':<11}" + "".join(f"{batch[name]:>13.1f}{'':>9}" for name in ok))
    print(f"{'total':<11}" + "".join(f"{total[name]:>13.1f}{'':>9}" for name in ok))
    print()
    for name, result in ok.items():
        load = result["seconds"].get("load", 0.0)
        ratio = load / batch[name] if batch[name] else float("nan")
        verdict = "PASS" if ratio <= 1 else "FAIL"
        print(
            f"{name}: load {load:.1f} s / batch {batch[name]:.1f} s = {ratio:.2f} ({verdict}, "
            f"target <= 1); {result['children']:,} children, {result['records']:,} records, "
            f"{result['review_pairs']:,} review pairs; process peak "
            f"{result['process_peak_mb']:.0f} MB; migrate + divisions "
            f"{result['setup_seconds']:.1f} s (untimed above)"
            + ("" if result["per_step_peak"] else "; peaks are cumulative (no clear_refs)")
        )
        if result["server"]:
            print(
                f"  server: {result['server']}; its backend's CPU over the round "
                f"{result['server_cpu']:.1f} s"
            )
    for name, result in results.items():
        if "failed" in result:
            print(f"{name}: FAILED ({result['failed']})")
    if "failed" in floor:
        print(f"floor: FAILED ({floor['failed']})")
        return
    read = floor["csv_seconds"] + floor["xlsx_seconds"]
    print(
        f"floor (load average {floor['load']}): DuckDB read_csv of the CSV files "
        f"{floor['csv_seconds']:.1f} s ({floor['csv_rows']:,} rows) + calamine of the XLSX "
        f"files {floor['xlsx_seconds']:.1f} s ({floor['xlsx_rows']:,} rows) = {read:.1f} s, "
        f"peak {floor['peak_mb']:.0f} MB"
    )
    for name, result in ok.items():
        ingest = result["seconds"].get("ingest", 0.0)
        print(
            f"{name}: ingest / floor {ingest / read:.1f}x, batch / floor {batch[name] / read:.1f}x,"
            f" whole round / floor {total[name] / read:.1f}x"
        )


if __name__ == "__main__":
    main()
