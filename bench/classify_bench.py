"""Classification accuracy against the synth truth (issue 5), in one run per county size.

    .venv/bin/python bench/classify_bench.py [--children 3000 100000] [--seed 5]

For each size: ``tonghu synth`` writes a county with its truth, a whole round runs on it
(ingest, link, identity, classify, match; the default profile) and every true child is
compared with the round's child holding most of its records. Printed per field: agreement
over all true children (accuracy), and for the two categories also precision and recall.
Target: accuracy >= 99.5% for 流动儿童 and 留守儿童.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

AS_OF = dt.date(2025, 6, 30)
FIELDS = (
    "is_migrant", "is_left_behind", "key_care", "difficulty", "dropout_risk",
    "residence_since", "hukou_county", "services",
)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, nargs="+", default=[3000, 100_000])
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    rows = []
    for size in args.children:
        with tempfile.TemporaryDirectory(prefix="classify-bench-") as work:
            rows.append(measure(Path(work), size, args.seed))
    report(rows)


def measure(work: Path, size: int, seed: int) -> dict[str, object]:
    from tonghu.pipeline.duck import connect  # noqa: PLC0415
    from tonghu.pipeline.places import read_division_table  # noqa: PLC0415
    from tonghu.pipeline.read import plan_folder  # noqa: PLC0415
    from tonghu.pipeline.round import RoundInput, run_round  # noqa: PLC0415
    from tonghu.policy import load_profile  # noqa: PLC0415
    from tonghu.synth import generate  # noqa: PLC0415

    generate(out_dir=work / "county", children=size, seed=seed, as_of=AS_OF)
    files, skipped = plan_folder(work / "county" / "feeds")
    started = time.perf_counter()
    result = run_round(
        RoundInput(
            files=files,
            skipped=skipped,
            as_of=AS_OF,
            profile=load_profile("default"),
            divisions=read_division_table(work / "county" / "divisions.csv"),
        ),
        folder=work / "round",
    )
    seconds = time.perf_counter() - started
    con = connect()
    truth = work / "county" / "truth"
    con.execute(SCORE_SETUP.format(truth=truth, round=result.folder))
    scores: dict[str, object] = {"children": size, "seconds": seconds}
    for field in FIELDS:
        ((agree, total),) = con.execute(
            f"SELECT count(*) FILTER (WHERE t.{field} IS NOT DISTINCT FROM p.{field}), count(*) "
            "FROM truth_children t JOIN matched m USING (true_child_id) "
            "JOIN predicted p USING (child_id)"
        ).fetchall()
        scores[field] = agree / total
    for field in ("is_migrant", "is_left_behind"):
        ((tp, fp, fn),) = con.execute(
            f"""SELECT count(*) FILTER (WHERE t.{field} AND p.{field}),
                   count(*) FILTER (WHERE NOT t.{field} AND p.{field}),
                   count(*) FILTER (WHERE t.{field} AND NOT coalesce(p.{field}, false))
            FROM truth_children t JOIN matched m USING (true_child_id)
            JOIN predicted p USING (child_id)"""
        ).fetchall()
        scores[f"{field}_precision"] = tp / max(tp + fp, 1)
        scores[f"{field}_recall"] = tp / max(tp + fn, 1)
    return scores


SCORE_SETUP = """
CREATE TABLE truth_children AS
SELECT c.true_child_id, c.is_migrant = '1' AS is_migrant,
    c.is_left_behind = '1' AS is_left_behind,
    nullif(c.key_care, '') AS key_care, nullif(c.difficulty, '') AS difficulty,
    nullif(c.dropout_risk, '') AS dropout_risk, c.residence_since,
    c.hukou_code[1:6] AS hukou_county,
    (SELECT string_agg(service_code, ';' ORDER BY service_code)
     FROM read_csv('{truth}/services.csv', all_varchar = true) AS s
     WHERE s.true_child_id = c.true_child_id) AS services
FROM read_csv('{truth}/children.csv', all_varchar = true) AS c;

CREATE TABLE matched AS
SELECT t.true_child_id, arg_max(l.child_id, n) AS child_id FROM (
    SELECT r.true_child_id, l.child_id, count(*) AS n
    FROM read_csv('{truth}/records.csv', all_varchar = true) AS r
    JOIN read_parquet('{round}/links.parquet') AS l USING (source, record_key)
    GROUP BY ALL) AS l
RIGHT JOIN (SELECT true_child_id FROM truth_children) AS t USING (true_child_id)
GROUP BY ALL;

CREATE TABLE predicted AS
SELECT c.child_id, c.is_migrant, c.is_left_behind,
    nullif(array_to_string(c.key_care, ';'), '') AS key_care,
    nullif(array_to_string(c.difficulty, ';'), '') AS difficulty, c.dropout_risk,
    strftime(c.residence_since, '%Y-%m-%d') AS residence_since,
    c.hukou_code[1:6] AS hukou_county,
    (SELECT string_agg(service_code, ';' ORDER BY service_code)
     FROM read_parquet('{round}/services.parquet') AS s WHERE s.child_id = c.child_id) AS services
FROM read_parquet('{round}/children.parquet') AS c;
"""


def report(rows: list[dict[str, object]]) -> None:
    names = ["children", "seconds", *FIELDS, "is_migrant_precision", "is_migrant_recall",
             "is_left_behind_precision", "is_left_behind_recall"]  # fmt: skip
    print(f"{'':28}" + "".join(f"{row['children']:>14,}" for row in rows))
    for name in names[1:]:
        cells = []
        for row in rows:
            value = row[name]
            cells.append(f"{value:>14.1f}" if name == "seconds" else f"{value:>14.4%}")
        print(f"{name:28}" + "".join(cells))


if __name__ == "__main__":
    main()
