"""Noise settings: validation, determinism, small counties, and each knob moving its share."""

from __future__ import annotations

import hashlib
import itertools
import re
import tempfile
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import fields, replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tonghu import synth
from tonghu.synth import (
    MIN_CHILDREN,
    MIN_CHILDREN_WITHOUT_BOUNDARIES,
    NoiseSettings,
    SynthError,
    generate,
    ids,
    names,
)
from tonghu.synth.columns import SOURCE_BY_NAME, Kind
from tonghu.synth.settings import FIELDS
from tonghu.synth.tests.conftest import AS_OF, County, Sheet, intake_mismatches

SMALL = NoiseSettings(boundary_cases=False)
CHILDREN = 300
EXCEL_EPOCH = date(1899, 12, 30)


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _small(changes: Mapping[str, object]) -> NoiseSettings:
    """The settings of a small county (no boundary cases) with ``changes``."""
    return NoiseSettings.from_mapping({**SMALL.changed(), **changes})


def _county(
    folder: Path, settings: NoiseSettings, children: int = CHILDREN, seed: int = 3
) -> County:
    summary = generate(out_dir=folder, children=children, seed=seed, as_of=AS_OF, noise=settings)
    return County(folder, summary)


# Validation ------------------------------------------------------------------------------------
def test_defaults_are_todays_noise_and_round_trip_as_text() -> None:
    assert NoiseSettings().to_text() == ""
    assert NoiseSettings.parse("") == NoiseSettings()
    parsed = NoiseSettings.parse(" twins=0.1， name_swap=5% ; boundary_cases=否,key_reuse=0.015 ")
    assert parsed.twins == 0.1
    assert parsed.name_swap == 0.05
    assert parsed.boundary_cases is False
    assert NoiseSettings.parse(parsed.to_text()) == parsed
    assert NoiseSettings.from_mapping(parsed.changed()) == parsed
    assert list(FIELDS) == [item.name for item in fields(NoiseSettings)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nonsense=1", "未知的干扰设置：nonsense"),
        ("twins=1.5", "应在 0 到 1 之间"),
        ("twins=-0.1", "应在 0 到 1 之间"),
        ("twins=nan", "应在 0 到 1 之间"),
        ("name_noise=11", "应在 0 到 10 之间"),
        ("twins", "名称=数值"),
        ("twins=", "名称=数值"),
        ("twins=abc", "应为数值"),
        ("twins=0.1,twins=0.2", "重复"),
        ("boundary_cases=maybe", "是/否"),
        ("address_no_province=0.6,address_town_village=0.5", "之和"),
        ("repeat_rows=0.7,duplicate_key_rows=0.4", "之和"),
    ],
)
def test_bad_settings_are_refused_in_chinese(text: str, message: str) -> None:
    with pytest.raises(SynthError, match=message):
        NoiseSettings.parse(text)


def test_settings_objects_check_their_values(tmp_path: Path) -> None:
    with pytest.raises(SynthError, match="twins"):
        NoiseSettings(twins=True)
    with pytest.raises(SynthError, match="boundary_cases"):
        NoiseSettings(boundary_cases=1)  # type: ignore[arg-type]
    with pytest.raises(SynthError, match="key_reuse"):
        replace(SMALL, key_reuse=2.0)
    with pytest.raises(SynthError, match="NoiseSettings"):
        generate(out_dir=tmp_path / "x", children=300, seed=1, as_of=AS_OF, noise="twins=0.1")  # type: ignore[arg-type]


# Small counties and determinism ------------------------------------------------------------------
def test_small_counties_without_boundary_cases(tmp_path: Path) -> None:
    tiny = generate(
        out_dir=tmp_path / "tiny",
        children=MIN_CHILDREN_WITHOUT_BOUNDARIES,
        seed=1,
        as_of=AS_OF,
        noise=SMALL,
    )
    assert tiny.children == MIN_CHILDREN_WITHOUT_BOUNDARIES
    county = _county(tmp_path / "sixty", SMALL, children=60)
    assert county.summary.children == 60
    assert county.summary.seconds < 2
    assert not any(row["scenario"] for row in county.truth("children.csv"))
    with pytest.raises(SynthError, match="儿童人数"):
        generate(out_dir=tmp_path / "a", children=19, seed=1, as_of=AS_OF, noise=SMALL)
    with pytest.raises(SynthError, match="boundary_cases=0"):
        generate(out_dir=tmp_path / "b", children=MIN_CHILDREN - 1, seed=1, as_of=AS_OF)


