"""The written feeds follow feeds.md, and the truth covers every row."""

from __future__ import annotations

import hashlib
import unicodedata
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from tonghu import synth
from tonghu.pipeline.read import source_for_name
from tonghu.synth import MIN_CHILDREN, SynthError, generate, ids
from tonghu.synth.columns import SOURCES, Kind
from tonghu.synth.layout import LOCK_FILE, OTHER_FILE, README_FILE
from tonghu.synth.tests.conftest import AS_OF, County, Sheet

ID_COLUMNS = {
    source.name: [c.name for c in source.columns if c.kind in {Kind.ID, Kind.PARENT_ID}]
    for source in SOURCES
}
KNOWN_EXTRA_HEADERS = {"序号", "备注", "提交渠道", "险种类型"}


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_same_arguments_give_identical_bytes(tmp_path: Path) -> None:
    first = generate(out_dir=tmp_path / "a", children=300, seed=3, as_of=AS_OF)
    second = generate(out_dir=tmp_path / "b", children=300, seed=3, as_of=AS_OF)
    assert first.rows_by_source == second.rows_by_source
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    other = generate(out_dir=tmp_path / "c", children=300, seed=4, as_of=AS_OF)
    assert _digest(tmp_path / "c") != _digest(tmp_path / "a")
    assert other.children == 300


def test_worker_processes_give_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = generate(out_dir=tmp_path / "here", children=300, seed=5, as_of=AS_OF)
    monkeypatch.setattr(synth, "PARALLEL_FROM", 0)
    seen: list[tuple[int, int]] = []
    there = generate(
        out_dir=tmp_path / "there",
        children=300,
        seed=5,
        as_of=AS_OF,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert here.rows_by_source == there.rows_by_source
    assert _digest(tmp_path / "here") == _digest(tmp_path / "there")
    assert seen[-1] == (300, 300)
    assert not (tmp_path / "there" / ".synth-work").exists()


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SynthError, match="儿童人数"):
        generate(out_dir=tmp_path / "x", children=MIN_CHILDREN - 1, seed=1, as_of=AS_OF)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "old.csv").write_text("x", encoding="utf-8")
    with pytest.raises(SynthError, match="不为空"):
        generate(out_dir=tmp_path / "full", children=MIN_CHILDREN, seed=1, as_of=AS_OF)


def test_every_source_has_a_file_and_names_follow_the_contract(county: County) -> None:
    names = sorted(path.name for path in county.feeds.iterdir())
    sources = {source_for_name(name) for name in names} - {None}
    assert {s.name for s in sources if s} == {s.name for s in SOURCES}
    for skipped in (LOCK_FILE, README_FILE, OTHER_FILE):
        assert skipped in names
        assert source_for_name(skipped) is None
    assert "cdc_vaccination-本区.csv" in names
    assert "police_residence_2025H1.csv" in names
    assert "edu_migrant.xlsx" in names


def test_headers_map_to_the_source_columns(county: County) -> None:
    for sheet in county.sheets():
        if sheet.sheet == "填表说明":
            assert sheet.source is not None
            assert sheet.source.key not in sheet.canonical_header()
            continue
        assert sheet.source is not None
        canonical = sheet.canonical_header()
        unknown = [h for h, c in zip(sheet.header, canonical, strict=True) if c is None]
        assert set(unknown) <= KNOWN_EXTRA_HEADERS, (sheet.file, unknown)
        found = [c for c in canonical if c]
        assert len(found) == len(set(found)), sheet.file
        assert sheet.source.key in found
        for column in sheet.source.columns:
            if column.kind is Kind.NAME:
                assert column.name in found, (sheet.file, column.name)


def test_messy_headers_are_present(county: County) -> None:
    headers = [cell for sheet in county.sheets() for cell in sheet.header]
    assert any(h.startswith("*") for h in headers)
    assert any("（" in h or "(" in h for h in headers)
    assert any(h != h.strip() for h in headers)
    assert any(unicodedata.normalize("NFKC", h) != h for h in headers)
    aliases = {"证件编号", "受种者编码", "全国学籍号", "档案编号"}
    assert aliases & {h.lstrip("*") for h in headers}


def test_truth_records_cover_every_written_row(county: County) -> None:
    truth: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for row in county.truth("records.csv"):
        truth[(row["file"], row["sheet"])].append(row)
    children = {row["true_child_id"] for row in county.truth("children.csv")}
    seen = set()
    for sheet in county.sheets():
        if sheet.sheet == "填表说明":
            continue
        assert sheet.source is not None
        expected = truth[(sheet.file, sheet.sheet)]
        assert len(expected) == len(sheet.rows), (sheet.file, sheet.sheet)
        key_index = sheet.column(sheet.source.key)
        for number, (cells, line) in enumerate(zip(sheet.rows, expected, strict=True), start=1):
            assert line["source"] == sheet.source.name
            assert int(line["row"]) == number
            assert str(cells[key_index]) == line["record_key"]
            assert line["true_child_id"] in children
        seen.add((sheet.file, sheet.sheet))
    assert seen == set(truth)


