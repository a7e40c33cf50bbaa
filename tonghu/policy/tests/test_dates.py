"""Calendar arithmetic of policy.md: "N months before D" and whole-year ages."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tonghu.policy.dates import age_at, age_sql, months_before


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2025, 6, 30), 6, date(2024, 12, 30)),
        (date(2025, 3, 31), 1, date(2025, 2, 28)),
        (date(2024, 3, 31), 1, date(2024, 2, 29)),
        (date(2025, 8, 31), 6, date(2025, 2, 28)),
        (date(2025, 5, 31), 3, date(2025, 2, 28)),
        (date(2025, 7, 31), 1, date(2025, 6, 30)),
        (date(2025, 1, 15), 1, date(2024, 12, 15)),
        (date(2025, 2, 28), 12, date(2024, 2, 28)),
        (date(2024, 2, 29), 12, date(2023, 2, 28)),
        (date(2025, 6, 30), 0, date(2025, 6, 30)),
    ],
)
def test_months_before_is_the_same_day_or_the_month_end(
    day: date, months: int, expected: date
) -> None:
    assert months_before(day, months) == expected


def test_age_is_16_on_the_16th_birthday_and_15_the_day_before() -> None:
    assert age_at(date(2009, 6, 30), date(2025, 6, 30)) == 16
    assert age_at(date(2009, 7, 1), date(2025, 6, 30)) == 15
    assert age_at(date(2009, 6, 30), date(2025, 6, 29)) == 15


def test_age_of_a_29_february_birth_in_a_non_leap_year_turns_on_1_march() -> None:
    born = date(2008, 2, 29)
    assert age_at(born, date(2025, 2, 28)) == 16
    assert age_at(born, date(2025, 3, 1)) == 17


def test_age_of_a_29_february_birth_in_a_leap_year_turns_on_29_february() -> None:
    born = date(2008, 2, 29)
    assert age_at(born, date(2024, 2, 28)) == 15
    assert age_at(born, date(2024, 2, 29)) == 16


def test_age_on_the_day_of_birth_is_zero() -> None:
    assert age_at(date(2025, 6, 30), date(2025, 6, 30)) == 0
    assert age_at(date(2024, 7, 1), date(2025, 6, 30)) == 0


@pytest.fixture(scope="module")
def duck() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    yield connection
    connection.close()


def _sql_age(con: duckdb.DuckDBPyConnection, birth: date, day: date) -> int:
    sql = f"SELECT {age_sql('b', day)} FROM (SELECT ?::DATE AS b)"  # noqa: S608
    row = con.execute(sql, [birth]).fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize(
    ("birth", "day"),
    [
        (date(2008, 2, 29), date(2025, 2, 28)),
        (date(2008, 2, 29), date(2025, 3, 1)),
        (date(2008, 2, 29), date(2024, 2, 28)),
        (date(2008, 2, 29), date(2024, 2, 29)),
        (date(2009, 6, 30), date(2025, 6, 30)),
        (date(2009, 7, 1), date(2025, 6, 30)),
        (date(2009, 3, 1), date(2025, 2, 28)),
    ],
)
def test_age_sql_agrees_with_age_at_on_the_edges(
    duck: duckdb.DuckDBPyConnection, birth: date, day: date
) -> None:
    assert _sql_age(duck, birth, day) == age_at(birth, day)


def test_age_sql_of_a_null_birth_date_is_null(duck: duckdb.DuckDBPyConnection) -> None:
    sql = f"SELECT {age_sql('b', date(2025, 6, 30))} FROM (SELECT NULL::DATE AS b)"  # noqa: S608
    row = duck.execute(sql)
    assert row.fetchone() == (None,)


# Dates near month ends and 29 February come up often enough to matter.
_DATES = st.one_of(
    st.dates(min_value=date(1990, 1, 1), max_value=date(2035, 12, 31)),
    st.sampled_from([date(y, 2, 29) for y in range(1992, 2036, 4)]),
    st.builds(
        date,
        st.integers(1990, 2035),
        st.sampled_from([2, 3]),
        st.sampled_from([1, 28]),
    ),
)


@settings(max_examples=300, deadline=None)
@given(birth=_DATES, day=_DATES)
def test_age_sql_agrees_with_age_at(
    duck: duckdb.DuckDBPyConnection, birth: date, day: date
) -> None:
    if birth > day:
        birth, day = day, birth
    assert _sql_age(duck, birth, day) == age_at(birth, day)
