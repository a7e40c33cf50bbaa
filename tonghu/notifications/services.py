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


def notify(*, reminders: Iterable[Reminder]) -> list[Notification]:
    """Store the reminders not sent before (by user and key); returns the new ones."""
    wanted = {(r.user.pk, r.key[:120]): r for r in reminders}
    if not wanted:
        return []
    sent = set(
        Notification.objects.filter(
            user__in={user for user, _ in wanted}, key__in={key for _, key in wanted}
        ).values_list("user_id", "key")
    )
    rows = [
        Notification(user=r.user, kind=r.kind, text=r.text[:300], url=r.url, key=key)
        for (user, key), r in wanted.items()
        if (user, key) not in sent
    ]
    # ignore_conflicts: a parallel run that stored one meanwhile is not an error.
    Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    return rows


def notifications_for(*, user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user)


def unread_count(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notifications_mark_read(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
