"""Service eligibility (政策找人) for a million children against the profile's list.

    .venv/bin/python bench/eligibility_bench.py [--children 1000000] [--profile default]

Builds a table of child facts (age, stage, difficulty, key_care, flags; all migrants, so
every rule is evaluated for every child) in DuckDB, then times in the same run: one
``SELECT count(*)`` over the table, and ``match_services`` (every service's rule compiled to
SQL, one pass, the eligible pairs written to a table); a count that reads every row's list
is printed too, since a bare count(*) is answered from metadata. Target: under 30 seconds.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pyarrow as pa

DIFFICULTY = ("dibao", "dibao_edge", "tekun", "orphan", "fuc", "hiv", "disabled")
KEY_CARE = ("hardship", "disability", "no_guardian", "vagrant", "psych", "asks_help")
FLAGS = ("housing_hardship", "temporary_relief", "mental_disorder")
STAGES = (None, "学前", "小学", "初中", "高中", "中职")


def facts(children: int, seed: int = 7) -> pa.Table:
    rng = np.random.default_rng(seed)

    def codes(names: tuple[str, ...], rate: float) -> list[list[str]]:
        chosen = rng.random((children, len(names))) < rate
        return [[names[j] for j in np.flatnonzero(row)] for row in chosen]

    stage_index = rng.integers(0, len(STAGES), children)
    return pa.table(
        {
            "child_id": [f"410402{i:08d}" for i in range(children)],
            "is_migrant": np.ones(children, dtype=bool),
            "age": rng.integers(0, 16, children).astype("int32"),
            "stage": [STAGES[i] for i in stage_index],
            "difficulty": codes(DIFFICULTY, 0.02),
            "key_care": codes(KEY_CARE, 0.03),
            "flags": codes(FLAGS, 0.02),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=1_000_000)
    parser.add_argument("--profile", default="default")
    args = parser.parse_args()
    from tonghu.pipeline.duck import connect  # noqa: PLC0415
    from tonghu.pipeline.match import match_services  # noqa: PLC0415
    from tonghu.policy import load_profile  # noqa: PLC0415

    profile = load_profile(args.profile)
    con = connect()
    table = facts(args.children)
    con.register("facts_arrow", table)
    con.execute("CREATE TABLE classified AS SELECT * FROM facts_arrow")
    con.unregister("facts_arrow")
    timings = {}
    for label, sql in (
        ("SELECT count(*)", "SELECT count(*) FROM classified"),
        ("count(*) reading every list", "SELECT count(*) FROM classified WHERE len(flags) >= 0"),
    ):
        started = time.perf_counter()
        ((rows,),) = con.execute(sql).fetchall()
        timings[label] = time.perf_counter() - started
    started = time.perf_counter()
    eligible = match_services(con, children="classified", profile=profile)
    ((pairs,),) = con.execute(f"SELECT count(*) FROM {eligible}").fetchall()
    timings["match_services (all rules)"] = time.perf_counter() - started
    services = len(profile.services.items)
    print(f"children: {rows:,}  services: {services}  eligible pairs: {pairs:,}")
    print(f"{'step':32}{'seconds':>10}{'× count(*)':>12}")
    baseline = timings["SELECT count(*)"]
    for label, seconds in timings.items():
        print(f"{label:32}{seconds:>10.3f}{seconds / baseline:>12.1f}")


if __name__ == "__main__":
    main()
