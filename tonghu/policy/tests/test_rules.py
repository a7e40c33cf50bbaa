"""The service rule language: parsing errors name their path; SQL and Python agree."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tonghu.pipeline.sources import STAGES
from tonghu.policy.rules import (
    DIFFICULTY_CODES,
    FLAGS,
    KEY_CARE_CODES,
    Rule,
    RuleError,
    parse_rule,
)


def _error(data: object) -> RuleError:
    with pytest.raises(RuleError) as caught:
        parse_rule(data)
    return caught.value


# --- parsing -------------------------------------------------------------------------------


def test_an_error_inside_a_group_names_the_item_and_key() -> None:
    error = _error({"any": [{"everyone": True}, {"age": {"low": 3}}]})
    assert error.path == "who.any[1].age"


def test_a_bad_age_bound_names_the_bound() -> None:
    error = _error({"all": [{"age": {"min": "3"}}]})
    assert error.path == "who.all[0].age.min"


@pytest.mark.parametrize("bound", [-1, True, 2.5])
def test_an_age_bound_must_be_a_non_negative_integer(bound: object) -> None:
    assert _error({"age": {"max": bound}}).path == "who.age.max"


def test_an_age_range_upside_down_is_refused() -> None:
    error = _error({"age": {"min": 7, "max": 6}})
    assert error.path == "who.age"
    assert "7" in error.message
    assert "6" in error.message


def test_an_age_rule_without_any_bound_is_refused() -> None:
    assert _error({"age": {"min": None}}).path.startswith("who.age")


def test_an_unknown_key_is_refused_and_named() -> None:
    error = _error({"not": {"income": {"max": 1000}}})
    assert error.path == "who.not"
    assert "income" in error.message


def test_an_unknown_stage_is_refused_at_its_index() -> None:
    error = _error({"stage": ["小学", "大学"]})
    assert error.path == "who.stage[1]"
    assert "大学" in error.message


@pytest.mark.parametrize("key", ["difficulty", "key_care"])
def test_an_unknown_code_is_refused_at_its_index(key: str) -> None:
    error = _error({key: ["poor"]})
    assert error.path == f"who.{key}[0]"
    assert "poor" in error.message


def test_an_unknown_flag_is_refused() -> None:
    error = _error({"flag": "rich"})
    assert error.path == "who.flag"
    assert "rich" in error.message


@pytest.mark.parametrize(
    "data",
    [
        {"age": {"max": 6}, "stage": ["学前"]},
        {},
        [{"everyone": True}],
        "everyone",
    ],
)
def test_a_rule_is_a_mapping_with_exactly_one_key(data: object) -> None:
    assert _error(data).path == "who"


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"any": []}, "who.any"),
        ({"all": {"everyone": True}}, "who.all"),
        ({"stage": []}, "who.stage"),
        ({"difficulty": []}, "who.difficulty"),
        ({"everyone": False}, "who.everyone"),
        ({"age": {}}, "who.age"),
    ],
)
def test_empty_or_mistyped_values_are_refused(data: object, path: str) -> None:
    assert _error(data).path == path


def test_the_path_prefix_is_the_callers() -> None:
    with pytest.raises(RuleError) as caught:
        parse_rule({"stage": ["大学"]}, path="services[3].who")
    assert caught.value.path == "services[3].who.stage[0]"


def test_any_means_every_known_code() -> None:
    assert parse_rule({"key_care": "any"}).values == KEY_CARE_CODES
    assert parse_rule({"difficulty": "any"}).values == DIFFICULTY_CODES


# --- meaning -------------------------------------------------------------------------------


def test_age_bounds_are_inclusive_and_an_unknown_age_fails() -> None:
    rule = parse_rule({"age": {"min": 3, "max": 6}})
    assert [rule.evaluate({"age": age}) for age in (2, 3, 6, 7)] == [False, True, True, False]
    assert not rule.evaluate({"age": None})


def test_a_tilde_stage_means_no_current_stage() -> None:
    rule = parse_rule({"stage": [None, "学前"]})
    assert rule.evaluate({"stage": None})
    assert rule.evaluate({"stage": "学前"})
    assert not rule.evaluate({"stage": "小学"})


def test_a_code_rule_holds_when_any_listed_code_is_present() -> None:
    rule = parse_rule({"difficulty": ["orphan", "fuc"]})
    assert rule.evaluate({"difficulty": ["dibao", "fuc"]})
    assert not rule.evaluate({"difficulty": ["dibao"]})
    assert not rule.evaluate({"difficulty": None})


def test_not_of_an_unknown_age_holds() -> None:
    assert parse_rule({"not": {"age": {"max": 6}}}).evaluate({"age": None})


@pytest.fixture(scope="module")
def duck() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    yield connection
    connection.close()


# One child's facts, typed as the columns of ``classified``.
_ONE_CHILD = """(SELECT ?::INTEGER AS age, ?::VARCHAR AS stage, ?::VARCHAR[] AS difficulty,
    ?::VARCHAR[] AS key_care, ?::VARCHAR[] AS flags)"""


def _sql_holds(con: duckdb.DuckDBPyConnection, rule: Rule, facts: dict[str, Any]) -> bool:
    sql = f"SELECT {rule.to_sql()} FROM {_ONE_CHILD}"  # noqa: S608
    values = [facts[column] for column in ("age", "stage", "difficulty", "key_care", "flags")]
    row = con.execute(sql, values).fetchone()
    assert row is not None
    # A rule's SQL is a condition: never unknown, or NOT would turn a miss into a hit.
    assert row[0] is not None, rule.to_sql()
    return bool(row[0])


def test_the_sql_of_the_compulsory_education_rule(duck: duckdb.DuckDBPyConnection) -> None:
    rule = parse_rule(
        {
            "any": [
                {"stage": ["小学", "初中"]},
                {"all": [{"age": {"min": 7, "max": 15}}, {"stage": [None]}]},
            ]
        }
    )
    base: dict[str, Any] = {"difficulty": [], "key_care": [], "flags": []}
    assert _sql_holds(duck, rule, {**base, "age": 10, "stage": None})
    assert _sql_holds(duck, rule, {**base, "age": 16, "stage": "初中"})
    assert not _sql_holds(duck, rule, {**base, "age": 10, "stage": "学前"})
    assert not _sql_holds(duck, rule, {**base, "age": None, "stage": None})


def _codes(known: tuple[str, ...]) -> st.SearchStrategy[object]:
    return st.one_of(st.just("any"), st.lists(st.sampled_from(known), min_size=1, max_size=3))


@st.composite
def _age(draw: st.DrawFn) -> dict[str, int]:
    low, high = draw(st.integers(0, 18)), draw(st.integers(0, 18))
    bounds = {"min": min(low, high), "max": max(low, high)}
    keep = draw(st.sampled_from([("min",), ("max",), ("min", "max")]))
    return {key: bounds[key] for key in keep}


_LEAVES: st.SearchStrategy[object] = st.one_of(
    st.just({"everyone": True}),
    _age().map(lambda bounds: {"age": bounds}),
    st.lists(st.sampled_from((None, *STAGES)), min_size=1, max_size=3).map(
        lambda stages: {"stage": stages}
    ),
    _codes(DIFFICULTY_CODES).map(lambda codes: {"difficulty": codes}),
    _codes(KEY_CARE_CODES).map(lambda codes: {"key_care": codes}),
    st.sampled_from(sorted(FLAGS)).map(lambda flag: {"flag": flag}),
)
RULES = st.recursive(
    _LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3).map(lambda rules: {"all": rules}),
        st.lists(inner, min_size=1, max_size=3).map(lambda rules: {"any": rules}),
        inner.map(lambda rule: {"not": rule}),
    ),
    max_leaves=8,
)


def _code_list(known: tuple[str, ...]) -> st.SearchStrategy[list[str] | None]:
    return st.none() | st.lists(st.sampled_from(known), max_size=3, unique=True)


FACTS = st.fixed_dictionaries(
    {
        "age": st.none() | st.integers(0, 18),
        "stage": st.none() | st.sampled_from(STAGES),
        "difficulty": _code_list(DIFFICULTY_CODES),
        "key_care": _code_list(KEY_CARE_CODES),
        "flags": _code_list(tuple(FLAGS)),
    }
)


@settings(max_examples=300, deadline=None)
@given(data=RULES, facts=FACTS)
def test_to_sql_and_evaluate_agree(
    duck: duckdb.DuckDBPyConnection, data: object, facts: dict[str, Any]
) -> None:
    rule = parse_rule(data)
    assert _sql_holds(duck, rule, facts) == rule.evaluate(facts)
