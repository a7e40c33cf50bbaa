"""When a child is next due a contact or a home visit (policy.md §8), from the profile.

Pure date arithmetic over a child's visit history; the worklist and ``tonghu remind``
read it. A visit on its due day is on time; the day after, it is overdue.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from tonghu.policy.dates import months_before
from tonghu.policy.profile import Visits

QUARTER_DAYS = 91  # a calendar quarter has 90-92 days; the key-care pace spreads this many
SOON_DAYS = 7  # "即将到期" within a week


class Status(StrEnum):
    OVERDUE = "overdue"
    TODAY = "today"
    SOON = "soon"
    LATER = "later"


STATUS_LABELS = {
    Status.OVERDUE: "逾期",
    Status.TODAY: "今日到期",
    Status.SOON: "即将到期",
    Status.LATER: "按计划",
}
KIND_LABELS = {"home": "入户走访", "contact": "联系"}


@dataclass(frozen=True)
class History:
    last_home: date | None  # the last home visit
    last_contact: date | None  # the last visit of any kind
    home_this_quarter: int  # home visits in the calendar quarter of "today"


@dataclass(frozen=True)
class Due:
    kind: str  # "home" | "contact"
    on: date
    rule: str  # the rule that set the date, in Chinese

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


def months_after(day: date, months: int) -> date:
    return months_before(day, -months)


def add_working_days(day: date, days: int) -> date:
    """``days`` working days (Monday-Friday) after ``day``."""
    current = day
    left = days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return current


def quarter_start(day: date) -> date:
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def next_quarter_start(day: date) -> date:
    return months_after(quarter_start(day), 3)


def is_raised(
    rules: Visits, *, grade: str | None, key_care: Iterable[str], parent_states: Iterable[str]
) -> bool:
    """加大走访频次: a medium/high-risk assessment grade or one of the profile's triggers."""
    raised = rules.raised
    return (
        (grade is not None and grade in raised.grades)
        or bool(set(key_care) & set(raised.key_care))
        or bool(set(parent_states) & set(raised.parent_states))
    )


def next_due(
    rules: Visits,
    *,
    history: History,
    key_care: bool,
    raised: bool,
    identified_on: date | None,
    today: date,
) -> Due:
    if history.last_contact is None:
        if identified_on is None:
            return Due("home", today, "尚无走访记录，应尽快入户走访")
        days = rules.first_visit_working_days
        return Due(
            "home",
            add_working_days(identified_on, days),
            f"新认定儿童应在{days}个工作日内首次入户走访（{identified_on:%Y-%m-%d}认定）",
        )
    if key_care:
        return _key_care_due(rules, history=history, today=today)
    return _regular_due(rules, history=history, raised=raised, today=today)


def _key_care_due(rules: Visits, *, history: History, today: date) -> Due:
    quota = rules.key_care_home_visits_per_quarter
    done = history.home_this_quarter
    rule = f"重点关爱服务对象每季度入户不少于{quota}次（本季度已入户{done}次）"
    if history.last_home is None:
        return Due("home", today, rule)
    due = history.last_home + timedelta(days=QUARTER_DAYS // quota)
    if done >= quota:  # this quarter's quota is met: the next visit counts for the next one
        due = max(due, next_quarter_start(today))
    return Due("home", due, rule)


def _regular_due(rules: Visits, *, history: History, raised: bool, today: date) -> Due:
    every = rules.raised.home_visit_every_months if raised else rules.home_visit_every_months
    home_rule = (
        f"加大走访频次：至少每{every}个月入户走访一次"
        if raised
        else f"至少每{every}个月入户走访一次"
    )
    home = months_after(history.last_home, every) if history.last_home else today
    last_contact = history.last_contact or today  # next_due sends the never-visited elsewhere
    contact = months_after(last_contact, rules.contact_every_months)
    if contact < home:
        return Due("contact", contact, f"至少每{rules.contact_every_months}个月联系一次")
    return Due("home", home, home_rule)


def status_of(due: Due, today: date) -> Status:
    if due.on < today:
        return Status.OVERDUE
    if due.on == today:
        return Status.TODAY
    if due.on <= today + timedelta(days=SOON_DAYS):
        return Status.SOON
    return Status.LATER
