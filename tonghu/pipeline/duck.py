"""The DuckDB connection the batch steps share, and small SQL helpers."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import duckdb

Connection = duckdb.DuckDBPyConnection
log = logging.getLogger("tonghu.pipeline")


def connect(*, memory_limit: str = "2GB", temp_dir: Path | None = None) -> Connection:
    """An in-memory DuckDB with a memory cap; it spills to ``temp_dir`` beyond it."""
    con = duckdb.connect(config={"memory_limit": memory_limit})
    # Spill files go to the system's temporary folder, never into the working directory.
    spill = temp_dir or Path(tempfile.gettempdir()) / "tonghu-duckdb"
    con.execute(f"SET temp_directory = {quote(str(spill))}")
    # The debug mode prints every SQL step the pipeline runs (like Splink's debug_mode).
    if os.environ.get("TONGHU_PIPELINE_DEBUG") == "1":
        log.setLevel(logging.DEBUG)
    return con


def quote(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    """A SQL identifier (column or table name), quoted."""
    return '"' + name.replace('"', '""') + '"'


def run(
    con: Connection, sql: str, parameters: list[object] | dict[str, object] | None = None
) -> Connection:
    log.debug("SQL:\n%s", sql)
    return con.execute(sql, parameters)