def test_same_settings_give_identical_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    noisy = replace(SMALL, name_swap=0.1, birth_shift=0.3, key_reuse=0.02, address_town_village=0.3)
    _county(tmp_path / "a", noisy, children=80)
    _county(tmp_path / "b", noisy, children=80)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    monkeypatch.setattr(synth, "PARALLEL_FROM", 0)
    _county(tmp_path / "c", noisy, children=80)
    assert _digest(tmp_path / "c") == _digest(tmp_path / "a")
    _county(tmp_path / "d", replace(noisy, name_swap=0.2), children=80)
    assert _digest(tmp_path / "d") != _digest(tmp_path / "a")


def test_no_settings_are_the_default_settings(tmp_path: Path) -> None:
    generate(out_dir=tmp_path / "a", children=300, seed=2, as_of=AS_OF)
    generate(out_dir=tmp_path / "b", children=300, seed=2, as_of=AS_OF, noise=NoiseSettings())
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")


def test_cell_noise_leaves_the_truth_alone(tmp_path: Path) -> None:
    """Noise the writer adds (not the facts of records) keeps children.csv byte-identical."""
    plain = _county(tmp_path / "plain", SMALL, children=200)
    noisy = _county(
        tmp_path / "noisy",
        replace(
            SMALL,
            id_missing=0.3,
            name_noise=4.0,
            name_swap=0.3,
            birth_shift=0.5,
            residence_code_missing=0.4,
            hukou_code_missing=0.4,
            address_no_province=0.2,
            address_county_short=0.2,
            address_town_village=0.2,
            address_street_office=0.2,
            repeat_rows=0.05,
            duplicate_key_rows=0.05,
        ),
        children=200,
    )
    for name in ("children.csv", "services.csv"):
        assert (plain.out_dir / "truth" / name).read_bytes() == (
            noisy.out_dir / "truth" / name
        ).read_bytes()


# Each knob moves its share ------------------------------------------------------------------------
def _noise_kinds(county: County, *kinds: str) -> int:
    return sum(row["kind"] in kinds for row in county.truth("noise.csv"))


def _cells(county: County, source: str, column: str) -> list[str]:
    found = []
    for sheet in county.sheets():
        if sheet.source is None or sheet.source.name != source or sheet.sheet == "填表说明":
            continue
        index = sheet.column(column)
        found += [_text(cells[index]) for cells in sheet.rows]
    return found


def _text(value: object) -> str:
    return unicodedata.normalize("NFKC", str(value or "")).strip()


def _twins(county: County) -> list[tuple[dict[str, str], dict[str, str]]]:
    rows = county.truth("children.csv")
    return [
        (a, b)
        for a, b in itertools.pairwise(rows)
        if a["birth_date"] == b["birth_date"] and a["hukou_code"] == b["hukou_code"]
    ]


def _similar(pair: tuple[dict[str, str], dict[str, str]]) -> bool:
    first, second = (names.split_name(row["name"])[1] for row in pair)
    return first[:1] == second[:1]


def _placeholders(county: County) -> int:
    return sum(
        name.endswith(names.PLACEHOLDER_ENDINGS)
        for source in ("health_child", "cdc_vaccination")
        for name in _cells(county, source, "姓名")
    )


def _with_id(source: str) -> Callable[[County], float]:
    def share(county: County) -> float:
        cells = _cells(county, source, "身份证号")
        return sum(bool(cell) for cell in cells) / max(1, len(cells))

    return share


def _child_id_missing(county: County) -> int:
    child_id_columns = {
        (source.name, column.name)
        for source in SOURCE_BY_NAME.values()
        for column in source.columns
        if column.kind is Kind.ID
    }
    return sum(
        row["kind"] == "id_missing" and (row["source"], row["column"]) in child_id_columns
        for row in county.truth("noise.csv")
    )


