"""Each base-list rule (policy.md §7) at its boundaries, in Python and in SQL alike."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

from tonghu.policy import load_profile
from tonghu.policy.rules import Rule

EVERYONE = ("S06", "S07", "S16", "S17", "S18", "S19", "S22", "S23", "S24", "S25")


def child(age: int = 10, stage: str | None = None, **lists: list[str]) -> dict[str, Any]:
    return {
        "age": age,
        "stage": stage,
        "difficulty": lists.get("difficulty", []),
        "key_care": lists.get("key_care", []),
        "flags": lists.get("flags", []),
    }


CASES: list[tuple[str, dict[str, Any], bool]] = [
    ("S01", child(age=6), True),
    ("S01", child(age=7), False),
    ("S02", child(age=3), True),
    ("S02", child(age=2), False),
    ("S02", child(age=6, stage="学前"), True),
    ("S02", child(age=7), False),
    ("S02", child(age=5, stage="小学"), False),
    ("S03", child(age=6, stage="小学"), True),
    ("S03", child(age=16, stage="初中"), True),
    ("S03", child(age=7), True),
    ("S03", child(age=15), True),
    ("S03", child(age=6), False),
    ("S03", child(age=16), False),
    ("S03", child(age=12, stage="高中"), False),
    ("S04", child(age=16, stage="高中"), True),
    ("S04", child(age=16, stage="中职"), False),
    ("S05", child(age=16, stage="中职"), True),
    ("S05", child(age=16), False),
    ("S08", child(flags=["mental_disorder"]), True),
    ("S08", child(), False),
    ("S09", child(flags=["housing_hardship"]), True),
    ("S09", child(flags=["temporary_relief"]), False),
    ("S10", child(difficulty=["orphan"]), True),
    ("S10", child(difficulty=["hiv"]), True),
    ("S10", child(difficulty=["fuc"]), True),
    ("S10", child(difficulty=["dibao"]), False),
    ("S11", child(difficulty=["disabled"]), True),
    ("S11", child(key_care=["disability"]), False),
    ("S12", child(difficulty=["disabled"]), True),
    ("S12", child(), False),
    ("S13", child(difficulty=["dibao"]), True),
    ("S13", child(difficulty=["dibao_edge"]), False),
    ("S14", child(difficulty=["tekun"]), True),
    ("S14", child(difficulty=["dibao"]), False),
    ("S15", child(flags=["temporary_relief"]), True),
    ("S15", child(), False),
    ("S20", child(key_care=["psych"]), True),
    ("S20", child(key_care=["hardship"]), True),
    ("S20", child(key_care=["asks_help"]), False),
    ("S21", child(key_care=["asks_help"]), True),
    ("S21", child(), False),
    *((code, child(age=0), True) for code in EVERYONE),
    *((code, child(age=15, stage="初中"), True) for code in EVERYONE),
]


def _sql(rule: Rule, facts: dict[str, Any]) -> bool:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE c (age INTEGER, stage VARCHAR, difficulty VARCHAR[], key_care VARCHAR[],"
        " flags VARCHAR[])"
    )
    con.execute(
        "INSERT INTO c VALUES (?, ?, ?, ?, ?)",
        [facts["age"], facts["stage"], facts["difficulty"], facts["key_care"], facts["flags"]],
    )
    ((answer,),) = con.execute(f"SELECT {rule.to_sql()} FROM c").fetchall()  # noqa: S608  (our own rule text)
    return bool(answer)


@pytest.mark.parametrize(("code", "facts", "eligible"), CASES)
def test_base_list_rule_at_its_boundary(code: str, facts: dict[str, Any], eligible: bool) -> None:
    rule = load_profile("default").service(code).who
    assert rule.evaluate(facts) is eligible
    assert _sql(rule, facts) is eligible


def test_every_base_item_has_a_boundary_case() -> None:
    codes = {item.code for item in load_profile("default").services.items}
    assert codes == {code for code, _, _ in CASES}
