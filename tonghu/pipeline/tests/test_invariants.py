"""A round stops on a broken invariant, names the step in Chinese and keeps what it checked."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import tonghu.pipeline.round as round_module
from tonghu.pipeline.duck import Connection
from tonghu.pipeline.errors import InvariantError, RoundError
from tonghu.pipeline.identity import Identity, assign_child_ids
from tonghu.pipeline.places import read_division_table
from tonghu.pipeline.read import plan_folder
from tonghu.pipeline.round import DIAGNOSIS_FOLDER, RoundInput, run_round
from tonghu.policy import load_profile
from tonghu.synth import generate
from tonghu.synth.settings import NoiseSettings

AS_OF = dt.date(2025, 6, 30)


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("county")
    small = NoiseSettings(boundary_cases=False)
    generate(out_dir=folder, children=60, seed=3, as_of=AS_OF, noise=small)
    return folder


def _plan(county: Path) -> RoundInput:
    files, skipped = plan_folder(county / "feeds")
    return RoundInput(
        files=files,
        skipped=skipped,
        as_of=AS_OF,
        profile=load_profile("default"),
        divisions=read_division_table(county / "divisions.csv"),
    )


def _one_id_twice(con: Connection, **arguments: object) -> Identity:
    """The identity step with a fault: the first two children get the same id."""
    identity = assign_child_ids(con, **arguments)  # type: ignore[arg-type]
    con.execute(
        """UPDATE child_ids SET child_id = (SELECT min(child_id) FROM child_ids)
           WHERE cluster_id IN (SELECT cluster_id FROM child_ids ORDER BY child_id LIMIT 2)"""
    )
    return identity


def test_a_broken_invariant_stops_the_round_naming_the_step(
    county: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(round_module, "assign_child_ids", _one_id_twice)
    with pytest.raises(InvariantError) as raised:
        run_round(_plan(county), folder=tmp_path / "round")
    error = raised.value
    assert isinstance(error, RoundError)  # shown like any round error, in Chinese
    assert error.step == "identity"
    assert "儿童编号" in str(error)
    assert "1 个儿童编号被分给了不止一组记录" in str(error)
    assert "台账保持不变" in str(error)
    assert error.diagnosis == tmp_path / "round" / DIAGNOSIS_FOLDER
    assert (error.diagnosis / "child_ids.parquet").is_file()
    # Nothing of the round's results was written: there is nothing a loader could take.
    assert not (tmp_path / "round" / "links.parquet").exists()
    assert not (tmp_path / "round" / "summary.json").exists()


def test_an_unbroken_round_passes_its_checks(county: Path, tmp_path: Path) -> None:
    output = run_round(_plan(county), folder=tmp_path / "round")
    assert (output.folder / "links.parquet").is_file()
    assert not (output.folder / DIAGNOSIS_FOLDER).exists()
