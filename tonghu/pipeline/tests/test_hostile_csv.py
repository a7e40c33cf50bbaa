"""Hostile CSV feeds are read whole or refused whole (see hostile.py), and values the
database cannot hold as they come do not break a round."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from tonghu.pipeline.tests.hostile import (
    ADDRESS,
    BASE,
    HEADER,
    SETTINGS,
    Change,
    Draw,
    any_row,
    baseline,
    cell_text,
    check_outcome,
    each_mutation,
    ingest_feed,
    text_for,
    valid_id,
)


@dataclass
class CsvFeed:
    header: list[str] = field(default_factory=lambda: list(HEADER))
    rows: list[tuple[int | None, list[str]]] = field(
        default_factory=lambda: [(index, list(row)) for index, row in enumerate(BASE)]
    )
    raw: dict[int, str] = field(default_factory=dict)  # row position -> line as written
    encoding: str = "utf-8"
    newlines: list[str] | None = None  # one per line (header first); "\n" for all if None
    blank_after: set[int] = field(default_factory=set)
    final_newline: bool = True

    def build(self) -> tuple[bytes, list[tuple[int | None, int, int]]]:
        """The file's bytes, and each data row's base index and byte span (line end incl.)."""
        lines = [_csv_line(self.header)] + [
            self.raw.get(position, _csv_line(cells))
            for position, (_, cells) in enumerate(self.rows)
        ]
        newlines = self.newlines or ["\n"] * len(lines)
        out = bytearray()
        spans: list[tuple[int | None, int, int]] = []
        bom = self.encoding == "utf-8-sig"
        encoding = "utf-8" if bom else self.encoding
        if bom:
            out += b"\xef\xbb\xbf"
        for position, line in enumerate(lines):
            start = len(out)
            last = position == len(lines) - 1
            end = "" if last and not self.final_newline else newlines[position]
            out += (line + end).encode(encoding)
            if position > 0:
                spans.append((self.rows[position - 1][0], start, len(out)))
            if position - 1 in self.blank_after:
                out += newlines[position].encode(encoding)
        return bytes(out), spans

    def change(self, **kwargs: Any) -> Change:
        return Change(self.build()[0], **kwargs)


def _csv_line(cells: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)  # quotes cells holding CR or LF
    return buffer.getvalue().removesuffix("\r\n")


def _csv_cells(draw: Draw, count: int) -> Change:
    feed, row = CsvFeed(), any_row(draw)
    for _ in range(count):
        column = draw(st.integers(0, len(HEADER) - 1))
        feed.rows[row][1][column] = text_for(column, draw(cell_text))
    feed.encoding = draw(st.sampled_from(["utf-8", "gb18030"]))
    return feed.change(touched=frozenset({row}))


def _csv_extra_cells(draw: Draw) -> Change:
    feed, row = CsvFeed(), any_row(draw)
    feed.rows[row][1].extend(draw(st.lists(cell_text, min_size=1, max_size=5)))
    return feed.change(touched=frozenset({row}))


def _csv_short_row(draw: Draw) -> Change:
    feed, row = CsvFeed(), any_row(draw)
    del feed.rows[row][1][draw(st.integers(1, len(HEADER) - 1)) :]
    return feed.change(touched=frozenset({row}))


def _csv_quote(draw: Draw, *, open_: bool) -> Change:
    """A quote written as is (not escaped): at a cell's start it opens a quoted cell that
    never closes; inside a cell it is a plain character."""
    feed, row = CsvFeed(), any_row(draw)
    cells = list(feed.rows[row][1])
    column = draw(st.integers(0, len(HEADER) - 1))
    at = 0 if open_ else draw(st.integers(1, max(1, len(cells[column]))))
    cells[column] = cells[column][:at] + '"' + cells[column][at:]
    feed.raw[row] = ",".join(cells)
    return feed.change(touched=frozenset({row}))


def _csv_drop_row(draw: Draw) -> Change:
    feed, row = CsvFeed(), any_row(draw)
    del feed.rows[row]
    return feed.change(removed=frozenset({row}), rows=len(BASE) - 1)


def _csv_repeat_row(draw: Draw) -> Change:
    feed, row = CsvFeed(), any_row(draw)
    feed.rows.insert(row + 1, (None, list(feed.rows[row][1])))
    return feed.change(rows=len(BASE) + 1)


def _csv_encoding(encoding: str, *, second_bom: bool = False) -> Change:
    feed = CsvFeed(encoding=encoding)
    if second_bom:
        feed.header[0] = "\ufeff" + feed.header[0]
    return feed.change()


def _csv_newlines(draw: Draw, newline: str | None) -> Change:
    lines = len(BASE) + 1
    chosen = [newline] * lines if newline else draw(
        st.lists(st.sampled_from(["\n", "\r\n", "\r"]), min_size=lines, max_size=lines)
    )  # fmt: skip
    return CsvFeed(newlines=chosen).change()


def _csv_blank_lines(draw: Draw) -> Change:
    blank = set(draw(st.lists(st.integers(-1, len(BASE) - 1), max_size=4)))
    return CsvFeed(blank_after=blank).change()


def _csv_dup_header(draw: Draw) -> Change:
    feed = CsvFeed()
    feed.header.append(HEADER[draw(st.integers(0, len(HEADER) - 1))])
    for _, cells in feed.rows:
        cells.append(draw(cell_text))
    return feed.change()


def _csv_header_noise(draw: Draw) -> Change:
    feed = CsvFeed()
    column = draw(st.integers(0, len(HEADER) - 1))
    noise = draw(st.sampled_from(["* {}", "{}（必填）", " {} ", "{}(YYYY-MM-DD)", "\u3000{}"]))
    feed.header[column] = noise.format(feed.header[column])
    return feed.change()


def _csv_insert_bytes(draw: Draw) -> Change:
    """Bytes put anywhere. Printable ones inside a data row (not between CR and LF) touch
    that row only; anything else may change the rows or the encoding."""
    content, spans = CsvFeed().build()
    at = draw(st.integers(0, len(content)))
    inserted = draw(st.binary(min_size=1, max_size=8))
    printable = all(0x21 <= byte <= 0x7E and byte not in b'",' for byte in inserted)
    hit = [index for index, start, end in spans if start < at < end]
    kept_apart = printable and bool(hit) and content[at - 1 : at + 1] != b"\r\n"
    return Change(
        content[:at] + inserted + content[at:],
        touched=frozenset(i for i in hit if i is not None),
        may_refuse=True,
        rows=len(BASE) if kept_apart else None,
        strong=kept_apart,
    )


def _csv_truncate(draw: Draw) -> Change:
    """The file cut off anywhere: the rows before the cut stay, the cut one is touched."""
    content, spans = CsvFeed(encoding=draw(st.sampled_from(["utf-8", "gb18030"]))).build()
    at = draw(st.integers(0, len(content) - 1))
    return Change(
        content[:at],
        touched=frozenset(i for i, start, end in spans if start < at < end and i is not None),
        removed=frozenset(i for i, start, _ in spans if start >= at and i is not None),
        rows=sum(1 for _, start, _ in spans if start < at),
        may_refuse=True,
    )


def _csv_bad_gb18030(draw: Draw) -> Change:
    content, _ = CsvFeed(encoding="gb18030").build()
    at = draw(st.integers(0, len(content)))
    return Change(content[:at] + b"\x81\x20" + content[at:], may_refuse=True, strong=False)


def _csv_flip_bytes(draw: Draw) -> Change:
    flipped = bytearray(CsvFeed().build()[0])
    for at in draw(st.lists(st.integers(0, len(flipped) - 1), min_size=1, max_size=4)):
        flipped[at] ^= draw(st.integers(1, 255))
    return Change(bytes(flipped), may_refuse=True, rows=None, strong=False)


CSV_MUTATIONS: dict[str, Callable[[Draw], Change]] = {
    "cell": lambda draw: _csv_cells(draw, 1),
    "cells": lambda draw: _csv_cells(draw, draw(st.integers(2, 4))),
    "extra_cells": _csv_extra_cells,
    "short_row": _csv_short_row,
    "open_quote": lambda draw: _csv_quote(draw, open_=True),
    "inner_quote": lambda draw: _csv_quote(draw, open_=False),
    "drop_row": _csv_drop_row,
    "repeat_row": _csv_repeat_row,
    "bom": lambda _: _csv_encoding("utf-8-sig"),
    "double_bom": lambda _: _csv_encoding("utf-8-sig", second_bom=True),
    "gb18030": lambda _: _csv_encoding("gb18030"),
    "cr": lambda draw: _csv_newlines(draw, "\r"),
    "crlf": lambda draw: _csv_newlines(draw, "\r\n"),
    "mixed_newlines": lambda draw: _csv_newlines(draw, None),
    "blank_lines": _csv_blank_lines,
    "no_final_newline": lambda _: CsvFeed(final_newline=False).change(),
    "dup_header": _csv_dup_header,
    "header_noise": _csv_header_noise,
    "insert_bytes": _csv_insert_bytes,
    "truncate": _csv_truncate,
    "bad_gb18030": _csv_bad_gb18030,
    "flip_bytes": _csv_flip_bytes,
}


CSV_EXAMPLES = {"cell": 8, "cells": 6, "insert_bytes": 6, "truncate": 6, "flip_bytes": 4}


@pytest.fixture(scope="module")
def baseline_csv(divisions: pa.Table) -> dict[str, dict[str, Any]]:
    return baseline("police_residence.csv", CsvFeed().build()[0], divisions)


@pytest.mark.parametrize(("kind", "examples"), each_mutation(CSV_MUTATIONS, CSV_EXAMPLES))
def test_a_hostile_csv_is_read_whole_or_refused_whole(
    kind: str, examples: int, baseline_csv: dict[str, dict[str, Any]], divisions: pa.Table
) -> None:
    @settings(SETTINGS, max_examples=examples)
    @given(data=st.data())
    def mutated(data: st.DataObject) -> None:
        change = replace(CSV_MUTATIONS[kind](data.draw), kind=kind)
        outcome = ingest_feed(change.name, change.content, divisions)
        event("refused" if outcome.refused is not None else "read")
        check_outcome(outcome, baseline_csv, change)

    mutated()


def _unterminated_quote(feed: CsvFeed) -> set[int]:
    feed.raw[2] = 'J03,"阿卜杜,男'
    return {2}


def _mixed_line_ends(feed: CsvFeed) -> set[int]:
    feed.newlines = ["\r\n", "\n"] * 5
    return set()


def _double_bom(feed: CsvFeed) -> set[int]:
    feed.encoding = "utf-8-sig"
    feed.header[0] = "\ufeff" + feed.header[0]
    return set()


def _quoted_newline_and_short_row(feed: CsvFeed) -> set[int]:
    feed.rows[0][1][ADDRESS] = "一\n二"
    del feed.rows[4][1][ADDRESS:]
    return {0, 4}


@pytest.mark.parametrize(
    "make", [_unterminated_quote, _mixed_line_ends, _double_bom, _quoted_newline_and_short_row]
)
def test_known_breakages_keep_every_other_row(
    make: Callable[[CsvFeed], set[int]],
    baseline_csv: dict[str, dict[str, Any]],
    divisions: pa.Table,
) -> None:
    """The cases that lost rows or refused the whole file before (kept as plain tests)."""
    feed = CsvFeed()
    change = feed.change(touched=frozenset(make(feed)))
    check_outcome(ingest_feed(change.name, change.content, divisions), baseline_csv, change)


def test_an_unterminated_quote_in_a_long_file_costs_one_row(divisions: pa.Table) -> None:
    """DuckDB ends a quote left open at the end of the file: the rows after it come back."""
    header = ",".join(HEADER)
    rows = [f"K{n},儿童{n},男,,2015-01-01,,,,," for n in range(1, 3001)]
    rows[9] = 'K10,"儿童10,男,,2015-01-01,,,,,'
    content = (header + "\n" + "\n".join(rows) + "\n").encode()
    outcome = ingest_feed("police_residence.csv", content, divisions)
    assert outcome.result is not None
    assert (outcome.result.read, len(outcome.records), outcome.rejected) == (3000, 2999, 1)
    assert "K11" in outcome.records
    assert "K3000" in outcome.records


def test_a_header_cell_past_the_csv_module_limit_is_refused(divisions: pa.Table) -> None:
    content = ('"' + ",".join(HEADER) + "\n" + "x" * 200_000 + "\n").encode()
    outcome = ingest_feed("police_residence.csv", content, divisions)
    assert outcome.refused == "CSV 表头行无法解析（引号未闭合或单元格过长）"


# --- whole rounds against the database -----------------------------------------------------


def test_values_the_database_cannot_hold_as_they_come_do_not_break_a_round(
    db: None, synthetic_county: Path, settings: Any, tmp_path: Path
) -> None:
    """A NUL (PostgreSQL text refuses it), a name over Child.name's 50 characters, a key over
    ChildRecord.record_key's 64 and a 学段 off the list (Child.stage holds 4) each failed
    the round's load on PostgreSQL; now the round completes and the values are cleaned,
    rejected or not used."""
    from tonghu.children.models import Child, ChildRecord  # noqa: PLC0415
    from tonghu.divisions.services import divisions_load  # noqa: PLC0415
    from tonghu.rounds.services import round_run  # noqa: PLC0415

    settings.ROUND_STORE_DIR = tmp_path / "rounds"
    divisions_load(path=synthetic_county / "divisions.csv")
    with (synthetic_county / "divisions.csv").open(encoding="utf-8") as stream:
        village = next(row["code"] for row in csv.DictReader(stream) if row["level"] == "village")
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    long_name = "很长的名字" * 12
    long_key = "K" * 70
    # Children in both feeds with the same ID number: the linkage model needs pairs to train.
    twins = [
        (f"孩子{n}", valid_id(f"410402201{n:01d}0101{n:03d}"), f"201{n}-01-01") for n in range(1, 7)
    ]
    lines = [
        ",".join(HEADER),
        f"Z1,张\x00三\x01,男,,2015-03-02,,河南\x00省\u2028,{village},,有效",
        f"Z2,{long_name},女,,2016-01-01,,,{village},,有效",
        f"{long_key},李四,女,,2016-02-02,,,{village},,有效",
        f"Z4,王五😀,男,,2014-04-04,,,{village},,有效",
        *(
            f"T{n},{name},,{id_},{born},,,{village},,有效"
            for n, (name, id_, born) in enumerate(twins)
        ),
    ]
    (feeds / "police_residence.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    edu = [
        "学籍号,姓名,身份证件号,出生日期,学段,学籍状态,现住址区划代码",
        f"G1,赵六,,2015-05-05,九年一贯制学校,在读,{village}",
        *(
            f"E{n},{name},{id_},{born},小学,在读,{village}"
            for n, (name, id_, born) in enumerate(twins)
        ),
    ]
    (feeds / "edu_migrant.csv").write_text("\n".join(edu) + "\n", encoding="utf-8")
    result = round_run(feeds_dir=feeds, as_of=dt.date(2025, 6, 30), export_dir=tmp_path / "out")
    assert result.counts is not None
    names = set(Child.objects.values_list("name", flat=True))
    assert {"张 三", "李四", "王五😀", "赵六"} <= names or {
        "张三",
        "李四",
        "王五😀",
        "赵六",
    } <= names
    assert long_name not in names
    assert all("\x00" not in name for name in names)
    keys = set(ChildRecord.objects.values_list("record_key", flat=True))
    assert long_key not in keys
    assert any(key.startswith("无编号-") for key in keys)
    assert set(Child.objects.values_list("stage", flat=True)) <= {
        "",
        "学前",
        "小学",
        "初中",
        "高中",
        "中职",
        None,
    }
    with (tmp_path / "out" / "rejects.csv").open(encoding="utf-8", newline="") as stream:
        rejects = [
            (r["file"], r["row"], r["record_key"], r["reason"]) for r in csv.DictReader(stream)
        ]
    assert rejects == [("police_residence.csv", "2", "Z2", "missing_name")]
    shutil.rmtree(tmp_path / "rounds", ignore_errors=True)
