"""A synthetic county and the intake of its feeds, for tests of the later batch steps."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tonghu.pipeline.ingest import IngestResult, ingest
from tonghu.pipeline.places import read_division_table
from tonghu.pipeline.read import plan_folder
from tonghu.synth import generate

AS_OF = dt.date(2025, 6, 30)


def synthetic_intake(
    tmp_path_factory: pytest.TempPathFactory, *, children: int, seed: int
) -> tuple[Path, IngestResult]:
    """A county written by ``tonghu synth`` (with its truth) and the intake of its feeds."""
    county = tmp_path_factory.mktemp("county")
    generate(out_dir=county, children=children, seed=seed, as_of=AS_OF)
    files, _ = plan_folder(county / "feeds")
    divisions = read_division_table(county / "divisions.csv")
    return county, ingest(files, divisions=divisions, out_dir=tmp_path_factory.mktemp("out"))
