"""Record linkage on a synthetic county: one child per real child, twins kept apart."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tonghu.pipeline.duck import Connection, connect
from tonghu.pipeline.evaluate import pair_scores
from tonghu.pipeline.link import (
    PREDICTION_RULES,
    QUEUED_REASONS,
    BlockTooLargeError,
    LinkResult,
    link,
)
from tonghu.pipeline.normalise import install_macros
from tonghu.testing.synthetic import synthetic_intake

MATCH, REVIEW = 0.95, 0.5


@pytest.fixture(scope="module")
def linked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Connection, LinkResult]:
    logging.getLogger("splink").setLevel(logging.WARNING)
    county, intake = synthetic_intake(tmp_path_factory, children=1500, seed=11)
    con = connect()
    install_macros(con)
    con.execute(f"CREATE VIEW records AS SELECT * FROM read_parquet('{intake.records}')")
    _load_truth(con, county / "truth" / "records.csv")
    return con, link(con, records="records", match_threshold=MATCH, review_threshold=REVIEW)


def _load_truth(con: Connection, path: Path) -> None:
    con.execute(
        """CREATE TABLE truth AS
           SELECT source || '|' || record_key AS record_id, true_child_id AS true_id
           FROM read_csv(?, all_varchar = true)
           WHERE coalesce(expected_reject, '') = '' AND identical_repeat = '0'""",
        [str(path)],
    )


def test_pairwise_f1_on_a_synthetic_county(linked: tuple[Connection, LinkResult]) -> None:
    con, result = linked
    scores = pair_scores(con, clusters=result.clusters, truth="truth")
    assert scores.f1 >= 0.99, scores
    assert scores.precision >= 0.99, scores


def test_every_record_gets_a_child(linked: tuple[Connection, LinkResult]) -> None:
    con, result = linked
    ((missing,),) = con.execute(
        f"SELECT count(*) FROM truth LEFT JOIN {result.clusters} USING (record_id) "
        "WHERE cluster_id IS NULL"
    ).fetchall()
    assert missing == 0


def test_twins_and_siblings_born_the_same_day_stay_apart(
    linked: tuple[Connection, LinkResult],
) -> None:
    con, result = linked
    merged = con.execute(
        f"""SELECT count(*) FROM (
              SELECT c.cluster_id FROM {result.clusters} AS c JOIN truth AS t USING (record_id)
              JOIN link_input AS i USING (record_id)
              GROUP BY c.cluster_id
              HAVING count(DISTINCT t.true_id) > 1
                 AND count(DISTINCT i.name) FILTER (WHERE NOT i.is_placeholder) > 1)"""
    ).fetchall()
    assert merged == [(0,)]


def test_newborn_placeholders_join_their_child(linked: tuple[Connection, LinkResult]) -> None:
    con, result = linked
    ((placeholders, joined),) = con.execute(
        f"""WITH placed AS (
              SELECT i.record_id, c.cluster_id, t.true_id
              FROM link_input AS i JOIN {result.clusters} AS c USING (record_id)
              JOIN truth AS t USING (record_id) WHERE i.is_placeholder)
            SELECT count(*), count(*) FILTER (WHERE EXISTS (
                SELECT 1 FROM {result.clusters} AS c2 JOIN truth AS t2 USING (record_id)
                WHERE c2.cluster_id = placed.cluster_id AND t2.true_id = placed.true_id
                  AND c2.record_id <> placed.record_id))
            FROM placed"""
    ).fetchall()
    assert placeholders > 0, "the synthetic county should hold placeholder names"
    assert joined / placeholders >= 0.9


def test_homophones_and_traditional_forms_are_linked(
    linked: tuple[Connection, LinkResult],
) -> None:
    con, result = linked
    ((variants, linked_variants),) = con.execute(
        f"""WITH names AS (
              SELECT t.true_id, i.record_id, r.name AS written, i.name AS simplified, i.pinyin
              FROM link_input AS i JOIN truth AS t USING (record_id)
              JOIN records AS r ON r.source || '|' || r.record_key = i.record_id
              WHERE NOT i.is_placeholder),
            variant AS (
              SELECT a.record_id AS a, b.record_id AS b FROM names AS a JOIN names AS b
                ON a.true_id = b.true_id AND a.record_id < b.record_id
               AND a.written <> b.written AND a.pinyin = b.pinyin)
            SELECT count(*), count(*) FILTER (WHERE ca.cluster_id = cb.cluster_id)
            FROM variant
            JOIN {result.clusters} AS ca ON ca.record_id = variant.a
            JOIN {result.clusters} AS cb ON cb.record_id = variant.b"""
    ).fetchall()
    assert variants > 0, "the synthetic county should hold homophones or traditional forms"
    assert linked_variants / variants >= 0.97


def test_the_trained_model_is_kept(linked: tuple[Connection, LinkResult]) -> None:
    _, result = linked
    assert '"comparisons"' in result.model_json
    assert result.pairs_scored > 0


def test_a_block_too_large_is_refused_before_predicting(
    linked: tuple[Connection, LinkResult],
) -> None:
    con, result = linked
    assert len(result.largest_blocks) == len(PREDICTION_RULES)
    # (The day-apart rules pair keys of different columns: a county may have no such pair.)
    same_key = {n: s for n, s in result.largest_blocks.items() if "birth_date_next" not in n}
    assert all(size > 0 for size in same_key.values())
    with pytest.raises(BlockTooLargeError, match="记录比对的分块过大"):
        link(
            con,
            records="records",
            match_threshold=MATCH,
            review_threshold=REVIEW,
            max_block_pairs=1,
        )


def test_review_pairs_explain_their_evidence_in_chinese(
    linked: tuple[Connection, LinkResult],
) -> None:
    con, result = linked
    rows = con.execute(
        f"SELECT reason, evidence FROM {result.review} WHERE reason <> 'ambiguous_child'"
    ).fetchall()
    assert rows, "a county of this size always has pairs to review"
    for reason, evidence in rows:
        fields = {item["field"] for item in evidence}
        assert {"姓名", "出生日期"} <= fields, reason
        assert all(isinstance(item["weight"], float) for item in evidence)
    named = [
        e for reason, ev in rows if reason == "different_names" for e in ev if e["field"] == "姓名"
    ]
    assert named
    assert all(item["level"] == "不同" and item["weight"] < 0 for item in named)


def test_each_pair_is_listed_once_in_order_and_only_open_questions_are_queued(
    linked: tuple[Connection, LinkResult],
) -> None:
    con, result = linked
    rows = con.execute(
        f"SELECT record_id_l, record_id_r, reason, queued FROM {result.review}"
    ).fetchall()
    assert rows
    assert all(left < right for left, right, _, _ in rows)
    assert len({(left, right) for left, right, _, _ in rows}) == len(rows)
    assert all(queued == (reason in QUEUED_REASONS) for _, _, reason, queued in rows)
    # Two different valid ID numbers are two children: evidence, never work for people.
    assert any(reason == "different_ids" and not queued for _, _, reason, queued in rows)


def _cluster_of(con: Connection, result: LinkResult, record_id: str) -> str:
    ((cluster,),) = con.execute(
        f"SELECT cluster_id FROM {result.clusters} WHERE record_id = ?", [record_id]
    ).fetchall()
    return str(cluster)


def test_staff_decisions_are_obeyed(linked: tuple[Connection, LinkResult]) -> None:
    con, result = linked
    ((left, right),) = con.execute(
        f"SELECT record_id_l, record_id_r FROM {result.review} "
        "WHERE reason = 'different_ids' ORDER BY match_probability DESC LIMIT 1"
    ).fetchall()
    assert _cluster_of(con, result, left) != _cluster_of(con, result, right)
    # Two records without ID numbers that the model made one child, and only they.
    ((apart_l, apart_r),) = con.execute(
        f"""SELECT min(c.record_id), max(c.record_id) FROM {result.clusters} AS c
            JOIN link_input AS i USING (record_id)
            GROUP BY c.cluster_id HAVING count(*) = 2 AND count(i.id_number) = 0
            ORDER BY 1 LIMIT 1"""
    ).fetchall()
    con.execute(
        "CREATE OR REPLACE TABLE decisions (record_id_l VARCHAR, record_id_r VARCHAR, same BOOLEAN)"
    )
    con.execute(
        "INSERT INTO decisions VALUES (?, ?, true), (?, ?, false)", [left, right, apart_l, apart_r]
    )
    decided = link(
        con,
        records="records",
        match_threshold=MATCH,
        review_threshold=REVIEW,
        decisions="decisions",
    )
    assert _cluster_of(con, decided, left) == _cluster_of(con, decided, right)
    assert _cluster_of(con, decided, apart_l) != _cluster_of(con, decided, apart_r)
    ((still_reviewed,),) = con.execute(
        f"SELECT count(*) FROM {decided.review} WHERE record_id_l = ? AND record_id_r = ?",
        [left, right],
    ).fetchall()
    assert still_reviewed == 0
