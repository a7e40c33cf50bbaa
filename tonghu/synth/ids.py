"""Citizen ID numbers (公民身份号码, GB 11643-1999) with the ISO 7064 MOD 11-2 check character.

An 18-character number is: area code (6) + birth date YYYYMMDD (8) + sequence (3, odd for men,
even for women) + check character (``0``-``9`` or ``X``). A legacy 15-digit number is
area (6) + YYMMDD (6) + sequence (3), with the century implied to be 19.
"""

from __future__ import annotations

import operator
import random
from datetime import date

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
ID_LENGTH = 18
LEGACY_LENGTH = 15
_SEQUENCE_TRIES = 2000


def check_char(body: str) -> str:
    """The MOD 11-2 check character for the first 17 digits ``body``."""
    total = sum(map(operator.mul, map(int, body), WEIGHTS))
    return CHECK_CHARS[total % 11]


def is_valid(number: str) -> bool:
    """True for an 18-character number whose check character is right (``x`` counts as ``X``)."""
    if len(number) != ID_LENGTH or not number[:17].isdigit():
        return False
    return check_char(number[:17]) == number[17].upper()


def build(area: str, birth: date, sequence: int) -> str:
    body = f"{area}{birth:%Y%m%d}{sequence:03d}"
    return body + check_char(body)


def legacy(number: str) -> str:
    """The 15-digit form of an 18-character number of someone born in the 1900s."""
    if number[6:8] != "19":
        msg = "only numbers of people born 1900-1999 have a 15-digit form"
        raise ValueError(msg)
    return number[:6] + number[8:17]


def upgrade(number: str) -> str:
    """The 18-character form of a 15-digit legacy number (century 19)."""
    body = number[:6] + "19" + number[6:15]
    return body + check_char(body)


def with_wrong_check(number: str, rng: random.Random) -> str:
    """``number`` with its check character replaced by a different, wrong one."""
    right = check_char(number[:17])
    wrong = rng.choice([char for char in CHECK_CHARS if char != right])
    return number[:17] + wrong


class IdAllocator:
    """Issues unique, valid ID numbers. Memory: one int per issued number.

    ``shard``/``shards`` split the sequence numbers between independent generators (each
    takes its own range of 000–999), so that numbers issued in parallel never collide.
    """

    def __init__(self, rng: random.Random, *, shard: int = 0, shards: int = 1) -> None:
        self._random = rng.random
        self._issued: set[int] = set()
        width = 500 // shards
        self._low = shard * width
        self._width = width

    def issue(self, area: str, birth: date, *, male: bool) -> str:
        stamp = f"{area}{birth.year:04d}{birth.month:02d}{birth.day:02d}"
        issued = self._issued
        for _ in range(_SEQUENCE_TRIES):
            pair = self._low + int(self._random() * self._width)
            sequence = pair * 2 + 1 if male else pair * 2
            if sequence == 0:
                continue
            body = f"{stamp}{sequence:03d}"
            value = int(body)
            if value not in issued:
                issued.add(value)
                return body + check_char(body)
        msg = f"no free sequence number left for area {area} on {birth}"
        raise RuntimeError(msg)

    def reserve(self, numbers: set[int]) -> None:
        """Never issue any of ``numbers`` (the first 17 digits, as ints, of numbers issued in
        an earlier round)."""
        self._issued |= numbers

    @property
    def issued(self) -> set[int]:
        """The first 17 digits, as ints, of every number issued or reserved."""
        return self._issued

    def __len__(self) -> int:
        return len(self._issued)
