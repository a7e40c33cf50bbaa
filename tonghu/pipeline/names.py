"""Chinese name keys for record linkage: simplified characters, surname split, toneless pinyin.

Why pinyin: DuckDB's ``levenshtein`` and ``jaro_winkler`` count bytes, and a Chinese character
is three bytes of UTF-8, so on raw names their scores say little (张伟/张玮 is "3 edits"). And the
commonest misspelling of a Chinese name is not a typo but a homophone typed through a pinyin
input method (李静/李婧): different characters, same sound. So the linkage compares names on
toneless pinyin, which is ASCII (one byte per letter, so DuckDB's measures mean what they say)
and equal for homophones, and on simplified characters as lists, for character-level
comparisons.

How: every value is worked on once. ``name_keys`` takes the distinct names (the caller joins
back in DuckDB), simplifies them in one OpenCC call, and reads each distinct *character* once
with pypinyin; a name's pinyin is the join of its characters' readings. That is many times
faster than pypinyin per name, and it makes the key a function of the characters alone (the
same character gives the same syllable whatever its neighbours), which is what a comparison
wants. Characters keep pypinyin's default reading, except the surname, which is read from
``data/surname_readings.csv`` where the surname reading differs (曾 zeng, not ceng).

Newborn placeholders (王芳之子, 王芳女儿, 王芳之子二 ...) name a parent, not the child: they are
flagged, and their keys are those of the parent's name.
"""

from __future__ import annotations

import csv
import functools
import re
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple, cast

import duckdb
import opencc
import pyarrow as pa
import pyarrow.compute as pc
from pypinyin import Style, lazy_pinyin

from tonghu.pipeline.duck import ident, log, run

SURNAME_READINGS_FILE = Path(__file__).resolve().parent / "data" / "surname_readings.csv"
SURNAME_READINGS_HEADER = ["surname", "pinyin", "note"]
MIDDLE_DOT = "·"  # the pipeline's normalised separator of minority names (买买提·艾力)

# Compound surnames, tried before the first character. The two-character entries of the
# reading table count as compound surnames too.
# fmt: off
COMPOUND_SURNAMES = frozenset({
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "长孙",
    "宇文", "司徒", "夏侯", "轩辕", "端木", "独孤", "南宫", "西门", "百里", "呼延", "闻人",
    "澹台", "公冶", "宗政", "濮阳", "太叔", "申屠", "钟离", "第五", "万俟", "单于", "司空",
    "赫连", "公羊", "淳于", "鲜于", "闾丘", "仲孙", "亓官", "司寇", "子车", "颛孙", "巫马",
    "公西", "漆雕", "壤驷", "拓跋", "夹谷", "宰父", "东郭", "羊舌", "微生", "梁丘", "左丘",
})
# fmt: on
# Compounds whose first character is a common surname of its own and whose second often
# starts a given name (单 + 于洋, 宗 + 政华): taken as compounds only in names of 4+ characters.
AMBIGUOUS_COMPOUNDS = frozenset({"单于", "宗政"})

# Standard name characters (通用规范汉字表, 2013) that OpenCC t2s turns into another character
# (乾 qian into 干 gan, the surname 於 into 于, 昇 into 升): kept as written.
_KEEP = frozenset("乾於昇")
# Variant forms OpenCC leaves alone (old, Japanese or compatibility forms seen in name data).
# fmt: off
_VARIANT_PAIRS = (
    "髙高", "衞卫", "淸清", "靑青", "栢柏", "煕熙", "姫姬", "恵惠", "徳德", "兪俞", "裵裴", "峩峨",
    "冨富", "歳岁", "黒黑", "浄净", "増增", "薫薰", "勲勋", "郞郎", "凖准", "緖绪", "敍叙", "晩晚",
    "彜彝", "姸妍", "晧皓", "濵滨", "筿筱", "锺钟", "﨑崎", "嶋岛", "斉齐", "斎斋", "戸户", "広广",
    "沢泽", "栄荣", "桜樱", "竜龙", "実实", "銭钱",
)
# fmt: on
_VARIANTS = str.maketrans({pair[0]: pair[1] for pair in _VARIANT_PAIRS})

