"""Feed intake speed and memory beside a plain DuckDB read of the same files.

    .venv/bin/python bench/ingest_bench.py [--rows 1000000] [--seed 1] [--data DIR]

Generates a synthetic county with ``tonghu synth`` sized to about ``--rows`` feed rows
(mixed sources, CSV and XLSX, UTF-8, UTF-8 with BOM and GB18030), then runs, each in its own
process so that peak memory is measured alone:

- plain: DuckDB ``read_csv`` of every CSV into a table (all columns as text) and
  python-calamine of every XLSX into Arrow: the least any reader must do;
- tonghu: the whole intake (read, normalise, places, outcome, Parquet files).

It prints rows, seconds, rows/s and peak RSS for both, and the ratio. Targets (issue 3):
tonghu within 5x of plain, under 2 GB peak.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROWS_PER_CHILD = 2.55  # what tonghu synth writes per child, measured at 100,000 children


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", type=Path, help="an existing synth folder to reuse")
    parser.add_argument("--phase", choices=["plain", "tonghu"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(_run_phase(args.phase, args.data)))
        return
    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as work:
        data = args.data or _generate(Path(work) / "county", args.rows, args.seed)
        results = [_measure(phase, data) for phase in ("plain", "tonghu")]
    _report(results)


def _generate(out: Path, rows: int, seed: int) -> Path:
    from tonghu.synth import generate  # noqa: PLC0415  (only the parent process needs it)

    children = max(300, round(rows / ROWS_PER_CHILD))
    started = time.perf_counter()
    summary = generate(out_dir=out, children=children, seed=seed, as_of=dt.date(2025, 6, 30))
    print(
        f"synth: {children:,} children, {sum(summary.rows_by_source.values()):,} rows "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return out


def _measure(phase: str, data: Path) -> dict[str, float | str]:
    command = [sys.executable, __file__, "--phase", phase, "--data", str(data)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout  # noqa: S603
    *notes, last = output.splitlines()
    for note in notes:
        print(note)
    result: dict[str, float | str] = json.loads(last)
    return result


def _run_phase(phase: str, data: Path) -> dict[str, float | str]:
    feeds = data / "feeds"
    started = time.perf_counter()
    rows = _plain(feeds) if phase == "plain" else _tonghu(data)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"phase": phase, "rows": rows, "seconds": seconds, "peak_mb": peak_mb}


def _plain(feeds: Path) -> int:
    import duckdb  # noqa: PLC0415
    import pyarrow as pa  # noqa: PLC0415
    from python_calamine import CalamineWorkbook  # noqa: PLC0415

    from tonghu.pipeline.read import detect_encoding, plan_folder  # noqa: PLC0415

    files, _ = plan_folder(feeds)
    con = duckdb.connect()
    rows = 0
    for index, feed in enumerate(files):
        if feed.path.suffix.lower() == ".csv":
            encoding = "utf-8" if detect_encoding(feed.path) == "utf-8" else "gb18030"
            path = feed.path
            if encoding == "gb18030":  # DuckDB reads UTF-8 only: transcode, as any reader must
                path = feed.path.with_suffix(".utf8.tmp")
                path.write_text(feed.path.read_text(encoding="gb18030"), encoding="utf-8")
            con.execute(
                f"CREATE TABLE t{index} AS SELECT * FROM read_csv(?, all_varchar = true)",
                [str(path)],
            )
            rows += con.execute(f"SELECT count(*) FROM t{index}").fetchone()[0]  # type: ignore[index]
            if path != feed.path:
                path.unlink()
        else:
            book = CalamineWorkbook.from_path(str(feed.path))
            for name in book.sheet_names:
                cells = book.get_sheet_by_name(name).to_python()
                table = (
                    pa.table(
                        {
                            f"c{i}": [str(r[i]) if i < len(r) else None for r in cells[1:]]
                            for i in range(len(cells[0]))
                        }
                    )
                    if cells
                    else None
                )
                rows += table.num_rows if table is not None else 0
    return rows


def _tonghu(data: Path) -> int:
    from tonghu.pipeline.ingest import ingest  # noqa: PLC0415
    from tonghu.pipeline.places import read_division_table  # noqa: PLC0415
    from tonghu.pipeline.read import plan_folder  # noqa: PLC0415

    divisions = read_division_table(data / "divisions.csv")
    files, _ = plan_folder(data / "feeds")
    with tempfile.TemporaryDirectory(prefix="ingest-out-") as out:
        result = ingest(files, divisions=divisions, out_dir=Path(out))
        steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in result.timings.items())
        print(f"tonghu steps: {steps}")
        return result.read


def _report(results: list[dict[str, float | str]]) -> None:
    plain, ours = results
    print(f"{'phase':<8} {'rows':>10} {'seconds':>8} {'rows/s':>10} {'peak MB':>8}")
    for item in results:
        rate = float(item["rows"]) / float(item["seconds"])
        print(
            f"{item['phase']!s:<8} {int(item['rows']):>10,} {float(item['seconds']):>8.2f} "
            f"{rate:>10,.0f} {float(item['peak_mb']):>8.0f}"
        )
    ratio = float(ours["seconds"]) / float(plain["seconds"])
    print(
        f"tonghu / plain time: {ratio:.2f}x (target within 5x); "
        f"tonghu peak {float(ours['peak_mb']):.0f} MB (target under 2048 MB)"
    )


if __name__ == "__main__":
    main()
