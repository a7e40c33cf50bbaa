"""Intake of a whole synthetic county: every row lands exactly where the truth says."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tonghu.pipeline.ingest import IngestResult
from tonghu.pipeline.read import plan_folder
from tonghu.testing.synthetic import synthetic_intake


@pytest.fixture(scope="module")
def county_intake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, IngestResult]:
    return synthetic_intake(tmp_path_factory, children=600, seed=7)


@pytest.fixture(scope="module")
def county(county_intake: tuple[Path, IngestResult]) -> Path:
    return county_intake[0]


@pytest.fixture(scope="module")
def intake(county_intake: tuple[Path, IngestResult]) -> IngestResult:
    return county_intake[1]


def _truth(county: Path, result: IngestResult) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE truth AS SELECT * FROM read_csv(?, all_varchar = true)",
        [str(county / "truth" / "records.csv")],
    )
    con.execute(
        """CREATE TABLE got AS
           SELECT file, coalesce(sheet, '') AS sheet, row::VARCHAR AS row, '' AS reasons
           FROM read_parquet($1)
           UNION ALL
           SELECT file, coalesce(sheet, ''), row::VARCHAR, array_to_string(reasons, ';')
           FROM read_parquet($2)""",
        [str(result.records), str(result.rejects)],
    )
    return con


def test_every_row_is_accepted_or_rejected_as_the_truth_says(
    county: Path, intake: IngestResult
) -> None:
    con = _truth(county, intake)
    wrong = con.execute(
        """SELECT t.source, t.file, t.row, coalesce(t.expected_reject, '') AS expected,
                  g.reasons AS got
           FROM truth AS t LEFT JOIN got AS g
             ON g.file = t.file AND g.sheet = coalesce(t.sheet, '') AND g.row = t.row
           WHERE t.identical_repeat = '0'
             AND (g.row IS NULL OR g.reasons <> coalesce(t.expected_reject, ''))"""
    ).fetchall()
    assert wrong == []


def test_identical_repeats_are_ignored_and_nothing_else_is(
    county: Path, intake: IngestResult
) -> None:
    con = _truth(county, intake)
    (repeats,) = con.execute(
        "SELECT count(*) FROM truth WHERE identical_repeat = '1'"
    ).fetchone() or (0,)
    assert sum(part.repeated for part in intake.parts) == repeats
    assert intake.read == intake.accepted + intake.rejected + repeats


def test_the_skipped_files_are_the_ones_a_round_must_skip(county: Path) -> None:
    _, skipped = plan_folder(county / "feeds")
    assert {item.name for item in skipped} == {"other_data.csv", "~$edu_migrant.xlsx", "说明.txt"}
