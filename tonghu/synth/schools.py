"""School stages and grades by birth date (children start 小学 in the September after they
turn six by 31 August) and the local schools a migrant child attends."""

from __future__ import annotations

from datetime import date

from tonghu.synth.draws import Dice
from tonghu.synth.geo import Village
from tonghu.synth.records import Schooling

PRIMARY_GRADES = ("一年级", "二年级", "三年级", "四年级", "五年级", "六年级")
JUNIOR_GRADES = ("七年级", "八年级", "九年级")
SENIOR_GRADES = ("高一", "高二", "高三")
VOCATIONAL_GRADES = ("一年级", "二年级", "三年级")
PRESCHOOL_GRADES = ("小班", "中班", "大班")
SCHOOL_YEAR_MONTH = 9


def school_year(day: date) -> int:
    """The calendar year in which the school year containing ``day`` began."""
    return day.year if day.month >= SCHOOL_YEAR_MONTH else day.year - 1


def primary_entry_year(birth: date) -> int:
    return birth.year + 6 if (birth.month, birth.day) <= (8, 31) else birth.year + 7


def grade_index(birth: date, day: date) -> int:
    """1–6 小学, 7–9 初中, 10–12 高中; 0, -1, -2 are 大班, 中班, 小班 of 幼儿园."""
    return school_year(day) - primary_entry_year(birth) + 1


def stage_of(index: int, *, vocational: bool = False) -> tuple[str, str, int] | None:
    """(学段, 年级, grade index at which the stage began) or None outside school ages."""
    if -2 <= index <= 0:
        return "学前", PRESCHOOL_GRADES[index + 2], -2
    if 1 <= index <= 6:
        return "小学", PRIMARY_GRADES[index - 1], 1
    if 7 <= index <= 9:
        return "初中", JUNIOR_GRADES[index - 7], 7
    if 10 <= index <= 12:
        if vocational:
            return "中职", VOCATIONAL_GRADES[index - 10], 10
        return "高中", SENIOR_GRADES[index - 10], 10
    return None


def stage_start(birth: date, first_index: int) -> date:
    return date(primary_entry_year(birth) + first_index - 1, SCHOOL_YEAR_MONTH, 1)


def school_name(stage: str, village: Village, dice: Dice) -> str:
    town = village.town_name.removesuffix("街道").removesuffix("镇").removesuffix("乡")
    if stage == "学前":
        return dice.pick((f"新华区{town}中心幼儿园", f"{village.name}幼儿园", "新华区实验幼儿园"))
    if stage == "小学":
        return dice.pick((f"新华区{town}小学", f"新华区第{dice.between(1, 30)}小学"))
    if stage == "初中":
        return dice.pick((f"平顶山市第{dice.between(1, 40)}中学", f"新华区{town}初级中学"))
    if stage == "高中":
        return f"平顶山市第{dice.between(1, 12)}高级中学"
    return dice.pick(("平顶山市工业学校", "平顶山市财贸学校", "平顶山市卫生学校"))


def schooling(
    birth: date,
    *,
    day: date,
    arrival: date,
    status: str,
    village: Village,
    dice: Dice,
    vocational: bool = False,
    index: int | None = None,
) -> Schooling | None:
    """The enrolment a child has at ``day`` (or at grade ``index``), entered here on or after
    ``arrival``: at the stage's start if it already lived here, else a transfer later."""
    grade = grade_index(birth, day) if index is None else index
    found = stage_of(grade, vocational=vocational)
    if found is None:
        return None
    stage, grade_name, first_index = found
    start = stage_start(birth, first_index)
    if start >= arrival:
        enrolled = start
    else:
        enrolled = dice.day_between(arrival, min(day, _days_after(arrival, 30)))
    return Schooling(stage, grade_name, school_name(stage, village, dice), enrolled, status)


def _days_after(day: date, days: int) -> date:
    return date.fromordinal(day.toordinal() + days)