def _expected(reason: str, *, repeat: bool = False) -> Callable[[County], int]:
    def count(county: County) -> int:
        return sum(
            row["expected_reject"] == reason and (row["identical_repeat"] == "1") == repeat
            for row in county.truth("records.csv")
        )

    return count


def _kinds(*kinds: str) -> Callable[[County], int]:
    return lambda county: _noise_kinds(county, *kinds)


NAME_NOISE = ("name_homophone", "name_traditional", "name_inner_space", "name_typo",
              "name_outer_space")  # fmt: skip
# knob -> (settings with little of it, settings with much of it, what to count)
KNOBS: dict[str, tuple[dict[str, object], dict[str, object], Callable[[County], float]]] = {
    "twins": ({"twins": 0.0}, {"twins": 0.5}, lambda c: len(_twins(c))),
    "twin_similar_names": (
        {"twins": 0.5},
        {"twins": 0.5, "twin_similar_names": 1.0},
        lambda c: sum(map(_similar, _twins(c))) / max(1, len(_twins(c))),
    ),
    "newborn_placeholder": (
        {"newborn_placeholder": 0.0},
        {"newborn_placeholder": 1.0},
        _placeholders,
    ),
    "early_placeholder": ({}, {"early_placeholder": 0.8}, _kinds("name_placeholder")),
    "health_id": ({"health_id": 0.1}, {"health_id": 0.9}, _with_id("health_child")),
    "cdc_id": ({"cdc_id": 0.1}, {"cdc_id": 0.9}, _with_id("cdc_vaccination")),
    "id_missing": ({"id_missing": 0.0}, {"id_missing": 0.3}, _child_id_missing),
    "name_noise": ({"name_noise": 0.0}, {"name_noise": 5.0}, _kinds(*NAME_NOISE)),
    "name_swap": ({}, {"name_swap": 0.3}, _kinds("name_swap")),
    "birth_shift": ({}, {"birth_shift": 0.5}, _kinds("birth_shift")),
    "residence_code_missing": (
        {},
        {"residence_code_missing": 0.4},
        _kinds("residence_code_missing"),
    ),
    "hukou_code_missing": ({}, {"hukou_code_missing": 0.4}, _kinds("hukou_code_missing")),
    "address_no_province": ({}, {"address_no_province": 0.5}, _kinds("address_no_province")),
    "address_county_short": ({}, {"address_county_short": 0.5}, _kinds("address_county_short")),
    "address_town_village": ({}, {"address_town_village": 0.5}, _kinds("address_town_village")),
    "address_street_office": (
        {},
        {"address_street_office": 0.5},
        _kinds("address_street_office"),
    ),
    "repeat_rows": ({"repeat_rows": 0.0}, {"repeat_rows": 0.05}, _expected("", repeat=True)),
    "duplicate_key_rows": (
        {"duplicate_key_rows": 0.0},
        {"duplicate_key_rows": 0.05},
        _expected("duplicate_key"),
    ),
    "missing_name_rows": (
        {"missing_name_rows": 0.0},
        {"missing_name_rows": 0.05},
        _expected("missing_name"),
    ),
    "missing_identity_rows": (
        {"missing_identity_rows": 0.0},
        {"missing_identity_rows": 0.05},
        _expected("missing_identity"),
    ),
    "missing_both_rows": (
        {"missing_both_rows": 0.0},
        {"missing_both_rows": 0.05},
        _expected("missing_name;missing_identity"),
    ),
    "key_reuse": ({}, {"key_reuse": 0.05}, _kinds("key_reuse")),
    "boundary_cases": (
        {"boundary_cases": False},
        {"boundary_cases": True},
        lambda c: sum(bool(row["scenario"]) for row in c.truth("children.csv")),
    ),
}


def test_every_setting_has_a_knob_test() -> None:
    assert set(KNOBS) == set(FIELDS)


