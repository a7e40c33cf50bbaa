"""Round figures against a hand-counted handful of children (each figure worked out below)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from tonghu.pipeline.tests.classify_feeds import ELSEWHERE, HERE, HERE_COUNTY, Feeds

TOWN_ONLY = "410402002000"  # 曙光街街道: a record naming the town but no village
SAME_CITY = "410422000000"  # 叶县: another county of the same city
AGE_4 = date(2021, 1, 1)
AGE_16 = date(2009, 1, 1)
AGE_2 = date(2023, 1, 1)


def _children(feeds: Feeds) -> None:
    # c1: migrant from another province, boy of 10 in primary school, insured.
    feeds.police("c1", sex="男")
    feeds.edu("在读", "小学", "c1")
    feeds.add("medical_insurance", "c1", birth_date=date(2015, 3, 1), insurance_status="参保缴费")
    # c2: migrant from the same city, girl of 4 with a family doctor and local vaccinations.
    feeds.police("c2", sex="女", birth_date=AGE_4, hukou_code=SAME_CITY)
    feeds.add("health_child", "c2", birth_date=AGE_4, family_doctor=True)
    feeds.add("cdc_vaccination", "c2", birth_date=AGE_4, first_vaccinated_on=date(2023, 5, 1))
    # c3: local left-behind boy of 10 raised by grandparents.
    feeds.visit("c3", sex="男", guardianship_type="祖辈监护")
    # c4: local girl of 16 on 低保 (difficulty and key care), insurance suspended.
    feeds.police("c4", sex="女", birth_date=AGE_16, hukou_code=HERE_COUNTY)
    feeds.civil("低保", "c4", birth_date=AGE_16)
    feeds.add("medical_insurance", "c4", birth_date=AGE_16, insurance_status="暂停")
    # c5: a cancelled permit: not living here, counted nowhere.
    feeds.police("c5", sex="男", permit_status="注销")
    # c6: local child of 2, health record without a family doctor, only the town known.
    feeds.add(
        "health_child", "c6", birth_date=AGE_2, hukou_code=HERE_COUNTY,
        residence_code=TOWN_ONLY, family_doctor=False,
    )  # fmt: skip


def _by_group(figures: dict[tuple[str, str, str, str], int]) -> dict[tuple[str, str, str], int]:
    summed: dict[tuple[str, str, str], int] = defaultdict(int)
    for (_, group, dimension, category), n in figures.items():
        summed[group, dimension, category] += n
    return dict(summed)


def test_every_figure_matches_the_hand_count(feeds: Feeds) -> None:
    _children(feeds)
    figures = feeds.figures()
    total = _by_group(figures)
    # Who counts where: c1..c4 and c6 live here; c5 does not.
    assert total["all", "total", ""] == 5
    assert total["migrant", "total", ""] == 2  # c1, c2
    assert total["left_behind", "total", ""] == 1  # c3
    assert total["difficulty", "total", ""] == 1  # c4
    assert total["key_care", "total", ""] == 1  # c4 (低保 is family hardship)
    # Places: c6 has only its town; the others live in 光明社区.
    assert figures[HERE, "all", "total", ""] == 4
    assert figures[TOWN_ONLY, "all", "total", ""] == 1
    # Sex and age bands (c6 has no stated sex).
    assert total["all", "sex", "男"] == 2
    assert total["all", "sex", "女"] == 2
    assert total["all", "sex", "unknown"] == 1
    assert total["all", "age", "0-2岁"] == 1  # c6
    assert total["all", "age", "3-5岁"] == 1  # c2
    assert total["all", "age", "6-11岁"] == 2  # c1, c3
    assert total["all", "age", "15-17岁"] == 1  # c4
    assert ("all", "age", "12-14岁") not in total
    # Origin of the migrant children.
    assert total["migrant", "origin_scope", "other_province"] == 1  # c1 from 浙江
    assert total["migrant", "origin_scope", "same_city"] == 1  # c2 from 叶县
    assert total["migrant", "origin_province", ELSEWHERE[:2]] == 1
    assert total["migrant", "origin_province", "41"] == 1
    # Schooling: only c1 has a school record.
    assert total["all", "stage", "小学"] == 1
    assert total["all", "stage", "none"] == 4
    # Health counts children up to 6: c2 signed and vaccinated here, c6 unsigned.
    assert total["all", "family_doctor", "signed"] == 1
    assert total["all", "family_doctor", "unsigned"] == 1
    assert total["all", "vaccination", "recorded"] == 1
    assert total["all", "vaccination", "no_record"] == 1
    assert sum(n for (g, d, _), n in total.items() if g == "all" and d == "family_doctor") == 2
    # Guardianship from the latest visit; insurance from the latest insurance record.
    assert total["left_behind", "guardianship", "祖辈监护"] == 1
    assert total["all", "guardianship", "unknown"] == 4
    assert total["all", "insurance", "参保缴费"] == 1
    assert total["all", "insurance", "暂停"] == 1
    assert total["all", "insurance", "no_record"] == 3
    # Codes: c4's 低保 as difficulty and hardship as key care.
    assert total["difficulty", "difficulty", "dibao"] == 1
    assert total["key_care", "key_care", "hardship"] == 1


def test_every_dimension_adds_up_to_the_group_total(feeds: Feeds) -> None:
    """Single-valued dimensions partition each group: their categories sum to its total."""
    _children(feeds)
    total = _by_group(feeds.figures())
    for group in ("all", "migrant", "left_behind", "difficulty", "key_care"):
        expected = total.get((group, "total", ""), 0)
        for dimension in ("sex", "age", "origin_scope", "stage", "guardianship", "insurance"):
            counted = sum(n for (g, d, _), n in total.items() if g == group and d == dimension)
            assert counted == expected, (group, dimension)


def test_towns_and_the_county_add_up_their_villages(feeds: Feeds) -> None:
    _children(feeds)
    feeds.figures()
    levels = feeds.figure_levels()
    county = "410402000000"
    assert levels["town", HERE[:9] + "000", "all", "total", ""] == 4  # 光明路街道: 光明社区
    assert levels["town", TOWN_ONLY, "all", "total", ""] == 1
    assert levels["county", county, "all", "total", ""] == 5
    assert levels["county", county, "migrant", "sex", "男"] == 1
    for level in ("village", "town", "county"):
        total = sum(
            n for (lv, _, g, d, _), n in levels.items() if (lv, g, d) == (level, "all", "total")
        )
        assert total == 5, level
