"""The value rules of feeds.md §3, one SQL macro each, checked value by value."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tonghu.pipeline.duck import Connection

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2, written independently of the SQL under test."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


def one(con: Connection, sql: str, value: object) -> object:
    row = con.execute(f"SELECT {sql}", [value]).fetchone()
    assert row is not None
    return row[0]


def folded(con: Connection, sql: str, raw: object) -> object:
    """``sql`` over ``x``, the raw text folded as the pipeline's first layer folds it."""
    row = con.execute(f"SELECT {sql} FROM (SELECT fold(?) AS x)", [raw]).fetchone()
    assert row is not None
    return row[0]


def on_id(con: Connection, sql: str, raw: str) -> object:
    """``sql`` over ``n``, the ID number as the pipeline reads it (one layer, as there)."""
    row = con.execute(f"SELECT {sql} FROM (SELECT nid(fold(?)) AS n)", [raw]).fetchone()
    assert row is not None
    return row[0]


birth_dates = st.dates(min_value=dt.date(1901, 1, 1), max_value=dt.date(2099, 12, 31))
areas = st.from_regex(r"[1-8][0-9]{5}", fullmatch=True)
sequences = st.from_regex(r"[0-9]{3}", fullmatch=True)


@settings(max_examples=100, deadline=None)
@given(area=areas, born=birth_dates, sequence=sequences)
def test_valid_ids_pass_and_any_other_check_character_fails(
    con: Connection, area: str, born: dt.date, sequence: str
) -> None:
    first17 = f"{area}{born:%Y%m%d}{sequence}"
    right = check_char(first17)
    wrong = [first17 + char for char in "0123456789X".replace(right, "")]
    row = con.execute(
        """SELECT id_check($1), id_valid($2), id_birth($2),
                  list_transform($3, lambda n: id_valid(n))""",
        [first17, first17 + right, wrong],
    ).fetchone()
    assert row == (right, True, born, [False] * 10)


@settings(max_examples=100, deadline=None)
@given(area=areas, born=st.dates(dt.date(1901, 1, 1), dt.date(1999, 12, 31)), sequence=sequences)
def test_a_15_digit_number_is_upgraded_to_a_valid_18(
    con: Connection, area: str, born: dt.date, sequence: str
) -> None:
    legacy = f"{area}{born:%y%m%d}{sequence}"
    upgraded = on_id(con, "n", legacy)
    first17 = f"{area}19{born:%y%m%d}{sequence}"
    assert upgraded == first17 + check_char(first17)
    assert on_id(con, "id_birth(n)", legacy) == dt.date(
        1900 + born.year % 100, born.month, born.day
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("11010519491231002x", "11010519491231002X"),
        ("１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X"),
        (" 110105 19491231 002X ", "11010519491231002X"),
    ],
)
def test_id_numbers_fold_case_width_and_spaces(con: Connection, raw: str, expected: str) -> None:
    assert on_id(con, "n", raw) == expected
    assert on_id(con, "id_valid(n)", raw) is True


def test_an_id_with_an_impossible_birth_date_is_not_valid(con: Connection) -> None:
    first17 = "41040220150230123"  # 30 February
    assert on_id(con, "id_valid(n)", first17 + check_char(first17)) is False


def test_sex_is_read_from_the_17th_digit(con: Connection) -> None:
    male, female = "41040220150302013", "41040220150302024"
    assert on_id(con, "id_sex(n)", male + check_char(male)) == "男"
    assert on_id(con, "id_sex(n)", female + check_char(female)) == "女"


DATE_FORMS = (
    lambda d: d.isoformat(),
    lambda d: f"{d.year}/{d.month}/{d.day}",
    lambda d: f"{d:%Y%m%d}",
    lambda d: f"{d:%Y.%m.%d}",
    lambda d: f"{d.year}年{d.month}月{d.day}日",
    lambda d: f"{d.year}年{d:%m}月{d:%d}日",
    lambda d: f"{d.isoformat()} 00:00:00",
    lambda d: f"{d.year}-{d.month}-{d.day}",
)


@settings(max_examples=200, deadline=None)
@given(day=st.dates(dt.date(1900, 3, 1), dt.date(2099, 12, 31)), form=st.sampled_from(DATE_FORMS))
def test_every_date_form_reads_the_same_day(con: Connection, day: dt.date, form: object) -> None:
    assert callable(form)
    assert folded(con, "ndate(x)", form(day)) == day


@settings(max_examples=100, deadline=None)
@given(day=st.dates(dt.date(1900, 3, 1), dt.date(2099, 12, 31)))
def test_excel_serial_numbers_are_days_since_1899_12_30(con: Connection, day: dt.date) -> None:
    serial = (day - dt.date(1899, 12, 30)).days
    assert folded(con, "ndate(x)", str(serial)) == day
    assert folded(con, "ndate(x)", f"{serial}.0") == day


@pytest.mark.parametrize("raw", ["不详", "待补录", "", None, "  "])
def test_placeholders_are_no_date_and_no_warning(con: Connection, raw: str | None) -> None:
    assert folded(con, "ndate(x)", raw) is None
    assert folded(con, "date_placeholder(x)", raw) is True


@pytest.mark.parametrize("raw", ["2015-02-30", "2015/13/01", "明年", "20151301", "1800-01-01"])
def test_impossible_dates_are_no_date(con: Connection, raw: str) -> None:
    assert folded(con, "ndate(x)", raw) is None
    assert folded(con, "date_placeholder(x)", raw) is False


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("男", "男"),
        ("1", "男"),
        ("M", "男"),
        ("m", "男"),
        ("女", "女"),
        ("2", "女"),
        ("F", "女"),
        ("0", None),
        ("9", None),
        ("", None),
    ],
)
def test_sex_codes(con: Connection, raw: str, expected: str | None) -> None:
    assert folded(con, "nsex(x)", raw) == expected


def test_unknown_sex_codes_are_not_a_warning_but_nonsense_is(con: Connection) -> None:
    assert folded(con, "sex_unknown(x)", "9") is True
    assert folded(con, "sex_unknown(x)", "X") is False


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("张 三", "张三"),
        ("张\u3000三", "张三"),
        ("买买提•艾力", "买买提·艾力"),
        ("买买提‧艾力", "买买提·艾力"),
        ("买买提・艾力", "买买提·艾力"),
        ("买买提.艾力", "买买提·艾力"),
        ("买买提．艾力", "买买提·艾力"),
        ("  ", None),
    ],
)
def test_names_lose_spaces_and_keep_one_middle_dot(
    con: Connection, raw: str, expected: str | None
) -> None:
    assert folded(con, "nname(x)", raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812345678", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("86 13812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("0371-12345678", None),
        ("1381234567", None),
    ],
)
def test_phone_numbers(con: Connection, raw: str, expected: str | None) -> None:
    assert folded(con, "nphone(x)", raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("410402", "410402000000"),
        ("410402100", "410402100000"),
        ("410402100201", "410402100201"),
        ("４１０４０２", "410402000000"),
        ("4104", None),
        ("41040210020", None),
    ],
)
def test_division_codes_pad_to_12_digits(con: Connection, raw: str, expected: str | None) -> None:
    assert folded(con, "ncode(x)", raw) == expected