@pytest.fixture(scope="module")
def counties(tmp_path_factory: pytest.TempPathFactory) -> Callable[[NoiseSettings, int], County]:
    """Counties by settings and size, each generated once for the module."""
    made: dict[tuple[NoiseSettings, int], County] = {}

    def county(settings: NoiseSettings, children: int) -> County:
        if (settings, children) not in made:
            folder = tmp_path_factory.mktemp("knob") / "county"
            made[(settings, children)] = _county(folder, settings, children=children)
        return made[(settings, children)]

    return county


@pytest.mark.parametrize("knob", sorted(KNOBS))
def test_each_knob_changes_its_share(
    counties: Callable[[NoiseSettings, int], County], knob: str
) -> None:
    low, high, measure = KNOBS[knob]
    children = 1000 if knob == "newborn_placeholder" else CHILDREN
    little = measure(counties(_small(low), children))
    much = measure(counties(_small(high), children))
    assert much > little, (knob, little, much)
    if not low or all(value == 0 for value in low.values()):
        assert little == 0, (knob, little)  # a knob set to 0 (or left at 0) adds none


def test_shares_come_out_near_their_settings(tmp_path: Path) -> None:
    county = _county(
        tmp_path / "c",
        replace(SMALL, name_swap=0.2, residence_code_missing=0.3, address_town_village=0.5),
        children=1000,
    )
    swappable = [n for n in _cells(county, "edu_migrant", "姓名") if names.swapped(n)]
    swapped = sum(
        row["kind"] == "name_swap" and row["source"] == "edu_migrant"
        for row in county.truth("noise.csv")
    )
    assert 0.1 < swapped / len(swappable) < 0.3
    codes = _cells(county, "edu_migrant", "现住址区划代码")
    assert 0.2 < sum(not code for code in codes) / len(codes) < 0.4
    addresses = _cells(county, "edu_migrant", "现住址")
    assert 0.4 < sum(not a.startswith("河南省") for a in addresses) / len(addresses) < 0.6


# The noise log points at cells that show it ----------------------------------------------------
@pytest.fixture(scope="module")
def noisy(tmp_path_factory: pytest.TempPathFactory) -> County:
    settings = replace(
        SMALL, twins=0.2, twin_similar_names=0.5, early_placeholder=0.5, name_swap=0.2,
        birth_shift=0.5, residence_code_missing=0.3, hukou_code_missing=0.3,
        address_no_province=0.2, address_county_short=0.2, address_town_village=0.2,
        address_street_office=0.3, key_reuse=0.05,
    )  # fmt: skip
    return _county(tmp_path_factory.mktemp("noisy") / "county", settings, children=600)


def _date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int):
        return EXCEL_EPOCH + timedelta(days=value)
    parts = [int(p) for p in re.findall(r"\d+", _text(value))]
    if len(parts) == 1 and len(str(parts[0])) == 8:
        text = str(parts[0])
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    if len(parts) == 3:
        return date(*parts)
    return None


def test_new_noise_is_in_the_cells_it_names(noisy: County) -> None:
    sheets: dict[tuple[str, str], Sheet] = {(s.file, s.sheet): s for s in noisy.sheets()}
    lines = {(r["file"], r["sheet"], r["row"]): r for r in noisy.truth("records.csv")}
    children = {row["true_child_id"]: row for row in noisy.truth("children.csv")}
    seen: Counter[str] = Counter()
    for entry in noisy.truth("noise.csv"):
        sheet = sheets[(entry["file"], entry["sheet"])]
        cells = sheet.rows[int(entry["row"]) - 1]
        cell = cells[sheet.column(entry["column"])]
        line = lines[(entry["file"], entry["sheet"], entry["row"])]
        truth = children[line["true_child_id"]]
        kind = entry["kind"]
        seen[kind] += 1
        if kind == "name_swap":
            assert _text(cell) != truth["name"]
            assert sorted(_text(cell)) == sorted(truth["name"])
        elif kind == "birth_shift":
            stated = _date(cell)
            assert stated is not None
            assert abs((stated - date.fromisoformat(truth["birth_date"])).days) == 1
        elif kind in {"residence_code_missing", "hukou_code_missing"}:
            assert _text(cell) == ""
        elif kind == "address_no_province":
            assert _text(cell).startswith("新华区")
        elif kind == "address_county_short":
            assert _text(cell).startswith("新华")
            assert not _text(cell).startswith("新华区")
        elif kind == "address_town_village":
            assert not _text(cell).startswith(("河南", "新华"))
        elif kind == "address_street_office":
            assert re.search(r"\D\d+号\d+号楼$", _text(cell))
        elif kind == "name_placeholder":
            assert _text(cell).endswith(names.PLACEHOLDER_ENDINGS)
        elif kind == "key_reuse":
            assert line["expected_reject"] == "duplicate_key" or line["identical_repeat"] == "1"
    for kind in ("name_swap", "birth_shift", "residence_code_missing", "hukou_code_missing",
                 "address_no_province", "address_county_short", "address_town_village",
                 "address_street_office", "name_placeholder", "key_reuse"):  # fmt: skip
        assert seen[kind], kind


