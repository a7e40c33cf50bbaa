"""Option values the management commands share, refused with a Chinese message naming the
option."""

from __future__ import annotations

import re
from datetime import date

from django.core.management.base import CommandError
from django.utils import timezone

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_COUNTY = re.compile(r"\d{6}")


def option_date(text: str | None, *, option: str, not_after_today: bool = False) -> date:
    """A YYYY-MM-DD option value as a date."""
    if text is None:
        raise CommandError(f"请用 {option} YYYY-MM-DD 指定日期")
    value = text.strip()
    try:
        if not _DATE.fullmatch(value):
            raise ValueError(value)
        day = date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option} 不是有效日期（应写成 YYYY-MM-DD），实为 {text!r}") from None
    if not_after_today and day > timezone.localdate():
        raise CommandError(f"{option} 不能晚于今天：{value}")
    return day


def option_county(text: str, *, option: str = "--county") -> str:
    """A 6-digit county code option value."""
    if not _COUNTY.fullmatch(text):
        raise CommandError(f"{option} 应为6位县级区划代码，实为 {text!r}")
    return text
