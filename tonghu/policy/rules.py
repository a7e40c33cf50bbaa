"""Who qualifies for a service (服务对象): a small declarative rule language over child facts.

A rule is a YAML mapping with exactly one key:

- ``all: [rule, ...]`` / ``any: [rule, ...]`` / ``not: rule``;
- ``everyone: true``;
- ``age: {min: 3, max: 6}`` (whole years at the round's reference date, bounds inclusive);
- ``stage: [小学, 初中]`` (学段 of the current enrolment; ``~`` in the list means none);
- ``difficulty: [orphan, fuc]`` / ``key_care: [...]`` (any of the codes; ``any`` for any code);
- ``flag: housing_hardship`` (a fact of the child, see ``FLAGS``).

A rule compiles to one SQL boolean expression over the columns of ``FACT_COLUMNS`` (the same
text runs on DuckDB and PostgreSQL) and evaluates in Python for one child (``evaluate``).
Why a language of our own and not CEL: the facts are a handful of typed columns, every rule
must become set-based SQL for a million children, and the district-list check must compare
two rules' coverage; a ten-line grammar does all three, a general expression language none.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tonghu.pipeline.duck import quote
from tonghu.pipeline.sources import STAGES

# The codes of feeds.md §6 with their Chinese names, in the order children.csv lists them.
DIFFICULTY_LABELS = {
    "dibao": "低保", "dibao_edge": "低保边缘", "tekun": "特困", "orphan": "孤儿",
    "fuc": "事实无人抚养", "hiv": "艾滋病病毒感染", "disabled": "残疾",
}  # fmt: skip
KEY_CARE_LABELS = {
    "hardship": "家庭生活困难", "disability": "自身残疾", "no_guardian": "监护缺失",
    "vagrant": "流浪", "psych": "心理和行为异常", "asks_help": "主动提出救助帮扶需求",
}  # fmt: skip
DIFFICULTY_CODES = tuple(DIFFICULTY_LABELS)
KEY_CARE_CODES = tuple(KEY_CARE_LABELS)
FLAGS = {
    "housing_hardship": "自主申报住房困难",
    "temporary_relief": "当前有临时救助记录",
    "mental_disorder": "档案记载严重精神障碍诊断",
}
# The child facts a rule reads: SQL column -> meaning. Lists are VARCHAR[] / text[].
FACT_COLUMNS = {
    "age": "周岁（INTEGER）",
    "stage": "当前学段（VARCHAR，可空）",
    "difficulty": "困境/保障情形代码（列表）",
    "key_care": "重点关爱情形代码（列表）",
    "flags": "其他事实（列表）",
}
ANY = "any"
Facts = Mapping[str, Any]


class RuleError(ValueError):
    """A malformed rule; ``path`` names where (e.g. ``services[3].who.any[1]``)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


@dataclass(frozen=True)
class Rule:
    op: str  # all | any | not | everyone | age | stage | difficulty | key_care | flag
    children: tuple[Rule, ...] = ()
    low: int | None = None
    high: int | None = None
    values: tuple[str | None, ...] = ()  # stage values (None = no stage), codes, or the flag

    def to_sql(self) -> str:
        return _SQL[self.op](self)

    def evaluate(self, facts: Mapping[str, Any]) -> bool:
        return _EVALUATE[self.op](self, facts)


_Parser = Callable[[object, str], "Rule"]


def parse_rule(data: object, path: str = "who") -> Rule:
    if not isinstance(data, Mapping) or len(data) != 1:
        raise RuleError(path, "条件应为只有一个键的映射，如 {age: {max: 6}}")
    ((key, value),) = data.items()
    parser = _PARSERS.get(str(key))
    if parser is None:
        known = "、".join(_PARSERS)
        raise RuleError(path, f"不认识的条件“{key}”（可用：{known}）")
    return parser(value, f"{path}.{key}")


