"""The one clock that deadlines, escalation and reminders read.

Production reads the system time; tests set it (the ``clock`` fixture) so that "one hour
later" is a statement, not a sleep. The live server thread of browser tests shares it.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

# The stopped time, if any; a one-slot list so the setter needs no global statement.
_stopped: list[dt.datetime] = []


def now() -> dt.datetime:
    """The current time, timezone-aware."""
    return _stopped[0] if _stopped else timezone.now()


def today() -> dt.date:
    """Today's date in the deployment's time zone."""
    return timezone.localdate(now())


def set_now(at: dt.datetime | None) -> None:
    """Stop the clock at ``at`` (aware), or let it run again with None. For tests only."""
    if at is not None and timezone.is_naive(at):
        raise ValueError("the clock needs an aware datetime")
    _stopped.clear()
    if at is not None:
        _stopped.append(at)
