"""The Spark engine (pyspark in local mode, Java 17) links a round exactly as DuckDB does."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from tonghu.pipeline.duck import Connection, connect
from tonghu.pipeline.link import link
from tonghu.pipeline.normalise import install_macros
from tonghu.testing.synthetic import synthetic_intake

pytestmark = pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java 17")


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> Path:
    logging.getLogger("splink").setLevel(logging.WARNING)
    _, intake = synthetic_intake(tmp_path_factory, children=600, seed=21)
    return intake.records


def _clusters(records: Path, engine: str, work_dir: Path) -> set[frozenset[str]]:
    con: Connection = connect()
    install_macros(con)
    con.execute(f"CREATE VIEW records AS SELECT * FROM read_parquet('{records}')")
    result = link(
        con,
        records="records",
        match_threshold=0.95,
        review_threshold=0.5,
        engine=engine,
        work_dir=work_dir,
    )
    groups: dict[str, set[str]] = {}
    for record_id, cluster_id in con.execute(f"SELECT * FROM {result.clusters}").fetchall():
        groups.setdefault(cluster_id, set()).add(record_id)
    return {frozenset(group) for group in groups.values()}


def test_spark_gives_the_same_children_as_duckdb(records: Path, tmp_path: Path) -> None:
    on_duckdb = _clusters(records, "duckdb", tmp_path)
    on_spark = _clusters(records, "spark", tmp_path)
    assert len(on_duckdb) > 100
    assert on_spark == on_duckdb


def test_an_unknown_engine_is_refused(records: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown linkage engine"):
        _clusters(records, "flink", tmp_path)


def test_a_bad_shuffle_partition_count_is_refused_in_chinese(
    records: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TONGHU_SPARK_SHUFFLE_PARTITIONS", "四千")
    with pytest.raises(ValueError, match="TONGHU_SPARK_SHUFFLE_PARTITIONS 应为正整数"):
        _clusters(records, "spark", tmp_path)