def _parse_group(op: str) -> _Parser:
    def parse(value: object, path: str) -> Rule:
        if not isinstance(value, list) or not value:
            raise RuleError(path, "应为非空的条件列表")
        return Rule(op, tuple(parse_rule(item, f"{path}[{i}]") for i, item in enumerate(value)))

    return parse


def _parse_not(value: object, path: str) -> Rule:
    return Rule("not", (parse_rule(value, path),))


def _parse_everyone(value: object, path: str) -> Rule:
    if value is not True:
        raise RuleError(path, "只能写 everyone: true")
    return Rule("everyone")


def _parse_age(value: object, path: str) -> Rule:
    if not isinstance(value, Mapping) or not value or set(value) - {"min", "max"}:
        raise RuleError(path, "应为 {min: 整数, max: 整数}（至少一个）")
    bounds = {key: value.get(key) for key in ("min", "max")}
    for key, bound in bounds.items():
        if bound is not None and (
            not isinstance(bound, int) or isinstance(bound, bool) or bound < 0
        ):
            raise RuleError(f"{path}.{key}", "应为非负整数（周岁）")
    low, high = bounds["min"], bounds["max"]
    if low is None and high is None:
        raise RuleError(path, "至少写出 min 或 max 之一")
    if low is not None and high is not None and low > high:
        raise RuleError(path, f"下限 {low} 大于上限 {high}")
    return Rule("age", low=low, high=high)


def _parse_stage(value: object, path: str) -> Rule:
    if not isinstance(value, list) or not value:
        raise RuleError(path, "应为学段列表，~ 表示无在读学段")
    for index, stage in enumerate(value):
        if stage is not None and stage not in STAGES:
            raise RuleError(
                f"{path}[{index}]", f"不认识的学段“{stage}”（可用：{'、'.join(STAGES)}）"
            )
    return Rule("stage", values=tuple(dict.fromkeys(value)))


def _parse_codes(op: str, known: tuple[str, ...]) -> _Parser:
    def parse(value: object, path: str) -> Rule:
        if value == ANY:
            return Rule(op, values=known)
        if not isinstance(value, list) or not value:
            raise RuleError(path, f"应为代码列表或 any（可用：{'、'.join(known)}）")
        for index, code in enumerate(value):
            if code not in known:
                raise RuleError(
                    f"{path}[{index}]", f"不认识的代码“{code}”（可用：{'、'.join(known)}）"
                )
        return Rule(op, values=tuple(dict.fromkeys(value)))

    return parse


def _parse_flag(value: object, path: str) -> Rule:
    if value not in FLAGS:
        raise RuleError(path, f"不认识的事实“{value}”（可用：{'、'.join(FLAGS)}）")
    return Rule("flag", values=(str(value),))


_PARSERS: dict[str, _Parser] = {
    "all": _parse_group("all"),
    "any": _parse_group("any"),
    "not": _parse_not,
    "everyone": _parse_everyone,
    "age": _parse_age,
    "stage": _parse_stage,
    "difficulty": _parse_codes("difficulty", DIFFICULTY_CODES),
    "key_care": _parse_codes("key_care", KEY_CARE_CODES),
    "flag": _parse_flag,
}


def _any_in_list(column: str, values: tuple[str | None, ...]) -> str:
    # `= ANY(list)` reads the same on DuckDB lists and PostgreSQL arrays; coalesce keeps a
    # missing list false rather than unknown.
    tests = " OR ".join(f"coalesce({quote(str(v))} = ANY({column}), false)" for v in values)
    return f"({tests})"


def _stage_sql(rule: Rule) -> str:
    named = [str(value) for value in rule.values if value is not None]
    tests = []
    if named:
        tests.append(f"coalesce(stage IN ({', '.join(quote(v) for v in named)}), false)")
    if None in rule.values:
        tests.append("stage IS NULL")
    return "(" + " OR ".join(tests) + ")"


