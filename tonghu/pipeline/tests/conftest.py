from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from tonghu.pipeline.duck import Connection, connect
from tonghu.pipeline.normalise import install_macros
from tonghu.pipeline.places import read_division_table
from tonghu.pipeline.tests.classify_feeds import Feeds

DATA = Path(__file__).resolve().parents[2] / "divisions" / "data"


@pytest.fixture(scope="module")
def con() -> Iterator[Connection]:
    """One connection per module: the macros hold no state between values."""
    connection = connect()
    install_macros(connection)
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def divisions() -> pa.Table:
    """The shipped national county list plus the demo county's towns and villages."""
    return pa.concat_tables(
        read_division_table(DATA / name) for name in ("gbt2260_counties.csv", "demo_county.csv")
    )


@pytest.fixture
def feeds(divisions: pa.Table) -> Iterator[Feeds]:
    con = connect()
    install_macros(con)
    yield Feeds(con, divisions)
    con.close()
