"""Random draws: a seeded ``random.Random`` for single decisions and numpy block draws for
weighted categorical choices over large tables (surnames, counties, villages).

Synthetic data only: these generators are not used for anything secret (ruff S311).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np

BLOCK = 4096


class Sampler[T]:
    """Weighted choice from ``items``, drawn ``BLOCK`` at a time with numpy."""

    def __init__(
        self, rng: np.random.Generator, items: Sequence[T], weights: Sequence[float]
    ) -> None:
        if not items or len(items) != len(weights):
            msg = "a sampler needs as many weights as items, and at least one item"
            raise ValueError(msg)
        self._rng = rng
        self._items = list(items)
        cumulative = np.cumsum(np.asarray(weights, dtype=np.float64))
        self._cumulative = cumulative / cumulative[-1]
        self._buffer: list[T] = []

    def draw(self) -> T:
        if not self._buffer:
            self._refill()
        return self._buffer.pop()

    def _refill(self) -> None:
        picks = np.searchsorted(self._cumulative, self._rng.random(BLOCK), side="right")
        np.minimum(picks, len(self._items) - 1, out=picks)
        items = self._items
        self._buffer = [items[index] for index in picks.tolist()]


class Dice:
    """Single random decisions on one seeded stream."""

    def __init__(self, seed: int | str) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - synthetic data, not security

    def chance(self, probability: float) -> bool:
        return self.rng.random() < probability

    def pick[T](self, items: Sequence[T]) -> T:
        return items[int(self.rng.random() * len(items))]

    def between(self, low: int, high: int) -> int:
        """An integer in [low, high]."""
        return low + int(self.rng.random() * (high - low + 1))

    def day_between(self, first: date, last: date) -> date:
        """A date in [first, last]; ``first`` if the range is empty."""
        span = (last - first).days
        if span <= 0:
            return first
        return first + timedelta(days=self.between(0, span))

    def weighted[T](self, table: Sequence[tuple[T, float]]) -> T:
        total = sum(weight for _, weight in table)
        point = self.rng.random() * total
        for item, weight in table:
            point -= weight
            if point < 0:
                return item
        return table[-1][0]