_HAN = re.compile(r"[\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_NOT_LETTER = re.compile(r"[^a-z]")
# 王芳之子, 王芳之女, 王芳之婴, 王芳儿子, 王芳女儿, 王芳之子1, 王芳之子二. The parent's name has two
# characters at least, so that real names such as 王之子 are not taken for placeholders.
_PLACEHOLDER = re.compile(
    r"(?P<parent>.{2,}?)(?P<kind>之子|之女|之婴|之?儿子|之?女儿|之?婴儿)(?P<twin>[0-9]+|[一二三四大小])?"
)
_PLACEHOLDER_SEX = {"子": "男", "儿子": "男", "女": "女", "女儿": "女"}

_ARROW_VIEW = "name_keys_arrow"
_TEXT_TYPES = (
    pa.types.is_string,
    pa.types.is_large_string,
    pa.types.is_string_view,
    pa.types.is_null,
)
_TEXT = ("name", "simplified", "surname", "given", "pinyin", "surname_pinyin", "given_pinyin")
_PLACEHOLDER_TEXT = ("placeholder_parent", "placeholder_parent_surname", "placeholder_sex")
_FIELDS: list[pa.Field[Any]] = [
    *(pa.field(name, pa.string()) for name in _TEXT),
    pa.field("is_placeholder", pa.bool_(), nullable=False),
    *(pa.field(name, pa.string()) for name in _PLACEHOLDER_TEXT),
    pa.field("twin_marker", pa.string()),
    pa.field("chars", pa.list_(pa.string()), nullable=False),
    # The pinyin of a two-character given name read backwards (徐昊天 -> tianhao): a clerk
    # who swaps the characters, or swaps them and picks a homophone, writes this.
    pa.field("given_swapped_pinyin", pa.string()),
]
SCHEMA = pa.schema(_FIELDS)


class SurnameTableError(ValueError):
    """The surname reading table is malformed; the message names the file and line."""


class _Parts(NamedTuple):
    surname: str | None
    given: str | None
    surname_pinyin: str | None
    given_pinyin: str | None
    pinyin: str | None
    chars: list[str]


class _Placeholder(NamedTuple):
    parent: str
    sex: str | None
    twin: str | None


# --- public surface ------------------------------------------------------------------------


def name_keys(names: pa.Array[Any] | pa.ChunkedArray[Any]) -> pa.Table:
    """The keys of each distinct non-null name, one row per name (columns: ``SCHEMA``)."""
    distinct = _distinct_names(names)
    simplified = _simplify_all(distinct)
    _learn_readings("".join(simplified))
    rows = [_row(name, simple) for name, simple in zip(distinct, simplified, strict=True)]
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in SCHEMA]
    return pa.table(
        [pa.array(column, type=field.type) for column, field in zip(columns, SCHEMA, strict=True)],
        schema=SCHEMA,
    )


def register_name_keys(
    con: duckdb.DuckDBPyConnection, *, source_view: str, name_columns: list[str], target: str
) -> None:
    """Create table ``target``: the ``name_keys`` of the distinct names in these columns."""
    if not name_columns:
        raise ValueError("register_name_keys needs at least one name column")
    selects = " UNION ".join(
        f"SELECT CAST({ident(column)} AS VARCHAR) AS name FROM {ident(source_view)}"
        for column in name_columns
    )
    sql = f"SELECT name FROM ({selects}) WHERE name IS NOT NULL"
    log.debug("SQL:\n%s", sql)
    keys = name_keys(con.sql(sql).to_arrow_table().column("name"))
    con.register(_ARROW_VIEW, keys)
    try:
        run(con, f"CREATE OR REPLACE TABLE {ident(target)} AS SELECT * FROM {_ARROW_VIEW}")
    finally:
        con.unregister(_ARROW_VIEW)


def pinyin_of(text: str) -> str:
    """The ``pinyin`` that ``name_keys`` gives this name ("" when none of it has a reading)."""
    (simplified,) = _simplify_all([text])
    _learn_readings(simplified)
    _placeholder, parts = _keys(simplified)
    return parts.pinyin or ""


def load_surname_readings(path: Path) -> dict[str, str]:
    """The surname reading table at ``path``, checked: surname (simplified) to toneless pinyin."""
    readings: dict[str, str] = {}
    lines: dict[str, int] = {}
    with path.open(encoding="utf-8-sig", newline="") as file:
        reader = csv.reader(file)
        header = next(reader, None)
        if header != SURNAME_READINGS_HEADER:
            raise SurnameTableError(f"{path}:1: the header must be surname,pinyin,note")
        for row in reader:
            if not row:
                continue
            surname, pinyin = _checked_row(path, reader.line_num, row)
            if surname in lines:
                where = f"{path}:{reader.line_num}"
                raise SurnameTableError(f"{where}: {surname} is already on line {lines[surname]}")
            readings[surname] = pinyin
            lines[surname] = reader.line_num
    return readings


# --- the surname table -----------------------------------------------------------------------


def _checked_row(path: Path, line: int, row: list[str]) -> tuple[str, str]:
    where = f"{path}:{line}"
    if len(row) != len(SURNAME_READINGS_HEADER):
        raise SurnameTableError(f"{where}: expected 3 fields (surname,pinyin,note), got {len(row)}")
    surname, pinyin, _note = row
    if not 1 <= len(surname) <= 2 or not all(_HAN.fullmatch(char) for char in surname):
        raise SurnameTableError(
            f"{where}: surname {surname!r} is not one or two Chinese characters"
        )
    if _t2s(surname) != surname:
        raise SurnameTableError(f"{where}: surname {surname} is not simplified ({_t2s(surname)})")
    if not pinyin.isascii() or not pinyin.isalpha() or not pinyin.islower():
        raise SurnameTableError(f"{where}: pinyin {pinyin!r} is not lowercase ASCII letters")
    return surname, pinyin


