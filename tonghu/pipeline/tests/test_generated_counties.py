"""Whole rounds on counties of drawn noise: what must hold on any county, not just our synth's.

Hypothesis draws the noise of a small synthetic county (IDs missing, placeholders, swapped
and mistyped names, shifted birth dates, addresses without codes or county, twins with alike
names, duplicated keys) and a seed; the round's batch runs on it. The round checks its own
invariants (tonghu.pipeline.invariants) and fails loudly if one breaks; on top, the test
holds the round to the truth the county was generated with: every accepted record in one
child, no two children born the same day made one (twins), records of one child kept
together, 流动儿童 as the truth says, and then the county's next round keeping the ids.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import hypothesis.strategies as st
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, Phase, given, settings

from tonghu.pipeline.duck import connect
from tonghu.pipeline.evaluate import id_continuity, score_round
from tonghu.pipeline.places import read_division_table
from tonghu.pipeline.read import plan_folder
from tonghu.pipeline.round import Prior, RoundInput, run_round
from tonghu.policy import load_profile
from tonghu.synth import generate, generate_next
from tonghu.synth.settings import NoiseSettings

AS_OF = dt.date(2025, 6, 30)
NEXT_AS_OF = dt.date(2025, 12, 31)
CHILDREN = 160


def _share(high: float) -> st.SearchStrategy[float]:
    return st.sampled_from([0.0, high / 2, high])


noise_settings = st.builds(
    NoiseSettings,
    boundary_cases=st.just(False),
    twins=_share(0.1),
    twin_similar_names=_share(1.0),
    newborn_placeholder=_share(0.8),
    early_placeholder=_share(0.4),
    health_id=_share(0.8),
    cdc_id=_share(0.8),
    id_missing=_share(0.1),
    name_noise=st.sampled_from([0.0, 1.0, 3.0]),
    name_swap=_share(0.05),
    birth_shift=_share(0.05),
    residence_code_missing=_share(0.3),
    address_no_province=_share(0.3),
    address_town_village=_share(0.3),
    address_street_office=_share(0.2),
    duplicate_key_rows=_share(0.02),
    key_reuse=_share(0.02),
)


def _round(county: Path, folder: Path, as_of: dt.date, prior: Prior) -> Path:
    files, skipped = plan_folder(county / "feeds")
    output = run_round(
        RoundInput(
            files=files,
            skipped=skipped,
            as_of=as_of,
            profile=load_profile("default"),
            divisions=read_division_table(county / "divisions.csv"),
            prior=lambda code: prior,
        ),
        folder=folder,
    )
    return output.folder


@settings(
    max_examples=4,
    deadline=None,
    derandomize=True,
    # A whole round per example: shrinking would rerun dozens; the failure names the noise.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(noise=noise_settings, seed=st.integers(min_value=0, max_value=10_000))
def test_a_round_holds_on_any_county_and_keeps_ids_into_the_next(
    tmp_path_factory: pytest.TempPathFactory, noise: NoiseSettings, seed: int
) -> None:
    work = tmp_path_factory.mktemp("county")
    generate(out_dir=work / "c1", children=CHILDREN, seed=seed, as_of=AS_OF, noise=noise)
    first = _round(work / "c1", work / "r1", AS_OF, Prior())  # invariants checked inside

    scores = score_round(connect(), round_folder=first, truth_folder=work / "c1" / "truth")
    assert scores.same_day_merged == 0, noise.to_text()
    assert scores.pairs.precision == 1.0, noise.to_text()
    assert scores.pairs.recall >= 0.95, noise.to_text()
    assert scores.migrant_accuracy >= 0.95, noise.to_text()
    review = pq.read_table(first / "review.parquet").to_pylist()
    assert len({(r["record_id_l"], r["record_id_r"]) for r in review}) == len(review)
    assert all(r["record_id_l"] < r["record_id_r"] for r in review)

    generate_next(previous=work / "c1", out_dir=work / "c2", as_of=NEXT_AS_OF)
    second = _round(work / "c2", work / "r2", NEXT_AS_OF, Prior(folder=first, first_serial=9000))
    kept = id_continuity(
        connect(),
        first_round=first,
        second_round=second,
        first_truth=work / "c1" / "truth",
        second_truth=work / "c2" / "truth",
    )
    assert kept.passed_on == 0, noise.to_text()
    assert kept.kept_share >= 0.97, noise.to_text()
