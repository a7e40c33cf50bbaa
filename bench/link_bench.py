"""Record linkage quality, speed and memory: tonghu beside two baselines, in one run.

    .venv/bin/python bench/link_bench.py [--children 100000] [--seed 5] [--data DIR]

On a ``tonghu synth`` county (ingested first, untimed), each linker runs in its own process
so that peak memory is its own, and is scored against the synth truth (pairwise precision,
recall and F1 over the accepted records):

- exact-id: records with the same valid ID number are one child, every other record alone;
- generic: Splink with the comparisons one would write for Western data (Jaro-Winkler on the
  raw name, which DuckDB computes on bytes, exact birth date, sex, guardian name, phone);
- tonghu: tonghu.pipeline.link (pinyin, placeholders, family, ID anchoring, hard rules).

Targets (issue 4): F1 >= 0.995 at 100k and >= 0.99 at 1M; 1M children in under 10 minutes
within 8 GB; tonghu's F1 above both baselines.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tonghu.pipeline.duck import Connection

LINKERS = ("exact-id", "generic", "tonghu")


def _thresholds() -> tuple[float, float]:
    """The default policy profile's match and review thresholds (every linker uses them)."""
    from tonghu.policy import load_profile  # noqa: PLC0415

    linkage = load_profile("default").linkage
    return linkage.match_threshold, linkage.review_threshold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--data", type=Path, help="an existing synth folder to reuse")
    parser.add_argument("--linker", choices=LINKERS, help=argparse.SUPPRESS)
    parser.add_argument("--records", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.linker:
        print(json.dumps(_run_linker(args.linker, args.data, args.records)))
        return
    with tempfile.TemporaryDirectory(prefix="link-bench-") as work:
        data = args.data or _generate(Path(work) / "county", args.children, args.seed)
        records = _ingest(data, Path(work) / "records")
        results = [_measure(linker, data, records) for linker in LINKERS]
    _report(results)


def _generate(out: Path, children: int, seed: int) -> Path:
    from tonghu.synth import generate  # noqa: PLC0415

    started = time.perf_counter()
    generate(out_dir=out, children=children, seed=seed, as_of=dt.date(2025, 6, 30))
    print(f"synth: {children:,} children in {time.perf_counter() - started:.1f} s")
    return out


def _ingest(data: Path, out: Path, memory_limit: str = "4GB") -> Path:
    from tonghu.pipeline.ingest import ingest  # noqa: PLC0415
    from tonghu.pipeline.places import read_division_table  # noqa: PLC0415
    from tonghu.pipeline.read import plan_folder  # noqa: PLC0415

    divisions = read_division_table(data / "divisions.csv")
    files, _ = plan_folder(data / "feeds")
    result = ingest(files, divisions=divisions, out_dir=out, memory_limit=memory_limit)
    print(f"ingest: {result.accepted:,} accepted records")
    return result.records


def _measure(linker: str, data: Path, records: Path) -> dict[str, float | str]:
    command = [
        sys.executable,
        __file__,
        "--linker",
        linker,
        "--data",
        str(data),
        "--records",
        str(records),
    ]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout  # noqa: S603
    result: dict[str, float | str] = json.loads(output.splitlines()[-1])
    return result


def _run_linker(linker: str, data: Path, records: Path) -> dict[str, float | str]:
    from tonghu.pipeline.duck import connect  # noqa: PLC0415
    from tonghu.pipeline.evaluate import pair_scores  # noqa: PLC0415
    from tonghu.pipeline.normalise import install_macros  # noqa: PLC0415

    logging.getLogger("splink").setLevel(logging.ERROR)
    con = connect(memory_limit="6GB")
    install_macros(con)
    con.execute(f"CREATE VIEW records AS SELECT * FROM read_parquet('{records}')")
    con.execute(
        """CREATE TABLE truth AS
           SELECT source || '|' || record_key AS record_id, true_child_id AS true_id
           FROM read_csv(?, all_varchar = true)
           WHERE coalesce(expected_reject, '') = '' AND identical_repeat = '0'""",
        [str(data / "truth" / "records.csv")],
    )
    started = time.perf_counter()
    clusters = {"exact-id": _exact_id, "generic": _generic, "tonghu": _tonghu}[linker](con)
    seconds = time.perf_counter() - started
    scores = pair_scores(con, clusters=clusters, truth="truth")
    return {
        "linker": linker,
        "seconds": seconds,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "precision": scores.precision,
        "recall": scores.recall,
        "f1": scores.f1,
    }


def _exact_id(con: Connection) -> str:
    con.execute(
        """CREATE TABLE exact_clusters AS
           SELECT source || '|' || record_key AS record_id,
               CASE WHEN id_valid THEN 'id:' || id_number
                    ELSE 'row:' || source || '|' || record_key END AS cluster_id
           FROM records"""
    )
    return "exact_clusters"


def _generic(con: Connection) -> str:
    import splink.comparison_library as cl  # noqa: PLC0415
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on  # noqa: PLC0415

    con.execute(
        """CREATE TABLE generic_input AS
           SELECT source || '|' || record_key AS record_id, name,
               coalesce(CASE WHEN id_valid THEN id_birth_date END, birth_date) AS birth_date,
               coalesce(CASE WHEN id_valid THEN id_sex END, sex) AS sex,
               CASE WHEN id_valid THEN id_number END AS id_number,
               coalesce(guardian_name, mother_name, father_name) AS guardian_name, phone,
               residence_code
           FROM records"""
    )
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=[
            cl.NameComparison("name"),
            cl.ExactMatch("birth_date"),
            cl.ExactMatch("sex"),
            cl.ExactMatch("id_number"),
            cl.NameComparison("guardian_name"),
            cl.ExactMatch("phone"),
            cl.ExactMatch("residence_code"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("id_number"),
            block_on("name", "birth_date"),
            block_on("birth_date", "phone"),
        ],
    )
    db_api = DuckDBAPI(connection=con)
    linker = Linker(db_api.register("generic_input"), settings)
    linker.training.estimate_probability_two_random_records_match([block_on("id_number")], 0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=2_000_000, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("id_number"))
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("birth_date", "name")
    )
    match, review = _thresholds()
    predictions = linker.inference.predict(threshold_match_probability=review)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, match)
    table = clusters.physical_name
    con.execute(f"CREATE TABLE generic_clusters AS SELECT record_id, cluster_id FROM {table}")
    return "generic_clusters"


def _tonghu(con: Connection) -> str:
    from tonghu.pipeline.link import link  # noqa: PLC0415

    match, review = _thresholds()
    return link(con, records="records", match_threshold=match, review_threshold=review).clusters


def _report(results: list[dict[str, float | str]]) -> None:
    print(f"{'linker':<9} {'precision':>9} {'recall':>7} {'F1':>7} {'seconds':>8} {'peak MB':>8}")
    for item in results:
        print(
            f"{item['linker']!s:<9} {float(item['precision']):>9.4f} "
            f"{float(item['recall']):>7.4f} {float(item['f1']):>7.4f} "
            f"{float(item['seconds']):>8.1f} {float(item['peak_mb']):>8.0f}"
        )


if __name__ == "__main__":
    main()
