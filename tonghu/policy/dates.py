"""Calendar arithmetic of policy.md: whole-year ages and "N months before D"."""

from __future__ import annotations

import calendar
from datetime import date


def months_before(day: date, months: int) -> date:
    """The same day of the month ``months`` calendar months earlier (or that month's last day)."""
    index = day.year * 12 + (day.month - 1) - months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def age_at(birth: date, day: date) -> int:
    """Whole years at ``day``; one born on 29 February has its birthday on 1 March in other
    years."""
    if birth.month == 2 and birth.day == 29 and not calendar.isleap(day.year):
        birthday = date(day.year, 3, 1)
    else:
        birthday = birth.replace(year=day.year)
    years = day.year - birth.year
    return years if birthday <= day else years - 1


def age_sql(birth: str, day: date) -> str:
    """``age_at`` as a SQL expression over a DATE expression, at the constant ``day``."""
    birthday_feb29 = "301" if not calendar.isleap(day.year) else "229"
    month_day = day.month * 100 + day.day
    birthday = (
        f"(CASE WHEN month({birth}) = 2 AND day({birth}) = 29 THEN {birthday_feb29}"
        f" ELSE month({birth}) * 100 + day({birth}) END)"
    )
    return f"({day.year} - year({birth}) - CASE WHEN {month_day} < {birthday} THEN 1 ELSE 0 END)"