def test_a_reused_key_follows_the_row_that_owns_it(noisy: County) -> None:
    lines = noisy.truth("records.csv")
    first: dict[tuple[str, str], dict[str, str]] = {}
    reused = {
        (r["file"], r["sheet"], r["row"])
        for r in noisy.truth("noise.csv")
        if r["kind"] == "key_reuse"
    }
    checked = 0
    for line in lines:
        key = (line["source"], line["record_key"])
        if (line["file"], line["sheet"], line["row"]) in reused:
            owner = first[key]
            assert owner["expected_reject"] == ""
            assert (owner["file"], owner["sheet"]) == (line["file"], line["sheet"])
            assert int(owner["row"]) < int(line["row"])
            checked += 1
        first.setdefault(key, line)
    assert checked


def test_intake_of_a_noisy_county_matches_its_truth(noisy: County, tmp_path: Path) -> None:
    """Reused keys, repeats and copies without identity are rejected exactly as the truth
    says, whatever the settings."""
    assert intake_mismatches(noisy.out_dir, tmp_path) == []


def test_twins_with_similar_names(noisy: County) -> None:
    pairs = _twins(noisy)
    assert pairs
    assert any(_similar(pair) and pair[0]["name"] != pair[1]["name"] for pair in pairs)


# Any settings: the written county keeps its invariants -----------------------------------------
SHARE = st.sampled_from([0.0, 0.05, 0.3])
HYPOTHESIS_KNOBS = (
    "twins", "early_placeholder", "id_missing", "name_swap", "birth_shift",
    "residence_code_missing", "hukou_code_missing", "address_street_office", "repeat_rows",
    "duplicate_key_rows", "missing_name_rows", "key_reuse",
)  # fmt: skip


@hypothesis_settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    children=st.integers(min_value=40, max_value=120),
    seed=st.integers(min_value=0, max_value=10_000),
    changes=st.fixed_dictionaries(dict.fromkeys(HYPOTHESIS_KNOBS, SHARE)),
)
def test_any_settings_give_a_consistent_county(
    children: int, seed: int, changes: dict[str, float]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        county = _county(Path(folder) / "c", _small(changes), children, seed)
        truth = county.truth("children.csv")
        assert len(truth) == children
        known = {row["true_child_id"] for row in truth}
        per_sheet: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
        for line in county.truth("records.csv"):
            assert line["true_child_id"] in known
            per_sheet[(line["file"], line["sheet"])].append(line)
        for sheet in county.sheets():
            if sheet.sheet == "填表说明":
                continue
            assert sheet.source is not None
            lines = per_sheet.pop((sheet.file, sheet.sheet), [])
            assert len(lines) == len(sheet.rows)
            name = next(c.name for c in sheet.source.columns if c.kind is Kind.NAME)
            name_index = sheet.column(name)
            for cells, line in zip(sheet.rows, lines, strict=True):
                assert (not _text(cells[name_index])) == ("missing_name" in line["expected_reject"])
        assert not per_sheet
        for row in truth:
            assert row["id_number"] == "" or ids.is_valid(row["id_number"])
