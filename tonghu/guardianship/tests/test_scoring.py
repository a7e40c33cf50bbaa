"""The pure scoring of 家庭监护能力评估 against the default profile: every cut-off at its edges,
the cap, colours and the Chinese errors."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tonghu.guardianship.scoring import Result, assess, grade_colour, worse
from tonghu.policy import load_profile
from tonghu.policy.profile import GRADE_COLOURS, GUARDIANSHIP_GRADES

ASSESSMENT = load_profile().assessment
CODES = [item.code for item in ASSESSMENT.indicators]
LEVELS = {level.label: level.score for level in ASSESSMENT.levels}
CAPPED = {cap.indicator: cap.level for cap in ASSESSMENT.caps}


def _witnesses() -> dict[int, dict[str, str]]:
    """Every reachable total (in hundredths of a point) with answers reaching it, none of them
    touching a cap (so the grade is the band's)."""
    reachable: dict[int, dict[str, str]] = {0: {}}
    for item in ASSESSMENT.indicators:
        step: dict[int, dict[str, str]] = {}
        for total, answers in reachable.items():
            for label, score in LEVELS.items():
                if CAPPED.get(item.code) == label:
                    continue
                step.setdefault(total + item.weight * score, {**answers, item.code: label})
        reachable = step
    return reachable


WITNESSES = _witnesses()


def _rounded(hundredths: int) -> Decimal:
    return (Decimal(hundredths) / 100).quantize(Decimal("0.1"), rounding="ROUND_HALF_UP")


def test_default_profile_bands_are_the_documented_ones() -> None:
    bands = {band.grade: band.min_score for band in ASSESSMENT.grades}
    assert bands == {"监护正常": 80, "监护不足": 60, "监护失当": 40, "监护缺失": 0}


def test_all_best_answers_score_100_and_are_normal_green() -> None:
    result = assess(ASSESSMENT, dict.fromkeys(CODES, "好"))
    assert result == Result(score=Decimal("100.0"), grade="监护正常", colour="绿")


def test_all_worst_answers_score_0_and_are_missing_red() -> None:
    result = assess(ASSESSMENT, dict.fromkeys(CODES, "差"))
    assert result == Result(score=Decimal("0.0"), grade="监护缺失", colour="红")


def test_score_is_the_weighted_sum_rounded_half_up_to_one_decimal() -> None:
    # social_participation (weight 5) 较好 loses 5 × 25% = 1.25 points: 98.75 -> 98.8.
    answers = {**dict.fromkeys(CODES, "好"), "social_participation": "较好"}
    assert assess(ASSESSMENT, answers).score == Decimal("98.8")


@pytest.mark.parametrize(
    ("min_score", "grade", "colour", "below_grade", "below_colour"),
    [
        (80, "监护正常", "绿", "监护不足", "黄"),
        (60, "监护不足", "黄", "监护失当", "橙"),
        (40, "监护失当", "橙", "监护缺失", "红"),
    ],
)
def test_each_cut_off_at_its_edge(
    min_score: int, grade: str, colour: str, below_grade: str, below_colour: str
) -> None:
    exact = assess(ASSESSMENT, WITNESSES[min_score * 100])
    assert (exact.score, exact.grade, exact.colour) == (Decimal(min_score), grade, colour)
    # The highest reachable total whose rounded score is still under the band.
    below = max(total for total in WITNESSES if _rounded(total) < min_score)
    result = assess(ASSESSMENT, WITNESSES[below])
    assert result.score < min_score
    assert result.score >= min_score - Decimal("0.5")  # just below, not far below
    assert (result.grade, result.colour) == (below_grade, below_colour)


def test_a_score_rounding_up_to_the_cut_off_reaches_it() -> None:
    # 79.75 is shown as 79.8: still below; a total that rounds to 80.0 would reach 监护正常.
    assert _rounded(7975) == Decimal("79.8")
    assert assess(ASSESSMENT, WITNESSES[7975]).grade == "监护不足"


def test_cap_child_safety_worst_gives_missing_whatever_the_total() -> None:
    answers = {**dict.fromkeys(CODES, "好"), "child_safety": "差"}
    result = assess(ASSESSMENT, answers)
    assert result.score == Decimal("85.0")  # would be 监护正常 without the cap
    assert (result.grade, result.colour) == ("监护缺失", "红")


def test_cap_only_on_its_own_answer() -> None:
    answers = {**dict.fromkeys(CODES, "好"), "child_safety": "较差"}
    assert assess(ASSESSMENT, answers).grade == "监护正常"  # 91.0


def test_missing_indicator_is_named_in_chinese() -> None:
    answers = dict.fromkeys(CODES, "好")
    del answers["child_safety"]
    with pytest.raises(ValueError, match="请为以下指标选择答案：儿童安全"):
        assess(ASSESSMENT, answers)


def test_unknown_answer_is_refused_in_chinese() -> None:
    answers = {**dict.fromkeys(CODES, "好"), "income": "很好"}
    with pytest.raises(ValueError, match="指标“收入”的答案“很好”不是可选项"):
        assess(ASSESSMENT, answers)


def test_unknown_indicator_is_refused_in_chinese() -> None:
    answers = {**dict.fromkeys(CODES, "好"), "hobbies": "好"}
    with pytest.raises(ValueError, match="评估表中没有指标：hobbies"):
        assess(ASSESSMENT, answers)


def test_colours_follow_the_grades() -> None:
    assert [grade_colour(grade) for grade in GUARDIANSHIP_GRADES] == list(GRADE_COLOURS)
    assert worse("监护正常", "监护缺失") == "监护缺失"
    assert worse("监护失当", "监护不足") == "监护失当"


@given(st.lists(st.sampled_from(list(LEVELS)), min_size=len(CODES), max_size=len(CODES)))
def test_any_answers_score_and_band_consistently(labels: list[str]) -> None:
    answers = dict(zip(CODES, labels, strict=True))
    result = assess(ASSESSMENT, answers)
    exact = sum(item.weight * LEVELS[answers[item.code]] for item in ASSESSMENT.indicators)
    assert result.score == _rounded(exact)
    assert Decimal(0) <= result.score <= Decimal(100)
    assert result.colour == GRADE_COLOURS[GUARDIANSHIP_GRADES.index(result.grade)]
    band = max(
        (band for band in ASSESSMENT.grades if band.min_score <= result.score),
        key=lambda band: band.min_score,
    )
    capped = any(answers[cap.indicator] == cap.level for cap in ASSESSMENT.caps)
    if capped:
        assert result.grade == "监护缺失"
    else:
        assert result.grade == band.grade
