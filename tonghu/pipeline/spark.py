"""The Spark engine for linkage at province scale: a session with Splink's UDF jar.

Only training and prediction (the pair-heavy part) run on Spark; name keys, the hard
rules, clustering and the exports stay in DuckDB, which handles tens of millions of
records on one machine. In tests and on a single machine Spark runs in local mode; on a
cluster, set ``TONGHU_SPARK_MASTER`` (e.g. ``spark://host:7077`` or ``yarn``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
from pyspark.sql import SparkSession
from splink.backends.spark import similarity_jar_location


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
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.local.dir", str(work_dir / "spark-local"))
        .config("spark.ui.enabled", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    session.sparkContext.setCheckpointDir(str(work_dir / "spark-checkpoints"))
    try:
        yield session
    finally:
        session.stop()


def to_spark(session: SparkSession, table: pa.Table) -> object:
    """An Arrow table as a Spark DataFrame."""
    return session.createDataFrame(table)


def from_spark(frame: object) -> pa.Table:
    """A Spark DataFrame as an Arrow table."""
    table: pa.Table = frame.toArrow()  # type: ignore[attr-defined]
    return table
