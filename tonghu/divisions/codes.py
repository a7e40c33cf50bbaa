"""Statistical division codes (统计用区划代码): pure functions shared with the batch side.

A code has 12 digits: province 2 + city 2 + county 2 + town 3 + village 3. A division's
subtree is every code that starts with its *prefix* (the digits its level fixes).
"""

from __future__ import annotations

import re
from enum import StrEnum


class Level(StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    TOWN = "town"
    VILLAGE = "village"

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self]

    @property
    def prefix_length(self) -> int:
        return PREFIX_LENGTHS[self]

    @property
    def parent(self) -> Level | None:
        index = LEVEL_ORDER.index(self)
        return LEVEL_ORDER[index - 1] if index else None

    @property
    def child(self) -> Level | None:
        index = LEVEL_ORDER.index(self)
        return LEVEL_ORDER[index + 1] if index + 1 < len(LEVEL_ORDER) else None


LEVEL_ORDER: tuple[Level, ...] = tuple(Level)
LEVEL_LABELS = {
    Level.PROVINCE: "省级",
    Level.CITY: "地级",
    Level.COUNTY: "县级",
    Level.TOWN: "乡级",
    Level.VILLAGE: "村级",
}
PREFIX_LENGTHS = {
    Level.PROVINCE: 2,
    Level.CITY: 4,
    Level.COUNTY: 6,
    Level.TOWN: 9,
    Level.VILLAGE: 12,
}
CODE_LENGTH = 12
_CODE = re.compile(r"\d{12}")


def is_code(value: str) -> bool:
    return bool(_CODE.fullmatch(value))


def pad(code: str) -> str:
    """Right-pad a shorter code (6 or 9 digits) with zeros to the full 12."""
    return code.ljust(CODE_LENGTH, "0")


def prefix(code: str, level: Level) -> str:
    return code[: level.prefix_length]


def code_range(code_prefix: str) -> tuple[str, str]:
    """The first and last 12-digit code starting with ``code_prefix``: a range a plain btree
    index serves (for filtering and ordering alike), unlike LIKE 'prefix%' under most
    collations."""
    return code_prefix.ljust(CODE_LENGTH, "0"), code_prefix.ljust(CODE_LENGTH, "9")


def level_of(code: str) -> Level | None:
    """The level a well-formed code's non-zero digits imply, or None if malformed."""
    if not is_code(code) or code[:2] == "00":
        return None
    for level in reversed(LEVEL_ORDER):
        start = level.parent.prefix_length if level.parent else 0
        if code[start : level.prefix_length].strip("0"):
            return level if not code[level.prefix_length :].strip("0") else None
    return None


def town_kind(code: str) -> str:
    """Town type by the statistics convention: 001–099 街道, 100–199 镇, 200–399 乡."""
    number = int(code[6:9])
    if 1 <= number <= 99:
        return "街道"
    if 100 <= number <= 199:
        return "镇"
    if 200 <= number <= 399:
        return "乡"
    return "其他乡级单位"
