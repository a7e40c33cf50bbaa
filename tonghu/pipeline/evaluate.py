"""Pairwise precision, recall and F1 of a clustering against known truth (for benchmarks)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tonghu.pipeline.duck import Connection, ident


@dataclass(frozen=True)
class PairScores:
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def pair_scores(con: Connection, *, clusters: str, truth: str) -> PairScores:
    """``clusters`` (record_id, cluster_id) against ``truth`` (record_id, true_id).

    Pairs are counted from group sizes (n choose 2), never listed, so this stays cheap at
    millions of records.
    """
    sql = f"""
        WITH joined AS (
            SELECT c.cluster_id, t.true_id
            FROM {ident(clusters)} AS c JOIN {ident(truth)} AS t USING (record_id)
        ),
        predicted AS (SELECT count(*) AS n FROM joined GROUP BY cluster_id),
        actual AS (SELECT count(*) AS n FROM joined GROUP BY true_id),
        correct AS (SELECT count(*) AS n FROM joined GROUP BY cluster_id, true_id)
        SELECT
            (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM actual),
            (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM predicted),
            (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM correct)
    """
    (row,) = con.execute(sql).fetchall()
    return PairScores(int(row[0]), int(row[1]), int(row[2]))


@dataclass(frozen=True)
class RoundScores:
    """A round's results against the truth of the synthetic county it ran on."""

    children: int  # true children with at least one accepted record
    pairs: PairScores
    same_day_merged: int  # pairs of true children born the same day in one child (twins)
    review_pairs: int  # queued for people
    migrant_accuracy: float  # 流动儿童 of each true child vs the child holding most records

    @property
    def review_per_thousand(self) -> float:
        return 1000 * self.review_pairs / self.children if self.children else 0.0


def load_truth(con: Connection, *, truth_folder: Path, prefix: str = "truth") -> None:
    """Tables ``{prefix}_records`` (record_id, true_id; accepted rows only) and
    ``{prefix}_children`` (truth/children.csv) of a synth county's truth folder."""
    con.execute(
        f"""CREATE OR REPLACE TABLE {prefix}_records AS
            SELECT source || '|' || record_key AS record_id, true_child_id AS true_id
            FROM read_csv(?, all_varchar = true)
            WHERE coalesce(expected_reject, '') = '' AND identical_repeat = '0'""",
        [str(truth_folder / "records.csv")],
    )
    con.execute(
        f"""CREATE OR REPLACE TABLE {prefix}_children AS
            SELECT * FROM read_csv(?, all_varchar = true)""",
        [str(truth_folder / "children.csv")],
    )


def score_round(con: Connection, *, round_folder: Path, truth_folder: Path) -> RoundScores:
    """Score a round's result folder (tonghu.pipeline.round) against ``truth_folder``."""
    load_truth(con, truth_folder=truth_folder)
    con.execute(
        "CREATE OR REPLACE TABLE scored_links AS SELECT record_id, child_id AS cluster_id "
        "FROM read_parquet(?)",
        [str(round_folder / "links.parquet")],
    )
    pairs = pair_scores(con, clusters="scored_links", truth="truth_records")
    ((children, merged),) = con.execute(
        """WITH held AS (
               SELECT DISTINCT l.cluster_id, t.true_id, c.birth_date
               FROM scored_links AS l JOIN truth_records AS t USING (record_id)
               JOIN truth_children AS c ON c.true_child_id = t.true_id)
           SELECT (SELECT count(DISTINCT true_id) FROM held),
               (SELECT count(*) FROM held AS a JOIN held AS b
                    ON a.cluster_id = b.cluster_id AND a.birth_date = b.birth_date
                    AND a.true_id < b.true_id)"""
    ).fetchall()
    ((review,),) = con.execute(
        "SELECT count(*) FROM read_parquet(?) WHERE queued", [str(round_folder / "review.parquet")]
    ).fetchall()
    ((accuracy,),) = con.execute(
        """WITH votes AS (
               SELECT t.true_id, l.cluster_id AS child_id FROM scored_links AS l
               JOIN truth_records AS t USING (record_id)
               GROUP BY t.true_id, l.cluster_id
               QUALIFY row_number() OVER (PARTITION BY t.true_id
                                          ORDER BY count(*) DESC, l.cluster_id) = 1)
           SELECT avg(((c.is_migrant = '1') = coalesce(p.is_migrant, false))::INTEGER)
           FROM votes AS v JOIN truth_children AS c ON c.true_child_id = v.true_id
           JOIN read_parquet(?) AS p USING (child_id)""",
        [str(round_folder / "children.parquet")],
    ).fetchall()
    return RoundScores(
        children=int(children),
        pairs=pairs,
        same_day_merged=int(merged),
        review_pairs=int(review),
        migrant_accuracy=float(accuracy or 0.0),
    )


@dataclass(frozen=True)
class IdContinuity:
    """How children present in two rounds kept their ids (一人一档)."""

    in_both: int  # true children with records in both rounds
    kept: int  # ... whose main child id is the same in both
    passed_on: int  # first-round child ids that name another true child in the second

    @property
    def kept_share(self) -> float:
        return self.kept / self.in_both if self.in_both else 1.0


def id_continuity(
    con: Connection,
    *,
    first_round: Path,
    second_round: Path,
    first_truth: Path,
    second_truth: Path,
) -> IdContinuity:
    """Each true child's child id (the one holding most of its records) in two rounds of one
    county; true child ids are stable across a synth county's rounds."""
    for prefix, round_folder, truth in (
        ("first", first_round, first_truth),
        ("second", second_round, second_truth),
    ):
        load_truth(con, truth_folder=truth, prefix=prefix)
        con.execute(
            f"""CREATE OR REPLACE TABLE {prefix}_ids AS
                SELECT t.true_id, l.child_id FROM read_parquet(?) AS l
                JOIN {prefix}_records AS t USING (record_id)
                GROUP BY t.true_id, l.child_id
                QUALIFY row_number() OVER (PARTITION BY t.true_id
                                           ORDER BY count(*) DESC, l.child_id) = 1""",
            [str(round_folder / "links.parquet")],
        )
    ((in_both, kept, passed),) = con.execute(
        """SELECT count(*), count(*) FILTER (WHERE a.child_id = b.child_id),
               (SELECT count(*) FROM first_ids AS x JOIN second_ids AS y
                    ON x.child_id = y.child_id AND x.true_id <> y.true_id)
           FROM first_ids AS a JOIN second_ids AS b USING (true_id)"""
    ).fetchall()
    return IdContinuity(in_both=int(in_both), kept=int(kept), passed_on=int(passed))
