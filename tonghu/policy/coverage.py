"""A district list (区县清单) may add services and widen who qualifies, never drop a base
item or narrow it (policy.md §7: 覆盖范围和实现程度不得低于基础清单).

Whether one rule covers another is decided over every combination of the facts either rule
reads: whole-year ages 0–18, each stage or none, and every subset of the codes and flags the
two rules name. The grid is small because a rule names few codes, and the answer is exact
for this language (a rule can only tell facts apart on what it names).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from tonghu.pipeline.sources import STAGES
from tonghu.policy.rules import CODE_WORDS, Rule

AGES = range(19)


def narrowing_problems(base: tuple[Any, ...], local: tuple[Any, ...]) -> list[str]:
    """Chinese problems, one per base item the local list drops or narrows (items are the
    profile's ``Service`` objects: ``code``, ``name``, ``who``)."""
    local_by_code = {item.code: item for item in local}
    problems = []
    for item in base:
        found = local_by_code.get(item.code)
        if found is None:
            problems.append(f"services.items: 删去了基础清单服务 {item.code} {item.name}")
            continue
        example = uncovered_example(item.who, found.who)
        if example is not None:
            problems.append(
                f"services.items.{item.code}.who: 缩小了基础清单服务 {item.code} {item.name}"
                f"的服务对象（例如{_describe(example)}的儿童按基础清单可享受，按本清单不能）"
            )
    return problems


def uncovered_example(base: Rule, local: Rule) -> dict[str, Any] | None:
    """Facts the base rule admits and the local rule does not, or None if it covers it."""
    for facts in _grid(base, local):
        if base.evaluate(facts) and not local.evaluate(facts):
            return facts
    return None


def _named(rule: Rule, op: str) -> set[str]:
    found = {str(v) for v in rule.values} if rule.op == op else set()
    for child in rule.children:
        found |= _named(child, op)
    return found


def _subsets(codes: set[str]) -> list[tuple[str, ...]]:
    ordered = sorted(codes)
    return [
        combo for size in range(len(ordered) + 1) for combo in itertools.combinations(ordered, size)
    ]


def _grid(*rules: Rule) -> Iterator[dict[str, Any]]:
    named = {
        column: set().union(*(_named(rule, op) for rule in rules))
        for column, op in (
            ("difficulty", "difficulty"),
            ("key_care", "key_care"),
            ("flags", "flag"),
        )
    }
    for age, stage, difficulty, key_care, flags in itertools.product(
        AGES,
        (None, *STAGES),
        _subsets(named["difficulty"]),
        _subsets(named["key_care"]),
        _subsets(named["flags"]),
    ):
        yield {
            "age": age,
            "stage": stage,
            "difficulty": difficulty,
            "key_care": key_care,
            "flags": flags,
        }


def _describe(facts: dict[str, Any]) -> str:
    parts = [f"{facts['age']}周岁", f"学段{facts['stage'] or '无'}"]
    for column, label in (("difficulty", "困境情形"), ("key_care", "重点关爱情形"), ("flags", "")):
        if facts[column]:
            parts.append(label + "、".join(CODE_WORDS[code] for code in facts[column]))
    return "、".join(parts)
