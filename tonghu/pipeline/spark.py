"""The Spark engine for linkage at province scale: a session with Splink's UDF jar.

Only training and prediction (the pair-heavy part) run on Spark; name keys, the hard
rules, clustering and the exports stay in DuckDB, which handles tens of millions of
records on one machine. In tests and on a single machine Spark runs in local mode; on a
cluster, set ``TONGHU_SPARK_MASTER`` (e.g. ``spark://host:7077`` or ``yarn``) and
``TONGHU_SPARK_SHUFFLE_PARTITIONS`` (default 8, right for local mode; thousands on a
province cluster).

Tables cross between DuckDB and Spark as Parquet files in the work folder, never through
the driver's memory: at a million children the scored pairs came to 1.2 GB serialized,
more than ``spark.driver.maxResultSize`` lets a collect bring back. On a cluster the work folder
must therefore be storage both the driver and the executors reach (a shared mount).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from splink.backends.spark import similarity_jar_location

from tonghu.pipeline.duck import Connection, ident, quote, run


@contextmanager
def spark_session(*, work_dir: Path, driver_memory: str = "4g") -> Iterator[SparkSession]:
    """A Spark session for one linkage run, stopped afterwards."""
    master = os.environ.get("TONGHU_SPARK_MASTER", "local[*]")
    # Spark's Python workers must run the same Python as this process.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.appName("tonghu-linkage")
        .master(master)
        .config("spark.jars", similarity_jar_location())
        .config("spark.driver.memory", driver_memory)
        .config("spark.sql.shuffle.partitions", _shuffle_partitions())
        .config("spark.local.dir", str(work_dir / "spark-local"))
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    session.sparkContext.setCheckpointDir(str(work_dir / "spark-checkpoints"))
    try:
        yield session
    finally:
        session.stop()


def _shuffle_partitions() -> str:
    text = os.environ.get("TONGHU_SPARK_SHUFFLE_PARTITIONS", "8")
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise ValueError(f"TONGHU_SPARK_SHUFFLE_PARTITIONS 应为正整数，而不是 {text!r}")
    return str(int(text))


def to_spark(session: SparkSession, con: Connection, *, table: str, folder: Path) -> DataFrame:
    """DuckDB's ``table`` as a Spark DataFrame, by way of a Parquet file in ``folder``."""
    path = folder / f"{table}.parquet"
    run(con, f"COPY (SELECT * FROM {ident(table)}) TO {quote(str(path))} (FORMAT parquet)")
    return session.read.parquet(str(path))


def from_spark(frame: DataFrame, con: Connection, *, table: str, folder: Path) -> None:
    """A Spark DataFrame as DuckDB's temporary ``table``: the executors write Parquet
    parts into ``folder``, DuckDB reads them."""
    path = folder / table
    frame.write.mode("overwrite").parquet(str(path))
    parts = quote(str(path / "*.parquet"))
    run(con, f"CREATE OR REPLACE TEMP TABLE {ident(table)} AS SELECT * FROM read_parquet({parts})")
