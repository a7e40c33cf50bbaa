"""What the hostile feed tests (test_hostile_csv, test_hostile_xlsx) share: a valid feed,
running intake on it, and the check that hostile files never crash intake and never lose
an accepted row (issue 10, point 3).

A valid police_residence feed, as CSV and as XLSX, is mutated the way files from the field
go wrong (bytes inserted or cut off, broken encodings, BOMs, NULs, CR line ends, stray
quotes, short and long rows, duplicated headers, 1 MB cells, formula-looking text, bad
dates, 19-digit IDs, emoji, full-width digits; for XLSX corrupt packages, foreign sheets,
formulas, error cells, far-away cells and shared-strings bombs). Whatever the mutation,
``ingest`` either

- takes the file: every row it read is accounted for (accepted + rejected + repeated), the
  number of rows is the file's when the mutation kept the rows apart, and every row the
  mutation did not touch is accepted with exactly the values it had before; or
- refuses the whole file with one short Chinese reason,

and never raises anything else.
"""

from __future__ import annotations

import re
import tempfile
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tonghu.pipeline.ingest import IngestResult, NothingToIngestError, ingest
from tonghu.pipeline.read import FeedFile
from tonghu.pipeline.sources import SOURCES_BY_NAME
from tonghu.pipeline.tests.test_values import check_char

POLICE = SOURCES_BY_NAME["police_residence"]
HEADER = [
    "居住证编号", "姓名", "性别", "公民身份号码", "出生日期",
    "户籍地区划代码", "户籍地址", "居住地区划代码", "居住登记日期", "状态",
]  # fmt: skip
KEY, NAME, SEX, ID, BIRTH, HUKOU, ADDRESS, RESIDENCE, SINCE, STATUS = range(len(HEADER))


def valid_id(first17: str) -> str:
    return first17 + check_char(first17)


BASE = [
    ["J01", "张三", "男", valid_id("41040220150302013"), "2015-03-02", "410102",
     "河南省郑州市中原区建设路1号", "410402100201", "2020-01-01", "有效"],
    ["J02", "李四", "女", "", "2016-05-06", "", "", "410402100202", "2021/3/4", "有效"],
    ["J03", "阿卜杜·热合曼", "1", valid_id("41040220120101001"), "", "410402", "", "", "", "注销"],
    ["J04", "王芳之子", "", "", "20240101", "", "平顶山市新华区焦店镇", "", "", ""],
    ["J05", "赵 六", "F", valid_id("41010220100915002"), "2010年9月15日", "410102001001", "",
     "410402100201", "", "有效"],
    ["J06", "钱七", "男", "", "2013.07.08", "", "", "410402", "2019-09-01", "有效"],
    ["J07", "孙八", "M", valid_id("41040220170420011"), "2017-04-20", "", "", "", "", ""],
    ["J08", "周九", "2", "", "2011-11-11", "410402", "新华区", "410402100201", "", "有效"],
]  # fmt: skip
KEYS = [row[KEY] for row in BASE]
SETTINGS = settings(
    max_examples=3,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
INVISIBLE = re.compile(r"[\x00-\x1f\x7f\u200b-\u200f\u2028\u2029\u2060\ufeff]")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_NOT_COMPARED = {"file", "sheet", "row", "raw"}  # where a row sits, and its cells as they came
Draw = Callable[[st.SearchStrategy[Any]], Any]  # hypothesis' draw, in a test or a strategy


def as_key(text: str) -> str:
    """What a cell could become as a record key (full width folded, invisibles dropped)."""
    return unicodedata.normalize("NFKC", INVISIBLE.sub(" ", text)).strip()


# --- running intake ------------------------------------------------------------------------


@dataclass
class Outcome:
    refused: str | None = None  # the reason the whole file was refused
    result: IngestResult | None = None
    records: dict[str, dict[str, Any]] = field(default_factory=dict)  # by record key
    rejected: int = 0


def ingest_feed(name: str, content: bytes, divisions: pa.Table) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="hostile-") as work:
        path = Path(work) / name
        path.write_bytes(content)
        try:
            result = ingest(
                [FeedFile(path, POLICE)], divisions=divisions, out_dir=Path(work) / "out"
            )
        except NothingToIngestError as refused:
            return Outcome(refused="；".join(item.reason for item in refused.skipped))
        relation = duckdb.sql(f"SELECT * FROM read_parquet('{result.records}')")
        assert relation is not None
        records = relation.to_arrow_table()
        (rejected,) = duckdb.execute(
            f"SELECT count(*) FROM read_parquet('{result.rejects}')"
        ).fetchall()[0]
    found: dict[str, dict[str, Any]] = {}
    for record in records.to_pylist():
        values = {k: v for k, v in record.items() if k not in _NOT_COMPARED}
        assert values["record_key"] not in found, "one accepted row per key"
        found[values["record_key"]] = values
    return Outcome(result=result, records=found, rejected=int(rejected))


