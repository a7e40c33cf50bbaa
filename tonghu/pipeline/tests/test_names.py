"""Name keys for record linkage: simplified characters, surnames, pinyin, placeholders."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypinyin import lazy_pinyin

from tonghu.pipeline.names import (
    SCHEMA,
    SURNAME_READINGS_FILE,
    SurnameTableError,
    load_surname_readings,
    name_keys,
    pinyin_of,
    register_name_keys,
)

LETTERS = re.compile("[a-z]+")
# Characters common in names (all read by pypinyin), for properties that need a reading.
COMMON = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐伟芳娜敏静丽强磊军洋勇艳杰娟涛明超"


def keys(*names: str) -> dict[str, dict[str, Any]]:
    """The rows of ``name_keys`` by input name."""
    return {row["name"]: row for row in name_keys(pa.array(names)).to_pylist()}


def key(name: str) -> dict[str, Any]:
    return keys(name)[name]


def names_in(table: pa.Table) -> list[str]:
    """The ``name`` column, sorted (duplicates kept, so that they show)."""
    return sorted(str(name) for name in table.column("name").to_pylist())


@pytest.fixture
def duck() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    yield connection
    connection.close()


def test_traditional_is_folded_to_simplified() -> None:
    row = key("張偉")
    assert row["simplified"] == "张伟"
    assert (row["surname"], row["given"]) == ("张", "伟")
    assert row["pinyin"] == "zhangwei"
    assert row["chars"] == ["张", "伟"]


@pytest.mark.parametrize(
    ("name", "simplified", "pinyin"),
    [
        ("髙明", "高明", "gaoming"),  # a variant OpenCC leaves alone
        ("衞兵", "卫兵", "weibing"),
        ("张乾", "张乾", "zhangqian"),  # a standard name character t2s would make 干 gan
        ("於梅", "於梅", "yumei"),  # the surname 於, not 于
    ],
)
def test_variants_and_kept_characters(name: str, simplified: str, pinyin: str) -> None:
    row = key(name)
    assert (row["simplified"], row["pinyin"]) == (simplified, pinyin)


def test_homophones_share_pinyin() -> None:
    rows = keys("李静", "李婧")
    assert rows["李静"]["pinyin"] == rows["李婧"]["pinyin"] == "lijing"
    assert rows["李静"]["chars"] != rows["李婧"]["chars"]


@pytest.mark.parametrize(
    ("name", "pinyin", "surname_pinyin"),
    [
        ("曾小明", "zengxiaoming", "zeng"),
        ("单田芳", "shantianfang", "shan"),
        ("仇英", "qiuying", "qiu"),
        ("區志强", "ouzhiqiang", "ou"),  # traditional, simplified first
        ("尉迟恭", "yuchigong", "yuchi"),
        ("万俟明", "moqiming", "moqi"),
        ("王曾", "wangceng", "wang"),  # the surname reading is for the surname only
        ("吕丽", "lvli", "lv"),  # ü is written v
    ],
)
def test_surname_readings(name: str, pinyin: str, surname_pinyin: str) -> None:
    row = key(name)
    assert (row["pinyin"], row["surname_pinyin"]) == (pinyin, surname_pinyin)
    assert row["pinyin"] == row["surname_pinyin"] + row["given_pinyin"]


@pytest.mark.parametrize(
    ("name", "surname", "given"),
    [
        ("欧阳娜娜", "欧阳", "娜娜"),
        ("司马光", "司马", "光"),
        ("诸葛亮", "诸葛", "亮"),
        ("欧阳", "欧", "阳"),  # two characters: a surname and a given name
        ("单于洋", "单", "于洋"),  # ambiguous compounds need four characters
        ("单于洋洋", "单于", "洋洋"),
        ("王", "王", None),
    ],
)
def test_surname_split(name: str, surname: str, given: str | None) -> None:
    row = key(name)
    assert (row["surname"], row["given"]) == (surname, given)


def test_compound_surname_pinyin() -> None:
    row = key("欧阳娜娜")
    assert (row["surname_pinyin"], row["given_pinyin"], row["pinyin"]) == (
        "ouyang",
        "nana",
        "ouyangnana",
    )


def test_minority_name_has_no_surname() -> None:
    row = key("买买提·艾力")
    assert row["surname"] is None
    assert row["surname_pinyin"] is None
    assert row["given"] == "买买提·艾力"
    assert row["pinyin"] == row["given_pinyin"] == "maimaitiaili"
    assert row["chars"] == ["买", "买", "提", "艾", "力"]


@pytest.mark.parametrize(
    ("name", "parent", "sex", "twin"),
    [
        ("王芳之子", "王芳", "男", None),
        ("王芳之女", "王芳", "女", None),
        ("王芳之婴", "王芳", None, None),
        ("王芳儿子", "王芳", "男", None),
        ("王芳女儿", "王芳", "女", None),
        ("王芳之兒子", "王芳", "男", None),  # traditional
        ("王芳之子1", "王芳", "男", "1"),
        ("李娜之子二", "李娜", "男", "二"),
        ("李娜之女小", "李娜", "女", "小"),
        ("欧阳娜娜之女", "欧阳娜娜", "女", None),
    ],
)
def test_placeholders(name: str, parent: str, sex: str | None, twin: str | None) -> None:
    row = key(name)
    assert row["is_placeholder"] is True
    assert (row["placeholder_parent"], row["placeholder_sex"], row["twin_marker"]) == (
        parent,
        sex,
        twin,
    )


def test_placeholder_keys_are_the_parents() -> None:
    row = key("王芳之子")
    assert (row["surname"], row["given"], row["pinyin"]) == ("王", "芳", "wangfang")
    assert row["placeholder_parent_surname"] == "王"
    assert row["chars"] == ["王", "芳"]
    assert row["simplified"] == "王芳之子"


@pytest.mark.parametrize("name", ["王之子", "李子", "张女", "王芳"])
def test_real_names_are_not_placeholders(name: str) -> None:
    row = key(name)
    assert row["is_placeholder"] is False
    assert row["placeholder_parent"] is None
    assert row["placeholder_parent_surname"] is None


def test_one_row_per_distinct_non_null_name() -> None:
    names = pa.chunked_array([["張偉", None, "李静"], ["李静", "張偉", "张伟"]], pa.large_string())
    table = name_keys(names)
    assert table.schema == SCHEMA
    assert names_in(table) == sorted(["張偉", "李静", "张伟"])


def test_empty_and_dictionary_input() -> None:
    assert name_keys(pa.array([], pa.string())).num_rows == 0
    assert name_keys(pa.array([None, None])).num_rows == 0
    encoded = pa.array(["王芳", "王芳", "李静"]).dictionary_encode()
    assert names_in(name_keys(encoded)) == ["李静", "王芳"]


def test_a_line_break_in_a_name_does_not_shift_rows() -> None:
    rows = keys("張\n偉", "李静", "王芳")
    assert rows["張\n偉"]["simplified"] == "张\n伟"
    assert rows["李静"]["simplified"] == "李静"
    assert rows["王芳"]["pinyin"] == "wangfang"


def test_non_text_input_is_refused() -> None:
    with pytest.raises(TypeError, match="array of strings"):
        name_keys(pa.array([1, 2]))


def test_pinyin_of_matches_name_keys() -> None:
    assert pinyin_of("張偉") == "zhangwei"
    assert pinyin_of("曾小明") == "zengxiaoming"
    assert pinyin_of("王芳之子") == key("王芳之子")["pinyin"] == "wangfang"
    assert pinyin_of("") == ""


def test_register_name_keys_joins_back(duck: duckdb.DuckDBPyConnection) -> None:
    duck.execute("CREATE TABLE feed (id INTEGER, name VARCHAR, mother_name VARCHAR)")
    duck.execute(
        """INSERT INTO feed VALUES
            (1, '張偉', '李静'), (2, '张伟', NULL), (3, '曾小明', '李婧'),
            (4, '王芳之子', '王芳'), (5, NULL, '李静'), (6, '張偉', '李静')"""
    )
    duck.execute("CREATE VIEW feed_view AS SELECT * FROM feed WHERE id > 0")
    register_name_keys(
        duck, source_view="feed_view", name_columns=["name", "mother_name"], target="nk"
    )
    (count,) = duck.execute("SELECT count(*) FROM nk").fetchall()[0]
    assert count == 7  # 張偉 张伟 曾小明 王芳之子 李静 李婧 王芳
    joined = duck.execute(
        """SELECT f.id, c.pinyin, m.pinyin, c.is_placeholder
        FROM feed AS f
        LEFT JOIN nk AS c ON c.name = f.name
        LEFT JOIN nk AS m ON m.name = f.mother_name
        ORDER BY f.id"""
    ).fetchall()
    assert joined == [
        (1, "zhangwei", "lijing", False),
        (2, "zhangwei", None, False),
        (3, "zengxiaoming", "lijing", False),
        (4, "wangfang", "wangfang", True),
        (5, None, "lijing", None),
        (6, "zhangwei", "lijing", False),
    ]
    (chars_type,) = duck.execute(
        "SELECT data_type FROM information_schema.columns "
        "WHERE table_name = 'nk' AND column_name = 'chars'"
    ).fetchall()[0]
    assert chars_type == "VARCHAR[]"


def test_register_name_keys_needs_a_column(duck: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(ValueError, match="at least one"):
        register_name_keys(duck, source_view="feed", name_columns=[], target="nk")


# --- the surname reading table ---------------------------------------------------------------


def test_shipped_table_loads_and_differs_from_pypinyin() -> None:
    readings = load_surname_readings(SURNAME_READINGS_FILE)
    assert readings["曾"] == "zeng"
    assert readings["尉迟"] == "yuchi"
    for surname, pinyin in readings.items():
        default = "".join(lazy_pinyin(char)[0] for char in surname)
        assert default != pinyin, f"{surname}: pypinyin already reads {pinyin}"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("surname,reading,note\n曾,zeng,\n", r":1: the header"),
        ("surname,pinyin,note\n曾,zeng,\n曾,ceng,\n", r":3: 曾 is already on line 2"),
        ("surname,pinyin,note\n曾,zeng,\n单,Shan,\n", r":3: pinyin 'Shan'"),
        ("surname,pinyin,note\n吕,lü,\n", r":2: pinyin 'lü'"),
        ("surname,pinyin,note\n曾,,\n", r":2: pinyin ''"),
        ("surname,pinyin,note\n曾,zeng\n", r":2: expected 3 fields"),
        ("surname,pinyin,note\nzeng,zeng,\n", r":2: surname 'zeng'"),
        ("surname,pinyin,note\n單,shan,\n", r":2: surname 單 is not simplified"),
    ],
)
def test_malformed_table_names_the_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "surname_readings.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SurnameTableError, match=message):
        load_surname_readings(path)


def test_blank_lines_and_bom_are_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "surname_readings.csv"
    path.write_text("\ufeffsurname,pinyin,note\n曾,zeng,a note\n\n", encoding="utf-8")
    assert load_surname_readings(path) == {"曾": "zeng"}


# --- properties ----------------------------------------------------------------------------

# Unified ideographs, extension A, and compatibility ideographs (NFKC folds most to unified ones).
CJK = st.one_of(
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
    st.characters(min_codepoint=0x3400, max_codepoint=0x4DBF),
    st.characters(min_codepoint=0xF900, max_codepoint=0xFAFF),
)


@settings(deadline=None, max_examples=60)
@given(st.lists(st.one_of(st.none(), st.text(CJK, min_size=1, max_size=6)), max_size=30))
def test_any_cjk_names_give_letters_and_one_row_each(names: list[str | None]) -> None:
    table = name_keys(pa.array(names, pa.string()))
    distinct = {name for name in names if name is not None}
    assert names_in(table) == sorted(distinct)
    for row in table.to_pylist():
        # Null only when no character has a reading (a few rare characters have none).
        assert row["pinyin"] is None or LETTERS.fullmatch(row["pinyin"])
        assert (row["surname_pinyin"] or "") + (row["given_pinyin"] or "") == (row["pinyin"] or "")


@settings(deadline=None, max_examples=60)
@given(st.text(st.sampled_from(COMMON), min_size=1, max_size=5))
def test_common_names_always_have_pinyin(name: str) -> None:
    row = key(name)
    assert LETTERS.fullmatch(row["pinyin"])
    assert pinyin_of(name) == row["pinyin"]
