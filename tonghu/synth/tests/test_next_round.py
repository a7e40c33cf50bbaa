"""The same county's next round: stable true ids, leavers, arrivals, newborns, keys kept or
re-issued per source, new visits, and the rows still land where the truth says."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pytest

from tonghu import synth
from tonghu.synth import NoiseSettings, SynthError, generate, generate_next, ids, names
from tonghu.synth.evolve import WHILE_RESIDENT
from tonghu.synth.tests.conftest import AS_OF, County, intake_mismatches

NEXT_AS_OF = date(2025, 12, 31)
CHILDREN = 400
KEPT = ("police_residence", "civil_status", "disability_cert")  # every record keeps its key
GROWING = ("edu_migrant", "medical_insurance")  # keeps its keys, may gain records
REISSUED = ("health_child", "cdc_vaccination")


@pytest.fixture(scope="module")
def rounds(tmp_path_factory: pytest.TempPathFactory) -> tuple[County, County]:
    folder = tmp_path_factory.mktemp("rounds")
    first = generate(out_dir=folder / "r1", children=CHILDREN, seed=5, as_of=AS_OF)
    second = generate_next(
        previous=folder / "r1",
        out_dir=folder / "r2",
        as_of=NEXT_AS_OF,
        leave_share=0.1,
        arrive_share=0.1,
        birth_share=0.2,
    )
    return County(folder / "r1", first), County(folder / "r2", second)


def _children(county: County) -> dict[str, dict[str, str]]:
    return {row["true_child_id"]: row for row in county.truth("children.csv")}


def _keys(county: County) -> dict[tuple[str, str], set[str]]:
    """(source, true child) -> record keys of its accepted rows."""
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    for line in county.truth("records.csv"):
        if not line["expected_reject"]:
            found[(line["source"], line["true_child_id"])].add(line["record_key"])
    return found


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_true_ids_are_stable(rounds: tuple[County, County]) -> None:
    first, second = (_children(county) for county in rounds)
    assert set(first) <= set(second)
    for child_id, before in first.items():
        after = second[child_id]
        assert (after["name"], after["sex"], after["birth_date"]) == (
            before["name"],
            before["sex"],
            before["birth_date"],
        )
        assert before["id_number"] in {"", after["id_number"]}
    numbers = [row["id_number"] for row in second.values() if row["id_number"]]
    assert len(numbers) == len(set(numbers))
    assert all(ids.is_valid(number) for number in numbers)
    assert any(not first[k]["id_number"] and second[k]["id_number"] for k in first)


def test_newcomers_come_after_the_previous_round(rounds: tuple[County, County]) -> None:
    first, second = rounds
    before, after = _children(first), _children(second)
    last = max(int(child_id[1:]) for child_id in before)
    changes = Counter(after[k]["scenario"] for k in after.keys() - before.keys())
    assert set(changes) == {"arrived", "born"}
    assert changes["arrived"] == second.summary.arrivals == round(0.1 * CHILDREN)
    assert all(int(k[1:]) > last for k in after.keys() - before.keys())
    assert second.summary.last_ordinal == max(int(k[1:]) for k in after)
    for row in after.values():
        if row["scenario"] == "born":
            assert AS_OF < date.fromisoformat(row["birth_date"]) <= NEXT_AS_OF
        if row["scenario"] == "arrived":
            assert row["is_resident"] == "1"
            assert row["is_migrant"] == "0"  # here for less than six months
    assert second.summary.round_number == 2


def test_leavers_are_gone(rounds: tuple[County, County]) -> None:
    first, second = rounds
    before, after = _children(first), _children(second)
    leavers = {k for k, row in after.items() if row["scenario"] == "moved_away"}
    assert leavers
    assert all(after[k]["is_resident"] == "0" for k in leavers)
    assert all(after[k]["is_migrant"] == after[k]["is_left_behind"] == "0" for k in leavers)
    assert any(before[k]["is_resident"] == "1" for k in leavers)
    for line in second.truth("records.csv"):
        if line["true_child_id"] in leavers:
            assert line["source"] not in WHILE_RESIDENT
    status = {
        (sheet.file, number): str(cells[sheet.column("状态")])
        for sheet in second.sheets()
        if sheet.source is not None and sheet.source.name == "police_residence"
        for number, cells in enumerate(sheet.rows, start=1)
    }
    cancelled = [
        status[(line["file"], int(line["row"]))]
        for line in second.truth("records.csv")
        if line["true_child_id"] in leavers and line["source"] == "police_residence"
    ]
    assert cancelled
    assert all(_text(value) == "注销" for value in cancelled)


def _text(value: object) -> str:
    return unicodedata.normalize("NFKC", str(value or "")).strip()


def test_keys_kept_by_some_sources_and_reissued_by_others(rounds: tuple[County, County]) -> None:
    first, second = rounds
    before, after = _keys(first), _keys(second)
    stayed = {k for k, row in _children(first).items()}
    compared: Counter[str] = Counter()
    for (source, child_id), keys in after.items():
        if child_id not in stayed or (source, child_id) not in before:
            continue
        old = before[(source, child_id)]
        compared[source] += 1
        if source in KEPT:
            assert keys == old, (source, child_id)
        elif source in GROWING:
            assert old <= keys, (source, child_id)
        elif source in REISSUED:
            assert not keys & old, (source, child_id)
    assert all(compared[source] for source in (*KEPT[:1], *GROWING, *REISSUED))
    for source in REISSUED:
        old_keys = {k for (s, _), keys in before.items() if s == source for k in keys}
        new_keys = {k for (s, _), keys in after.items() if s == source for k in keys}
        assert new_keys
        assert not old_keys & new_keys
    visits_before = {k for (s, _), keys in before.items() if s == "visit_survey" for k in keys}
    visits_after = {k for (s, _), keys in after.items() if s == "visit_survey" for k in keys}
    assert visits_after - visits_before  # new visits
    assert visits_after & visits_before  # and the earlier ones of children still here


def test_newborn_placeholders_get_their_names(rounds: tuple[County, County]) -> None:
    first, second = rounds
    placeholders = _placeholder_children(first)
    assert placeholders
    names_after = _names_by_child(second, "health_child")
    renamed = [k for k in placeholders if k in names_after]
    assert renamed
    children = _children(second)
    for child_id in renamed:
        assert names_after[child_id] == {children[child_id]["name"]}


def _placeholder_children(county: County) -> set[str]:
    return {
        child_id
        for child_id, found in _names_by_child(county, "health_child").items()
        if any(name.endswith(names.PLACEHOLDER_ENDINGS) for name in found)
    }


def _names_by_child(county: County, source: str) -> dict[str, set[str]]:
    lines = {
        (line["file"], line["sheet"], int(line["row"])): line
        for line in county.truth("records.csv")
        if not line["expected_reject"]
    }
    noisy = {
        (row["file"], row["sheet"], int(row["row"]))
        for row in county.truth("noise.csv")
        if row["column"] == "姓名"
    }
    found: dict[str, set[str]] = defaultdict(set)
    for sheet in county.sheets():
        if sheet.source is None or sheet.source.name != source:
            continue
        index = sheet.column("姓名")
        for number, cells in enumerate(sheet.rows, start=1):
            place = (sheet.file, sheet.sheet, number)
            if place in lines and place not in noisy:
                found[lines[place]["true_child_id"]].add(_text(cells[index]))
    return found


def test_next_round_is_deterministic_and_the_same_in_processes(
    rounds: tuple[County, County], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = rounds
    options = {"as_of": NEXT_AS_OF, "leave_share": 0.1, "arrive_share": 0.1, "birth_share": 0.2}
    generate_next(previous=first.out_dir, out_dir=tmp_path / "again", **options)  # type: ignore[arg-type]
    assert _digest(tmp_path / "again") == _digest(second.out_dir)
    monkeypatch.setattr(synth, "PARALLEL_FROM", 0)
    generate_next(previous=first.out_dir, out_dir=tmp_path / "processes", **options)  # type: ignore[arg-type]
    assert _digest(tmp_path / "processes") == _digest(second.out_dir)


def test_a_third_round_and_keys_kept_everywhere(
    rounds: tuple[County, County], tmp_path: Path
) -> None:
    _, second = rounds
    third = generate_next(
        previous=second.out_dir, out_dir=tmp_path / "r3", as_of=date(2026, 6, 30), reissue=()
    )
    assert third.round_number == 3
    county = County(tmp_path / "r3", third)
    before, after = _children(second), _children(county)
    assert set(before) <= set(after)
    assert all(after[k]["birth_date"] == before[k]["birth_date"] for k in before)
    old, new = _keys(second), _keys(county)
    kept = 0
    for (source, child_id), keys in old.items():
        if source in REISSUED and (source, child_id) in new:
            assert new[(source, child_id)] == keys
            kept += 1
    assert kept
    state = json.loads((tmp_path / "r3" / "truth" / "synth.json").read_text(encoding="utf-8"))
    assert [r["as_of"] for r in state["rounds"]] == ["2025-06-30", "2025-12-31", "2026-06-30"]


def test_a_round_without_newcomers_then_one_with(tmp_path: Path) -> None:
    small = NoiseSettings(boundary_cases=False)
    generate(out_dir=tmp_path / "r1", children=50, seed=2, as_of=AS_OF, noise=small)
    quiet = generate_next(
        previous=tmp_path / "r1",
        out_dir=tmp_path / "r2",
        as_of=NEXT_AS_OF,
        leave_share=0,
        arrive_share=0,
        birth_share=0,
    )
    assert (quiet.children, quiet.last_ordinal) == (50, 50)
    busy = generate_next(
        previous=tmp_path / "r2",
        out_dir=tmp_path / "r3",
        as_of=date(2026, 6, 30),
        arrive_share=0.2,
        birth_share=1.0,
    )
    rows = County(tmp_path / "r3", busy).truth("children.csv")
    numbers = [int(row["true_child_id"][1:]) for row in rows]
    assert len(numbers) == len(set(numbers)) == busy.children > 60
    assert min(n for n in numbers if n > 50) == 51
    assert busy.last_ordinal == max(numbers)


def test_noise_of_the_next_round(rounds: tuple[County, County], tmp_path: Path) -> None:
    first, _ = rounds
    summary = generate_next(
        previous=first.out_dir,
        out_dir=tmp_path / "noisy",
        as_of=NEXT_AS_OF,
        noise=NoiseSettings(name_swap=0.2, key_reuse=0.02),
    )
    assert summary.noise.name_swap == 0.2
    kinds = Counter(r["kind"] for r in County(tmp_path / "noisy", summary).truth("noise.csv"))
    assert kinds["name_swap"]
    assert kinds["key_reuse"]


def test_a_replay_that_differs_is_refused(rounds: tuple[County, County], tmp_path: Path) -> None:
    first, _ = rounds
    copy = tmp_path / "r1"
    (copy / "truth").mkdir(parents=True)
    state = json.loads((first.out_dir / "truth" / "synth.json").read_text(encoding="utf-8"))
    state["rounds"][0]["result"]["fingerprints"][0] = "0" * 32
    (copy / "truth" / "synth.json").write_text(json.dumps(state), encoding="utf-8")
    with pytest.raises(SynthError, match="不一致"):
        generate_next(previous=copy, out_dir=tmp_path / "r2", as_of=NEXT_AS_OF)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"as_of": AS_OF}, "应晚于上一轮"),
        ({"leave_share": 1.5}, "迁出比例"),
        ({"arrive_share": -0.1}, "迁入比例"),
        ({"reissue": ("police",)}, "未知的数据来源"),
        ({"reissue": ("disability_cert",)}, "不能重新编号"),
        ({"seed": -1}, "随机种子"),
    ],
)
def test_bad_next_round_arguments(
    rounds: tuple[County, County], tmp_path: Path, options: dict[str, object], message: str
) -> None:
    first, _ = rounds
    arguments: dict[str, object] = {"as_of": NEXT_AS_OF, **options}
    with pytest.raises(SynthError, match=message):
        generate_next(previous=first.out_dir, out_dir=tmp_path / "x", **arguments)  # type: ignore[arg-type]


def test_a_folder_without_its_generation_state(tmp_path: Path) -> None:
    with pytest.raises(SynthError, match=r"synth\.json"):
        generate_next(previous=tmp_path, out_dir=tmp_path / "x", as_of=NEXT_AS_OF)


def test_intake_of_the_next_round_matches_its_truth(
    rounds: tuple[County, County], tmp_path: Path
) -> None:
    assert intake_mismatches(rounds[1].out_dir, tmp_path) == []


# Every setting moderately high at once (the shares of each group sum to at most 1).
NOISY = {
    **{name: 0.2 for name in synth.NOISE_FIELDS if name != "boundary_cases"},
    "name_noise": 3.0,
    "repeat_rows": 0.1,
    "duplicate_key_rows": 0.1,
    "missing_name_rows": 0.05,
    "missing_identity_rows": 0.05,
    "missing_both_rows": 0.05,
    "key_reuse": 0.3,
}


@pytest.mark.parametrize(
    ("noise", "children"),
    [
        ({"boundary_cases": False, "key_reuse": 0.02}, 160),
        ({"boundary_cases": False, "key_reuse": 0.5}, 160),
        (NOISY, 400),
    ],
    ids=["key_reuse", "key_reuse_high", "everything"],
)
def test_next_rounds_of_a_noisy_county(
    tmp_path: Path, noise: dict[str, object], children: int
) -> None:
    """The earlier rounds replay exactly whatever the noise: key_reuse used to draw against
    the previous record of a file after a later round had changed it in place."""
    settings = NoiseSettings.from_mapping(noise)
    generate(out_dir=tmp_path / "r1", children=children, seed=5, as_of=AS_OF, noise=settings)
    second = generate_next(previous=tmp_path / "r1", out_dir=tmp_path / "r2", as_of=NEXT_AS_OF)
    third = _busy_round(tmp_path / "r2", tmp_path / "r3")
    assert (second.round_number, third.round_number) == (2, 3)
    assert second.noise == third.noise == settings
    for number in (1, 2, 3):
        county = County(tmp_path / f"r{number}", second)
        kinds = Counter(row["kind"] for row in county.truth("noise.csv"))
        assert kinds["key_reuse"], number
    again = _busy_round(tmp_path / "r2", tmp_path / "again")
    assert again.rows_by_source == third.rows_by_source
    assert _digest(tmp_path / "again") == _digest(tmp_path / "r3")


def _busy_round(previous: Path, out_dir: Path) -> synth.SynthSummary:
    """A next round with many leavers, arrivals and births, every source keeping its keys."""
    return generate_next(
        previous=previous,
        out_dir=out_dir,
        as_of=date(2026, 6, 30),
        leave_share=0.2,
        arrive_share=0.2,
        birth_share=0.3,
        reissue=(),
    )
