"""Sending and reading in-app reminders (站内提醒)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.utils import timezone

from tonghu.notifications.models import Notification

if TYPE_CHECKING:
    from tonghu.accounts.models import User


@dataclass(frozen=True)
class Reminder:
    user: User
    kind: Notification.Kind
    text: str  # Chinese, for the user; child ids, never names or ID numbers
    url: str
    key: str  # the same key for the same user is sent once


def notify(*, reminders: Iterable[Reminder]) -> int:
    """Store the reminders not sent before; returns how many are new."""
    rows = [
        Notification(user=r.user, kind=r.kind, text=r.text[:300], url=r.url, key=r.key[:120])
        for r in reminders
    ]
    if not rows:
        return 0
    users = {row.user.pk for row in rows}
    before = Notification.objects.filter(user__in=users).count()
    Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    return Notification.objects.filter(user__in=users).count() - before


def notifications_for(*, user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user)


def unread_count(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notifications_mark_read(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
