"""Scoring a 家庭监护能力评估 by the profile's indicators, answer levels, grade bands and caps.

Pure and Django-free: the profile's ``Assessment`` section and the answers in, the result out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from tonghu.policy.profile import GRADE_COLOURS, GUARDIANSHIP_GRADES, Assessment

ONE_DECIMAL = Decimal("0.1")


@dataclass(frozen=True)
class Result:
    score: Decimal  # 0.0-100.0, one decimal
    grade: str  # one of GUARDIANSHIP_GRADES
    colour: str  # the grade's colour in GRADE_COLOURS


def grade_colour(grade: str) -> str:
    """赋色管理: the colour of a grade (监护缺失 红 ... 监护正常 绿)."""
    return GRADE_COLOURS[GUARDIANSHIP_GRADES.index(grade)]


def worse(first: str, second: str) -> str:
    """The worse of two grades (GUARDIANSHIP_GRADES lists the worst first)."""
    return min(first, second, key=GUARDIANSHIP_GRADES.index)


def assess(assessment: Assessment, answers: Mapping[str, str]) -> Result:
    """Score = Σ weight × level score / 100, rounded half up to one decimal; the grade is the
    best band whose min_score the rounded score reaches, worsened by every matching cap.

    Raises ValueError (in Chinese) for an indicator left unanswered, an answer that is not one
    of the levels, or an answer to an indicator the profile does not have."""
    levels = {level.label: level.score for level in assessment.levels}
    indicators = assessment.indicators
    known = {indicator.code for indicator in indicators}
    unknown = [code for code in answers if code not in known]
    if unknown:
        raise ValueError(f"评估表中没有指标：{'、'.join(sorted(unknown))}")
    missing = [indicator.name for indicator in indicators if not answers.get(indicator.code)]
    if missing:
        raise ValueError(f"请为以下指标选择答案：{'、'.join(missing)}")
    total = 0  # in hundredths of a point: weights and level scores are whole numbers
    for indicator in indicators:
        answer = answers[indicator.code]
        if answer not in levels:
            choices = "、".join(levels)
            raise ValueError(f"指标“{indicator.name}”的答案“{answer}”不是可选项（{choices}）之一")
        total += indicator.weight * levels[answer]
    score = (Decimal(total) / 100).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)
    reached = [band for band in assessment.grades if band.min_score <= score]
    grade: str = max(reached, key=lambda band: band.min_score).grade
    for cap in assessment.caps:
        if answers[cap.indicator] == cap.level:
            grade = worse(grade, cap.grade)
    return Result(score=score, grade=grade, colour=grade_colour(grade))