def test_expected_rejects_match_the_rows(county: County) -> None:
    reasons: Counter[str] = Counter()
    lines = {(r["file"], r["sheet"], int(r["row"])): r for r in county.truth("records.csv")}
    for sheet in county.sheets():
        if sheet.sheet == "填表说明":
            continue
        assert sheet.source is not None
        name_index = next(sheet.column(c.name) for c in sheet.source.columns if c.kind is Kind.NAME)
        for number, cells in enumerate(sheet.rows, start=1):
            line = lines[(sheet.file, sheet.sheet, number)]
            expected = set(filter(None, line["expected_reject"].split(";")))
            reasons.update(expected)
            name_empty = not str(cells[name_index] or "").strip()
            assert name_empty == ("missing_name" in expected), (sheet.file, number)
            if "missing_identity" in expected:
                assert not _usable_identity(sheet, cells)
            elif "missing_name" not in expected:
                assert _usable_identity(sheet, cells), (sheet.file, number)
    assert {"missing_name", "missing_identity", "duplicate_key"} <= set(reasons)


def _usable_identity(sheet: Sheet, cells: list[object]) -> bool:
    assert sheet.source is not None
    canonical = sheet.canonical_header()
    for index, column in enumerate(canonical):
        if column is None:
            continue
        kind = sheet.source.column(column).kind
        value = cells[index]
        if kind is Kind.BIRTH and value not in (None, "", "不详", "待补录"):
            return True
        if kind is Kind.ID and ids.is_valid(_half(str(value or ""))):
            return True
        if sheet.source.name == "disability_cert" and kind is Kind.KEY:
            return ids.is_valid(_half(str(value))[:18])
        if kind is Kind.ID and len(_half(str(value or ""))) == ids.LEGACY_LENGTH:
            return True
    return False


def _half(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def test_duplicate_keys_and_repeats(county: County) -> None:
    lines = county.truth("records.csv")
    by_key: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for line in lines:
        by_key[(line["source"], line["record_key"])].append(line)
    repeats = [line for line in lines if line["identical_repeat"] == "1"]
    duplicates = [line for line in lines if line["expected_reject"] == "duplicate_key"]
    assert repeats
    assert duplicates
    rows = {
        (sheet.file, sheet.sheet, number): cells
        for sheet in county.sheets()
        for number, cells in enumerate(sheet.rows, start=1)
    }
    for line in repeats + duplicates:
        group = by_key[(line["source"], line["record_key"])]
        first = group[0]
        assert first is not line
        assert first["expected_reject"] == ""
        same = (
            rows[(first["file"], first["sheet"], int(first["row"]))]
            == rows[(line["file"], line["sheet"], int(line["row"]))]
        )
        assert same == (line["identical_repeat"] == "1")


def test_id_numbers_marked_valid_pass_and_marked_invalid_fail(county: County) -> None:
    bad = {
        (n["file"], n["sheet"], int(n["row"]), n["column"])
        for n in county.truth("noise.csv")
        if n["kind"] == "id_bad_check"
    }
    checked = {"valid": 0, "invalid": 0, "legacy": 0}
    for sheet in county.sheets():
        if sheet.sheet == "填表说明":
            continue
        assert sheet.source is not None
        canonical = sheet.canonical_header()
        for number, cells in enumerate(sheet.rows, start=1):
            for index, column in enumerate(canonical):
                if column not in ID_COLUMNS[sheet.source.name] and not (
                    sheet.source.name == "disability_cert" and column == sheet.source.key
                ):
                    continue
                value = _half(str(cells[index] or ""))[:18]
                if not value:
                    continue
                if (sheet.file, sheet.sheet, number, column) in bad:
                    assert not ids.is_valid(value)
                    checked["invalid"] += 1
                elif len(value) == ids.LEGACY_LENGTH:
                    assert ids.is_valid(ids.upgrade(value))
                    checked["legacy"] += 1
                else:
                    assert ids.is_valid(value), (sheet.file, number, column, value)
                    checked["valid"] += 1
    assert all(checked.values()), checked
    for child in county.truth("children.csv"):
        assert child["id_number"] == "" or ids.is_valid(child["id_number"])


def test_gb18030_file_is_not_utf8(county: County) -> None:
    raw = (county.feeds / "police_residence_2025H1_补充.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert raw.decode("gb18030").startswith("证件编号,儿童姓名")
    bom = (county.feeds / "police_residence_2025H1.csv").read_bytes()
    assert bom.startswith(b"\xef\xbb\xbf")


def test_xlsx_files_open_and_have_a_notes_sheet(county: County) -> None:
    workbooks = sorted(county.feeds.glob("[!~]*.xlsx"))
    assert len(workbooks) >= 3
    for path in workbooks:
        book = openpyxl.load_workbook(path, read_only=True)
        assert book.sheetnames
        book.close()
    edu = openpyxl.load_workbook(county.feeds / "edu_migrant.xlsx", read_only=True)
    assert "填表说明" in edu.sheetnames
    values = [v for row in edu.worksheets[0].iter_rows(values_only=True) for v in row]
    assert any(isinstance(v, date) for v in values)
    assert any(isinstance(v, int) and 30000 < v < 50000 for v in values)
    edu.close()


def test_values_carry_the_expected_noise(county: County) -> None:
    kinds = Counter(n["kind"] for n in county.truth("noise.csv"))
    for kind in ("id_lower_x", "id_full_width", "id_legacy15", "id_bad_check", "id_missing",
                 "name_homophone", "name_traditional", "name_inner_space", "date_excel_serial",
                 "date_format_mix", "sex_unknown"):  # fmt: skip
        assert kinds[kind], kind
    text = "\n".join(
        str(cell) for sheet in county.sheets() for row in sheet.rows for cell in row if cell
    )
    for sample in ("之子", "年", "/", "+86", "-", "不详", "注销"):
        assert sample in text, sample
    assert any(sep in text for sep in "·•‧・")
