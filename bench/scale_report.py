"""The printed report of bench/scale_bench.py: each size, the growth between the smallest
and the largest size, and from that growth the Spark cluster a province needs.

Two-point fits only (two sizes measured), each shown with its arithmetic:

- pairs of a blocking rule: ``a*n + b*n^2`` (a: a child's own records and family, linear;
  b: strangers who share the block's keys, which grows with the square when the keys do
  not narrow with the population, e.g. birth date + surname across a whole province);
- Spark CPU: ``c + s*W`` with W the comparisons made (prediction + EM), c the fixed part
  (JVM start, the fixed 2,000,000-pair u sample, Spark's per-stage overheads);
- driver memory, scratch disk: ``c + s*x`` on what drives them.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import re
from dataclasses import dataclass
from typing import Any

PROVINCE = 50_000_000
TEN_MILLION = 10_000_000
BUDGET_S = 1800  # 10M is run only if it fits in 30 minutes here


def report(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    for result in results:
        report_size(result)
    # Pairs are counted before linking, so a size whose linkage was stopped still has them;
    # costs (CPU, memory, disk) come from the sizes whose linkage finished.
    counted = [r for r in results if "rule_pairs" in r.get("prepared", {})]
    done = [r for r in counted if not r.get("failed")]
    if len(counted) >= 2:
        report_growth(counted[-2], counted[-1])
    if len(done) >= 2:
        pairs, costs = (counted[-2], counted[-1]), (done[-2], done[-1])
        report_estimate(pairs, costs, args)
        report_ten_million(pairs, costs)
    else:
        print("\n(fewer than two finished sizes: no cluster estimate)")


# -- one size ------------------------------------------------------------------------------


def step(result: dict[str, Any], prefix: str) -> tuple[float, float, float]:
    """(wall s, JVM CPU s, driver CPU s) of the step whose label starts with ``prefix``."""
    for label, wall, jvm, driver in result["steps"]:
        if label.startswith(prefix):
            return wall, jvm, driver
    raise KeyError(prefix)


def report_size(result: dict[str, Any]) -> None:
    children = result["children"]
    print(f"\n== {children:,} children (seed {result.get('seed', '?')}) ==")
    if "prepared" not in result:
        print(f"FAILED before linking: {result['failed']}")
        return
    prepared = result["prepared"]
    cached = " (in an earlier run, cached)" if prepared.get("cached") else ""
    print(
        f"data (not linkage time): generated in {prepared['generate_s']:.0f} s, "
        f"ingested in {prepared['ingest_s']:.0f} s{cached}; "
        f"pairs counted in {prepared['count_s']:.0f} s (DuckDB, exact)"
    )
    records, blocked = prepared["records"], prepared["blocked_pairs"]
    print(f"records in: {records:,} accepted records ({records / children:.2f} per child)")
    print(
        f"blocked comparisons scored by prediction: {blocked:,} "
        f"({blocked / records:.2f} per record, {blocked / children:.2f} per child)"
    )
    for rule, pairs in prepared["rule_pairs"].items():
        print(f"    {rule_name(rule):<32} {pairs:>16,} new pairs")
    print(
        "EM training comparisons: "
        + ", ".join(f"{rule} {pairs:,}" for rule, pairs in prepared["em_pairs"].items())
        + "; u sampling 2,000,000 (fixed)"
    )
    if result.get("failed"):
        print(f"LINKAGE FAILED OR STOPPED: {result['failed']}; the steps it had finished:")
        print_steps(result)
        print_memory(result["watch"], None)
        print(result.get("stderr_tail", ""))
        return
    print(
        f"scored pairs kept (>= review threshold {result['thresholds'][1]}): "
        f"{result['pairs_scored']:,}; children found: {result['clusters']:,}; "
        f"review pairs: {result['review_pairs']:,}"
    )
    print(
        f"linkage: Spark {result['master']} on {result['cores']} cores, "
        f"spark.driver.memory {result['driver_memory']}, DuckDB {result['duckdb_memory']}"
    )
    print_steps(result)
    wall, jvm, driver = step(result, "linkage total")
    print(
        f"CPU share: (JVM + driver CPU) / (wall x {result['cores']} cores) = "
        f"{(jvm + driver) / (wall * result['cores']):.0%}; the machine is shared (mean 1-min "
        f"load {result['watch']['load_mean']:.1f}): wall times are inflated, CPU seconds not"
    )
    print(
        "largest block per prediction rule (records x records, which link() checks against "
        "20,000,000): "
        + ", ".join(f"{rule_name(r)} {n:,}" for r, n in result["largest_blocks"].items())
    )
    print_memory(result["watch"], result["driver_peak_mb"])
    millions = children / 1e6
    print(
        f"per million children: linkage {wall / millions:,.1f} s wall, "
        f"{jvm / millions:,.1f} JVM CPU s, {driver / millions:,.1f} driver CPU s; "
        f"peak memory {peak_mb(result) / millions:,.0f} MB (driver + JVM peaks)"
    )


def print_steps(result: dict[str, Any]) -> None:
    print(f"    {'step':<58} {'wall s':>8} {'JVM CPU s':>10} {'driver CPU s':>12}")
    for label, wall, jvm, driver in result["steps"]:
        print(f"    {label:<58} {wall:>8.1f} {jvm:>10.1f} {driver:>12.1f}")


def rule_name(sql: str) -> str:
    """birth_date+surname_pinyin for (l."birth_date" = r."birth_date") AND (...)."""
    return "+".join(re.findall(r'l\."(\w+)"', sql)) or sql


def print_memory(watch: dict[str, Any], driver_peak: float | None) -> None:
    driver = f"{driver_peak:,.0f} MB" if driver_peak is not None else "n/a"
    print(
        f"peak memory: driver (Python + DuckDB, getrusage) {driver} "
        f"[VmHWM polled {watch['driver_hwm_mb']:,.0f} MB]; Spark JVM (VmHWM) "
        f"{watch['jvm_peak_mb']:,.0f} MB; other children {watch['other_peak_mb']:,.0f} MB; "
        f"whole tree at once (polled RSS) {watch['tree_peak_mb']:,.0f} MB"
    )
    print(
        f"scratch disk peak (Spark local dir, checkpoints, DuckDB spill): "
        f"{watch['disk_peak_mb']:,.0f} MB; machine: min available "
        f"{watch['min_available_mb']:,.0f} MB, peak 1-min load {watch['load_peak']:.1f}"
    )


def peak_mb(result: dict[str, Any]) -> float:
    return float(result["driver_peak_mb"] + result["watch"]["jvm_peak_mb"])


# -- growth --------------------------------------------------------------------------------

DRIVER_SIDE = ("prepare", "records DuckDB", "scored pairs", "hard rules", "clustering")


METRIC_STEPS = (
    ("training", "training"),
    ("  u sampling", "  u by random"),
    ("  EM id_number", "  EM on id_number"),
    ("  EM birth_date+surname", "  EM on birth_date"),
    ("prediction", "prediction"),
    ("clustering", "clustering"),
    ("linkage", "linkage total"),
)


def metrics(result: dict[str, Any]) -> dict[str, float]:
    """The figures compared between sizes; a stopped linkage has only those of the steps
    it finished (and its peaks so far)."""
    prepared, watch = result["prepared"], result["watch"]
    millions = result["children"] / 1e6
    values = {
        "records": float(prepared["records"]),
        "blocked comparisons": float(prepared["blocked_pairs"]),
        "EM comparisons": float(sum(prepared["em_pairs"].values())),
    }
    if "pairs_scored" in result:
        values["scored pairs kept"] = float(result["pairs_scored"])
    for label, prefix in METRIC_STEPS:
        with contextlib.suppress(KeyError):
            wall, jvm, driver = step(result, prefix)
            values[f"{label} wall s"] = wall
            values[f"{label} CPU s"] = jvm + driver
    if "linkage wall s" in values:
        values["Spark JVM CPU s"] = step(result, "linkage total")[1]
        values["driver-side CPU s"] = driver_side_cpu(result)
        values["driver peak MB"] = float(result["driver_peak_mb"])
    values["JVM peak MB"] = float(watch["jvm_peak_mb"])
    values["scratch disk MB"] = float(watch["disk_peak_mb"])
    if "linkage wall s" in values:
        values["wall s per M children"] = values["linkage wall s"] / millions
        values["CPU s per M children"] = values["linkage CPU s"] / millions
        values["peak MB per M children"] = peak_mb(result) / millions
    return values


def driver_side_cpu(result: dict[str, Any]) -> float:
    """CPU seconds that stay on the driver whatever the cluster: DuckDB before and after
    Spark and the Parquet handoffs between them (JVM and Python sides)."""
    return sum(sum(step(result, prefix)[1:]) for prefix in DRIVER_SIDE)


def exponent(small: float, large: float, ratio: float) -> float:
    if small <= 0 or large <= 0:
        return float("nan")
    return math.log(large / small) / math.log(ratio)


def report_growth(small: dict[str, Any], large: dict[str, Any]) -> None:
    ratio = large["children"] / small["children"]
    print(
        f"\n== growth {small['children']:,} -> {large['children']:,} children: ratio vs "
        f"linear {ratio:.2f}x; b = exponent in size^b (1 linear, 2 quadratic) =="
    )
    if large.get("failed"):
        print(
            f"    ({large['children']:,}: linkage {large['failed']}; its figures below are "
            "those of the steps it finished, its memory and disk peaks up to the stop)"
        )
    print(f"    {'metric':<30} {'small':>16} {'large':>16} {'ratio':>7} {'b':>6}")
    a, b = metrics(small), metrics(large)
    for key in a:
        if key not in b:
            print(f"    {key:<30} {a[key]:>16,.1f} {'(not reached)':>16}")
            continue
        print(
            f"    {key:<30} {a[key]:>16,.1f} {b[key]:>16,.1f} {b[key] / a[key]:>7.2f} "
            f"{exponent(a[key], b[key], ratio):>6.2f}"
        )
    print("    blocked comparisons by rule (prediction, new pairs; EM blocks):")
    for (rule, one), two in zip(
        _rule_pairs(small).items(), _rule_pairs(large).values(), strict=True
    ):
        print(
            f"      {rule:<28} {one:>16,.0f} {two:>16,.0f} {two / max(one, 1):>7.2f} "
            f"{exponent(one, two, ratio):>6.2f}"
        )


def _rule_pairs(result: dict[str, Any]) -> dict[str, float]:
    prepared = result["prepared"]
    pairs = {rule_name(rule): float(n) for rule, n in prepared["rule_pairs"].items()}
    pairs |= {f"EM {rule}": float(n) for rule, n in prepared["em_pairs"].items()}
    return pairs


# -- fits ----------------------------------------------------------------------------------


def quadratic(n1: float, y1: float, n2: float, y2: float) -> tuple[float, float]:
    """(a, b) with y = a*n + b*n^2 through both points, neither negative."""
    b = (y2 / n2 - y1 / n1) / (n2 - n1)
    a = y1 / n1 - b * n1
    if b < 0:
        return y2 / n2, 0.0
    if a < 0:
        return 0.0, y2 / n2**2
    return a, b


def linear(x1: float, y1: float, x2: float, y2: float) -> tuple[float, float]:
    """(c, s) with y = c + s*x through both points, neither negative."""
    s = (y2 - y1) / (x2 - x1) if x2 != x1 else 0.0
    c = y2 - s * x2
    if s < 0:
        return y2, 0.0
    if c < 0:
        return 0.0, y2 / x2
    return c, s


# -- the cluster estimate ------------------------------------------------------------------


Pair = tuple[dict[str, Any], dict[str, Any]]


def pairs_at(pairs: Pair, target: int, *, show: bool = False) -> float:
    """Comparisons (prediction + EM) at ``target`` children, each rule fitted as
    a*n + b*n^2 through the two sizes whose pairs were counted."""
    (n1, one), (n2, two) = ((r["children"], _rule_pairs(r)) for r in pairs)
    if show:
        print(f"Pairs, each rule fitted as a*n + b*n^2 through {n1:,} and {n2:,} children:")
        print(f"    {'rule':<30} {'a (per child)':>14} {'b (per child^2)':>16} {'at target':>18}")
    total = 0.0
    for rule, small in one.items():
        slope, square = quadratic(n1, small, n2, two[rule])
        at_target = slope * target + square * target**2
        total += at_target
        if show:
            print(f"    {rule:<30} {slope:>14.3f} {square:>16.3e} {at_target:>18,.0f}")
    return total


def _work(result: dict[str, Any]) -> float:
    prepared = result["prepared"]
    return float(prepared["blocked_pairs"] + sum(prepared["em_pairs"].values()))


def report_estimate(pairs: Pair, costs: Pair, args: argparse.Namespace) -> None:
    target = PROVINCE
    (c1, a), (c2, b) = ((r["children"], metrics(r)) for r in costs)
    large = costs[1]
    counted = pairs[1]["children"]
    print(f"\n== estimate for {target:,} children (a province like Henan or Guangdong) ==")
    per_child = pairs[1]["prepared"]["records"] / counted
    _print_assumptions(costs, per_child, args)
    measured = pairs_at(pairs, target, show=True)
    work_counted = _work(pairs[1])
    constant = work_counted * target / counted
    print(
        f"  scenario M (as measured, all rules summed): W = {measured:,.0f} comparisons "
        f"({measured / (per_child * target):,.1f} per record)"
    )
    print(
        f"  scenario C (blocking keeps comparisons per record constant, e.g. date rules "
        f"confined to a county): W = {work_counted:,.0f} x {target:,}/{counted:,} "
        f"= {constant:,.0f}"
    )
    work_small, work_large = _work(costs[0]), _work(costs[1])
    fits = Fits(
        spark=linear(work_small, a["Spark JVM CPU s"], work_large, b["Spark JVM CPU s"]),
        disk=linear(work_small, a["scratch disk MB"], work_large, b["scratch disk MB"]),
        work_large=work_large,
    )
    fixed, per_pair = fits.spark
    print(
        f"Spark CPU = c + s*W through ({work_small:,.0f}, {a['Spark JVM CPU s']:,.0f} s) and "
        f"({work_large:,.0f}, {b['Spark JVM CPU s']:,.0f} s): c = {fixed:,.0f} s, "
        f"s = {per_pair * 1e6:,.2f} CPU us per comparison"
    )
    d_fixed, d_slope = linear(c1, a["driver-side CPU s"], c2, b["driver-side CPU s"])
    driver_cpu = d_fixed + d_slope * target
    fits.driver_wall = driver_cpu / (args.driver_cores * args.efficiency)
    print(
        f"driver-side CPU = {d_fixed:,.0f} s + {d_slope * 1e6:,.1f} s per M children x 50M = "
        f"{driver_cpu:,.0f} s; on the driver: / ({args.driver_cores} x {args.efficiency}) = "
        f"{fits.driver_wall:,.0f} s = {fits.driver_wall / 3600:.2f} h of the wall time"
    )
    kept_slope, kept_square = quadratic(c1, a["scored pairs kept"], c2, b["scored pairs kept"])
    kept = kept_slope * target + kept_square * target**2
    m_fixed, m_slope = linear(
        a["scored pairs kept"], a["driver peak MB"], b["scored pairs kept"], b["driver peak MB"]
    )
    limit_mb = _megabytes(large["duckdb_memory"])
    print(
        f"driver memory = {m_fixed:,.0f} MB + {m_slope * 1e6:,.0f} MB per M kept pairs x "
        f"{kept / 1e6:,.0f} M kept pairs at 50M (a*n + b*n^2 fit) = "
        f"{(m_fixed + m_slope * kept) / 1024:,.0f} GB if nothing spilled; the kept pairs come "
        "back through Parquet into the driver's DuckDB, which spills past its memory_limit"
    )
    if b["driver peak MB"] >= 0.9 * limit_mb:
        print(
            f"  at {c2:,} the driver peaked at {b['driver peak MB']:,.0f} MB against DuckDB's "
            f"memory_limit of {large['duckdb_memory']}: the driver's memory is the limit it "
            "is given (the rest spills to its local disk), not the fit above"
        )
    cores_here = large["cores"]
    jvm_per_core = b["JVM peak MB"] / cores_here
    fits.per_core_gb = max(2.0, math.ceil(jvm_per_core / 1024 * 2) / 2)
    print(
        f"executor memory per core: JVM peak {b['JVM peak MB']:,.0f} MB / {cores_here} cores "
        f"= {jvm_per_core:,.0f} MB at {c2:,} (heap capped at {large['driver_memory']}, so "
        f"this is what sufficed, not what was needed) -> {fits.per_core_gb:g} GB per core, "
        "provided each shuffle partition holds no more than it did here"
    )
    for name, work in (("M (as measured)", measured), ("C (constant per record)", constant)):
        _size_cluster(name, work, fits, args)


@dataclass
class Fits:
    spark: tuple[float, float]  # Spark CPU s = c + s * comparisons
    disk: tuple[float, float]  # scratch MB = c + s * comparisons
    work_large: float  # comparisons at the larger size measured
    driver_wall: float = 0.0  # s at the target size
    per_core_gb: float = 2.0


def _print_assumptions(costs: Pair, per_child: float, args: argparse.Namespace) -> None:
    n1, n2 = costs[0]["children"], costs[1]["children"]
    print("Assumptions (change them with the options in brackets):")
    print(
        f"  A1 records per child as measured ({per_child:.2f}); the blocking rules and the "
        "synth's spread of birth dates and names as in the runs;"
    )
    print(
        f"  A2 a cluster core does {args.core_speed:g}x the work of one core here "
        f"[--core-speed], at {args.efficiency:.0%} parallel efficiency [--efficiency] "
        "(network shuffle, stragglers, task start-up);"
    )
    print(
        "  A3 only training and prediction run on the cluster (tonghu.pipeline.spark): name "
        "keys, hard rules, clustering and DuckDB's side of the Parquet handoffs stay on the "
        "driver, a "
        f"{args.driver_cores}-core machine [--driver-cores] at the same efficiency;"
    )
    print(
        "  A4 Spark CPU = fixed part + a cost per comparison (prediction + EM), both fitted "
        f"to the JVM CPU seconds of the finished linkages at {n1:,} and {n2:,} children "
        "(CPU, not wall: the machine is shared)."
    )


def _size_cluster(name: str, work: float, fits: Fits, args: argparse.Namespace) -> None:
    fixed, per_pair = fits.spark
    cpu = fixed + per_pair * work
    core_hours = cpu / 3600 / args.core_speed
    paid = core_hours / args.efficiency
    target_s = args.target_hours * 3600
    left = target_s - fits.driver_wall
    print(f"-- scenario {name}: W = {work:,.0f} comparisons")
    print(
        f"   Spark CPU = {fixed:,.0f} + {per_pair * 1e6:,.2f}e-6 x {work:,.0f} = "
        f"{cpu:,.0f} s here = {cpu / 3600:,.1f} h; / {args.core_speed:g} (core speed) "
        f"= {core_hours:,.1f} core-hours busy, / {args.efficiency} = {paid:,.1f} "
        "core-hours paid"
    )
    if left <= 0:
        print(
            f"   the driver-side steps alone ({fits.driver_wall / 3600:.1f} h) exceed the "
            f"{args.target_hours:g} h target: no cluster meets it until clustering and "
            "the hard rules move onto Spark; sized below for the Spark part alone"
        )
        left = target_s
    cores = math.ceil(paid * 3600 / left)
    executors = math.ceil(cores / args.cores_per_executor)
    memory = fits.per_core_gb * args.cores_per_executor
    partitions = math.ceil(8 * work / fits.work_large)
    x_fixed, x_slope = fits.disk
    disk_gb = (x_fixed + x_slope * work) / 1024
    print(
        f"   for {args.target_hours:g} h wall: {target_s:,.0f} s - {fits.driver_wall:,.0f} s "
        f"on the driver = {left:,.0f} s for Spark -> {paid * 3600:,.0f} / {left:,.0f} = "
        f"{cores:,} cores = {executors:,} executors x {args.cores_per_executor} cores, "
        f"{memory:g} GB each (+10% overhead), {executors * memory / 1024:,.2f} TB in all"
    )
    print(
        f"   spark.sql.shuffle.partitions ~ 8 x {work:,.0f} / {fits.work_large:,.0f} = "
        f"{partitions:,} (TONGHU_SPARK_SHUFFLE_PARTITIONS; the default 8 suits local mode "
        f"only); scratch/shuffle disk = {x_fixed:,.0f} MB + "
        f"{x_slope * 1e6:,.1f} MB per M comparisons = {disk_gb:,.0f} GB, x2 headroom "
        f"= {2 * disk_gb:,.0f} GB ({2 * disk_gb / executors:,.1f} GB per executor)"
    )


def report_ten_million(pairs: Pair, costs: Pair) -> None:
    """Would 10M children fit in 30 minutes on this machine? Estimated from the fits."""
    from tonghu.synth import MAX_CHILDREN  # noqa: PLC0415

    target = TEN_MILLION
    (c1, a), (c2, b) = ((r["children"], metrics(r)) for r in costs)
    work = pairs_at(pairs, target)
    fixed, per_pair = linear(
        _work(costs[0]), a["Spark JVM CPU s"], _work(costs[1]), b["Spark JVM CPU s"]
    )
    d_fixed, d_slope = linear(c1, a["driver-side CPU s"], c2, b["driver-side CPU s"])
    cpu = fixed + per_pair * work + d_fixed + d_slope * target
    cores = costs[1]["cores"]
    idle = cpu / cores
    inflation = b["linkage wall s"] / (b["linkage CPU s"] / cores)
    prepared = pairs[1]["prepared"]
    prep = (prepared["generate_s"] + prepared["ingest_s"]) * target / pairs[1]["children"]
    print(f"\n== {target:,} children on this machine (estimated from the fits, not run) ==")
    print(
        f"  comparisons {work:,.0f}; CPU {cpu:,.0f} s -> linkage {idle / 60:,.0f} min if "
        f"the {cores} cores were ours alone, ~{idle * inflation / 60:,.0f} min at the "
        f"sharing seen at {c2:,} (wall/CPU x{inflation:.1f}); generating and ingesting "
        f"~{prep / 60:,.0f} min more"
    )
    if target > MAX_CHILDREN:
        print(
            f"  tonghu.synth also generates at most {MAX_CHILDREN:,} children per county "
            "(its record-key serial numbers are sized for that)."
        )
    verdict = "fits" if idle < BUDGET_S else "does not fit"
    print(f"  -> {verdict} in 30 minutes: not run.")


def _megabytes(size: str) -> float:
    """A DuckDB memory_limit such as "4GB" or "512MB", in MB."""
    units = {"KB": 1 / 1024, "MB": 1.0, "GB": 1024.0, "TB": 1024.0**2}
    text = size.strip().upper().replace("IB", "B")
    for unit, factor in units.items():
        if text.endswith(unit):
            return float(text.removesuffix(unit)) * factor
    return float(text) / 1024**2  # plain bytes
