"""Hand-written round figures for the tests, stored as the batch step stores them: the
village rows and their sums per town and for the county."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from tonghu.rounds.models import Round
from tonghu.stats.models import RoundFigure

# The divisions of the conftest tree the stats tests place their figures in.
EAST = "410402100201"  # 东湾村 (焦店镇, 新华区)
WEST = "410402100202"  # 西湾村 (焦店镇)
NORTH = "410402200201"  # 北渡村 (滍阳乡)
JIAODIAN = "410402100000"
ZHIYANG = "410402200000"
COUNTY = "410402000000"  # 新华区

VillageFigures = Mapping[tuple[str, str, str, str], int]  # (division, group, dim, category)


def figures_create(round_: Round, village_figures: VillageFigures) -> None:
    rows: Counter[tuple[str, str, str, str, str]] = Counter()
    for (code, group, dimension, category), n in village_figures.items():
        rows["village", code, group, dimension, category] += n
        rows["town", code[:9].ljust(12, "0"), group, dimension, category] += n
        rows["county", code[:6].ljust(12, "0"), group, dimension, category] += n
    RoundFigure.objects.bulk_create(
        RoundFigure(
            round=round_, level=level, division_code=code, group=group, dimension=dimension,
            category=category, n=n,
        )
        for (level, code, group, dimension, category), n in rows.items()
    )  # fmt: skip