def _age_sql(rule: Rule) -> str:
    tests = []
    if rule.low is not None:
        tests.append(f"age >= {int(rule.low)}")
    if rule.high is not None:
        tests.append(f"age <= {int(rule.high)}")
    return "coalesce(" + " AND ".join(tests) + ", false)"


_SQL: dict[str, Callable[[Rule], str]] = {
    "all": lambda rule: "(" + " AND ".join(child.to_sql() for child in rule.children) + ")",
    "any": lambda rule: "(" + " OR ".join(child.to_sql() for child in rule.children) + ")",
    "not": lambda rule: f"(NOT {rule.children[0].to_sql()})",
    "everyone": lambda rule: "true",
    "age": _age_sql,
    "stage": _stage_sql,
    "difficulty": lambda rule: _any_in_list("difficulty", rule.values),
    "key_care": lambda rule: _any_in_list("key_care", rule.values),
    "flag": lambda rule: _any_in_list("flags", rule.values),
}


def _age_holds(rule: Rule, facts: Mapping[str, Any]) -> bool:
    age = facts.get("age")
    if age is None:
        return False
    return (rule.low is None or age >= rule.low) and (rule.high is None or age <= rule.high)


def _has_any(column: str) -> Callable[[Rule, Facts], bool]:
    return lambda rule, facts: bool(set(facts.get(column) or ()) & set(rule.values))


_EVALUATE: dict[str, Callable[[Rule, Facts], bool]] = {
    "all": lambda rule, facts: all(child.evaluate(facts) for child in rule.children),
    "any": lambda rule, facts: any(child.evaluate(facts) for child in rule.children),
    "not": lambda rule, facts: not rule.children[0].evaluate(facts),
    "everyone": lambda rule, facts: True,
    "age": _age_holds,
    "stage": lambda rule, facts: facts.get("stage") in rule.values,
    "difficulty": _has_any("difficulty"),
    "key_care": _has_any("key_care"),
    "flag": _has_any("flags"),
}


CODE_WORDS = {**DIFFICULTY_LABELS, **KEY_CARE_LABELS, **FLAGS}


def describe(rule: Rule) -> str:
    """Who the rule admits, in plain Chinese for families (服务对象)."""
    return _DESCRIBE[rule.op](rule)


def _describe_age(rule: Rule) -> str:
    if rule.low is not None and rule.high is not None:
        return f"{rule.low}至{rule.high}周岁"
    if rule.high is not None:
        return f"{rule.high}周岁及以下"
    return f"{rule.low}周岁及以上"


def _describe_stage(rule: Rule) -> str:
    named = [str(value) for value in rule.values if value is not None]
    text = f"在读{'、'.join(named)}" if named else ""
    if None in rule.values:
        text = f"{text}或未在读" if text else "未在读"
    return text


def _describe_codes(suffix: str) -> Callable[[Rule], str]:
    return lambda rule: "、".join(CODE_WORDS.get(str(v), str(v)) for v in rule.values) + suffix


_DESCRIBE: dict[str, Callable[[Rule], str]] = {
    "all": lambda rule: "，且".join(describe(child) for child in rule.children),
    "any": lambda rule: "；或".join(describe(child) for child in rule.children),
    "not": lambda rule: f"不属于（{describe(rule.children[0])}）",
    "everyone": lambda rule: "所有流动儿童",
    "age": _describe_age,
    "stage": _describe_stage,
    "difficulty": _describe_codes("儿童"),
    "key_care": _describe_codes("的重点关爱儿童"),
    "flag": lambda rule: FLAGS.get(str(rule.values[0]), str(rule.values[0])),
}


def eligible_codes(items: tuple[Any, ...], facts: Facts) -> list[str]:
    """The codes of the services (profile items with ``code`` and ``who``) whose rule admits
    one child's facts: the Python twin of the batch's SQL, for a single child after an edit."""
    return [item.code for item in items if item.who.evaluate(facts)]
