"""Pairwise precision, recall and F1 of a clustering against known truth (for benchmarks)."""

from __future__ import annotations

from dataclasses import dataclass

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