def check_outcome(outcome: Outcome, baseline: dict[str, dict[str, Any]], change: Change) -> None:
    if outcome.refused is not None:
        assert change.may_refuse, f"refused a file that should be read: {outcome.refused}"
        reason = outcome.refused
        assert _CJK.search(reason), reason
        assert "\n" not in reason, reason
        assert "Error:" not in reason, reason  # no engine message leaks through
        assert len(reason) < 200, reason
        return
    result = outcome.result
    assert result is not None
    for part in result.parts:
        assert part.read == part.accepted + part.rejected_rows + part.repeated, part
    assert result.rejected == outcome.rejected
    assert result.accepted == len(outcome.records)
    if change.rows is not None:
        assert result.read == change.rows, (result.read, change.rows)
    if not change.strong:
        return
    for index, key in enumerate(KEYS):
        if index in change.touched or index in change.removed:
            continue
        assert outcome.records.get(key) == baseline[key], f"row {index + 1} ({key}) changed"


@dataclass(frozen=True)
class Change:
    """A mutated feed: its file content and what the mutation may have done to the rows."""

    content: bytes
    name: str = "police_residence.csv"
    touched: frozenset[int] = frozenset()  # base rows whose values may differ
    removed: frozenset[int] = frozenset()  # base rows no longer in the file
    rows: int | None = len(BASE)  # data rows in the file, when the mutation keeps them apart
    may_refuse: bool = False  # whether refusing the whole file is a right answer
    strong: bool = True  # whether untouched rows must come out unchanged
    kind: str = ""  # the mutation, for hypothesis' statistics


HOSTILE_TEXT = [
    "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1:A9)", '=HYPERLINK("http://x","点我")',
    "＝1+1", "😀👨‍👩‍👧", "２０１５－０３－０２", "４１０４０２", "张\x00三", "\ufeff张三",
    "张\u200b三",
    "a\x01b\x1bc", "行\u2028分隔", "2015-02-30", "99999999", "2015年13月1日", "不详",
    "4104022015030201312", "41040220150302013X", "x" * (1 << 20), " ", "\t", '"', '""',
    "'", "\\", "\r", "\n", "a,b", '"quoted"', "NULL", "Ｊ０１", "j01 ", "０",
]  # fmt: skip
cell_text = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=40))


def any_row(draw: Draw) -> int:
    row: int = draw(st.integers(0, len(BASE) - 1))
    return row


def each_mutation(
    mutations: dict[str, Callable[..., Change]], examples: dict[str, int]
) -> list[Any]:
    return [pytest.param(kind, examples.get(kind, 2), id=kind) for kind in sorted(mutations)]


def text_for(column: int, text: str) -> str:
    """``text`` for a cell of ``column``; in the key column never another row's key (that
    row would become a duplicate)."""
    return "X" + text if column == KEY and as_key(text) in KEYS else text


def baseline(name: str, content: bytes, divisions: pa.Table) -> dict[str, dict[str, Any]]:
    """The records of the unmutated feed, by key: what untouched rows must still come out as."""
    outcome = ingest_feed(name, content, divisions)
    assert sorted(outcome.records) == KEYS, "every base row is accepted"
    return outcome.records