@functools.cache
def _surname_readings() -> Mapping[str, str]:
    return load_surname_readings(SURNAME_READINGS_FILE)


@functools.cache
def _compound_surnames() -> frozenset[str]:
    return COMPOUND_SURNAMES | {surname for surname in _surname_readings() if len(surname) == 2}


# --- simplified characters ------------------------------------------------------------------


@functools.cache
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s.json")


def _t2s(text: str) -> str:
    converted: str = _converter().convert(text)
    return converted


def _simplify_all(names: Sequence[str]) -> list[str]:
    """Each name in simplified characters: NFKC, OpenCC t2s, then the variants OpenCC misses."""
    folded = unicodedata.normalize("NFKC", "\n".join(names))
    converted = _t2s(folded).translate(_VARIANTS).split("\n")
    sources = folded.split("\n")
    if len(converted) != len(names) or len(sources) != len(names):
        # A name holding a line break (names are normalised, so not expected): one by one.
        return [_simplify_one(name) for name in names]
    return [_keep(source, simple) for source, simple in zip(sources, converted, strict=True)]


def _simplify_one(name: str) -> str:
    source = unicodedata.normalize("NFKC", name)
    return _keep(source, _t2s(source).translate(_VARIANTS))


def _keep(source: str, converted: str) -> str:
    """Put back the ``_KEEP`` characters t2s replaced (when it kept the length, as it does)."""
    if _KEEP.isdisjoint(source) or len(source) != len(converted):
        return converted
    return "".join(old if old in _KEEP else new for old, new in zip(source, converted, strict=True))


# --- readings -------------------------------------------------------------------------------

_READINGS: dict[str, str] = {}  # character -> toneless pinyin ("" when it has none)


def _learn_readings(text: str) -> None:
    """Read every character of ``text`` not yet in ``_READINGS``, once each."""
    for char in set(text).difference(_READINGS):
        _READINGS[char] = _reading(char)


def _reading(char: str) -> str:
    if char.isascii():
        return char.lower() if char.isalpha() else ""
    syllables = lazy_pinyin(char, style=Style.NORMAL, errors="ignore")
    return _NOT_LETTER.sub("", "".join(syllables).replace("ü", "v"))


def _spell(text: str) -> str:
    return "".join([_READINGS[char] for char in text])


def _surname_pinyin(surname: str) -> str:
    return _surname_readings().get(surname) or _spell(surname)


# --- one name -------------------------------------------------------------------------------


def _distinct_names(names: pa.Array[Any] | pa.ChunkedArray[Any]) -> list[str]:
    if pa.types.is_dictionary(names.type):
        names = names.cast(names.type.value_type)
    if not any(is_type(names.type) for is_type in _TEXT_TYPES):
        raise TypeError(f"name_keys takes an array of strings, not {names.type}")
    return cast("list[str]", pc.unique(names).drop_null().to_pylist())


def _row(name: str, simplified: str) -> tuple[object, ...]:
    """One row of ``SCHEMA``."""
    placeholder, parts = _keys(simplified)
    return (
        name,
        simplified,
        parts.surname,
        parts.given,
        parts.pinyin,
        parts.surname_pinyin,
        parts.given_pinyin,
        placeholder is not None,
        placeholder.parent if placeholder else None,
        parts.surname if placeholder else None,
        placeholder.sex if placeholder else None,
        placeholder.twin if placeholder else None,
        parts.chars,
        _spell(parts.given[::-1]) if parts.given and len(parts.given) == 2 else None,
    )


def _keys(simplified: str) -> tuple[_Placeholder | None, _Parts]:
    """The placeholder a name is (if it is one), and the parts of the name it stands for."""
    placeholder = _placeholder(simplified)
    return placeholder, _parts(placeholder.parent if placeholder else simplified)


def _placeholder(simplified: str) -> _Placeholder | None:
    if "之" not in simplified and "儿" not in simplified:
        return None
    match = _PLACEHOLDER.fullmatch(simplified)
    if match is None:
        return None
    sex = _PLACEHOLDER_SEX.get(match["kind"].removeprefix("之"))
    return _Placeholder(match["parent"], sex, match["twin"])


def _parts(text: str) -> _Parts:
    surname, given = _split(text)
    surname_pinyin = _surname_pinyin(surname) if surname else ""
    given_pinyin = _spell(given)
    return _Parts(
        surname=surname,
        given=given or None,
        surname_pinyin=surname_pinyin or None,
        given_pinyin=given_pinyin or None,
        pinyin=surname_pinyin + given_pinyin or None,
        chars=list(text.replace(MIDDLE_DOT, "")),
    )


def _split(text: str) -> tuple[str | None, str]:
    """Surname and given name; no surname in a minority name or one not starting in Chinese."""
    if MIDDLE_DOT in text or not _HAN.match(text):
        return None, text
    head = text[:2]
    shortest = 4 if head in AMBIGUOUS_COMPOUNDS else 3
    if head in _compound_surnames() and len(text) >= shortest:
        return head, text[2:]
    return text[0], text[1:]
