"""Small-cell protection (小数保护): which cells of a table not to show, so that no child can
be singled out from the statistics.

Primary suppression hides every cell counting fewer children than the threshold. Secondary
suppression then closes the gaps subtraction would open: wherever a shown total is the sum of
members (a row with its 合计, a column with its 合计 row), a single hidden member could be
recovered as total minus the others, so the smallest other member is hidden too (or, with no
other member, the total). This repeats until no line has exactly one hidden member. Pure
functions over keys, shared by the dashboard's charts and the exported tables.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

SUPPRESSED_TEXT = "<{threshold}"


@dataclass(frozen=True)
class Line[K: Hashable]:
    """A total and the cells that add up to it (``total`` None: no total is shown)."""

    total: K | None
    members: tuple[K, ...]


def suppressed[K: Hashable](
    values: Mapping[K, int], lines: Sequence[Line[K]], *, threshold: int
) -> set[K]:
    """The keys of ``values`` not to show."""
    hidden = {key for key, value in values.items() if value < threshold}
    changed = True
    while changed:
        changed = False
        for line in lines:
            if line.total is None or line.total in hidden:
                continue  # nothing to subtract from
            members = [key for key in line.members if key in values]
            if sum(key in hidden for key in members) != 1:
                continue
            others = sorted(
                (key for key in members if key not in hidden), key=lambda key: values[key]
            )
            hidden.add(others[0] if others else line.total)
            changed = True
    return hidden


def shown_text(value: int | None, *, threshold: int) -> str:
    """A cell as the reader sees it: the count, or ``<threshold`` when suppressed (None)."""
    return SUPPRESSED_TEXT.format(threshold=threshold) if value is None else str(value)
