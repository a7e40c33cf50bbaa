"""Small-cell protection: nothing under the threshold shows, and no hidden cell can be
recovered by subtracting shown cells from a shown total."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tonghu.stats.suppression import Line, shown_text, suppressed


def test_small_cells_and_the_cell_that_would_reveal_them_are_hidden() -> None:
    values = {"total": 30, "a": 3, "b": 12, "c": 15}
    hidden = suppressed(values, [Line("total", ("a", "b", "c"))], threshold=5)
    # 3 is small; 12 is the smallest other member, hidden so that 30-15 gives only a+b.
    assert hidden == {"a", "b"}


def test_a_lone_small_member_hides_its_total() -> None:
    hidden = suppressed({"total": 3, "a": 3}, [Line("total", ("a",))], threshold=5)
    assert hidden == {"total", "a"}


def test_zero_counts_fewer_children_than_the_threshold() -> None:
    hidden = suppressed({"total": 20, "a": 0, "b": 20}, [Line("total", ("a", "b"))], threshold=5)
    assert hidden == {"a", "b"}


def test_nothing_is_hidden_when_every_cell_is_large_enough() -> None:
    values = {"total": 15, "a": 5, "b": 10}
    assert suppressed(values, [Line("total", ("a", "b"))], threshold=5) == set()


def test_shown_text() -> None:
    assert shown_text(None, threshold=5) == "<5"
    assert shown_text(12, threshold=5) == "12"


@st.composite
def grids(draw: st.DrawFn) -> tuple[dict[tuple[int, int], int], list[Line[tuple[int, int]]]]:
    """A table of counts with a 合计 column (index -1) and a 合计 row (index -1)."""
    rows = draw(st.integers(1, 5))
    cols = draw(st.integers(1, 5))
    cells = {(r, c): draw(st.integers(0, 40)) for r in range(rows) for c in range(cols)}
    for r in range(rows):
        cells[r, -1] = sum(cells[r, c] for c in range(cols))
    for c in [*range(cols), -1]:
        cells[-1, c] = sum(cells[r, c] for r in range(rows))
    lines = [Line((r, -1), tuple((r, c) for c in range(cols))) for r in [*range(rows), -1]]
    lines += [Line((-1, c), tuple((r, c) for r in range(rows))) for c in [*range(cols), -1]]
    return cells, lines


@given(grids(), st.integers(1, 10))
def test_no_hidden_cell_can_be_recovered_from_one_line(
    grid: tuple[dict[tuple[int, int], int], list[Line[tuple[int, int]]]], threshold: int
) -> None:
    values, lines = grid
    hidden = suppressed(values, lines, threshold=threshold)
    assert all(key in hidden for key, value in values.items() if value < threshold)
    for line in lines:
        if line.total not in hidden:
            assert sum(member in hidden for member in line.members) != 1
