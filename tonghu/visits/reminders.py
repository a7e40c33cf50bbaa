"""``tonghu remind``: each director's and supervisor's due visits and lapsed parent contacts
as in-app notifications (run daily from cron; sending twice on one day adds nothing)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING

from django.urls import reverse

from tonghu.accounts.models import User
from tonghu.accounts.roles import Role
from tonghu.guardianship.selectors import lapsed_contacts
from tonghu.notifications.models import Notification
from tonghu.notifications.services import Reminder, notify
from tonghu.visits.plan import Status
from tonghu.visits.selectors import plan_children, worklist

if TYPE_CHECKING:
    from tonghu.visits.selectors import WorkItem

REMINDED_ROLES = (Role.CHILD_DIRECTOR, Role.SUPERVISOR)
VISIT_KINDS = {
    Status.OVERDUE: Notification.Kind.VISIT_OVERDUE,
    Status.TODAY: Notification.Kind.VISIT_DUE,
    Status.SOON: Notification.Kind.VISIT_DUE,
}


def remind(*, today: dt.date) -> Counter[str]:
    """Send every reminder due ``today``; returns how many new ones of each kind."""
    sent: Counter[str] = Counter()
    users = User.objects.filter(is_active=True, role__in=REMINDED_ROLES).select_related("division")
    for user in users.order_by("pk"):
        sent.update(note.kind for note in notify(reminders=_reminders(user, today)))
    return sent


def _reminders(user: User, today: dt.date) -> Iterator[Reminder]:
    for item in worklist(user=user, today=today):
        if item.status in VISIT_KINDS:
            yield _visit_reminder(user, item)
    for lapse in lapsed_contacts(children=plan_children(user=user), today=today):
        last = lapse.last_contact.isoformat() if lapse.last_contact else "none"
        yield Reminder(
            user=user,
            kind=Notification.Kind.CONTACT_LAPSED,
            text=(
                f"亲子联系中断：儿童 {lapse.child.child_id} 已 {lapse.days_since} 天"
                f"未与外出父母联系（要求每 {lapse.limit_days} 天至少一次）"
            ),
            url=reverse("guardianship:child", args=[lapse.child.child_id]),
            key=f"contact:{lapse.child.child_id}:{last}:{today.isocalendar()[:2]}",
        )


def _visit_reminder(user: User, item: WorkItem) -> Reminder:
    return Reminder(
        user=user,
        kind=VISIT_KINDS[item.status],
        text=(
            f"{item.status_label}：儿童 {item.child.child_id} 应于 {item.due.on:%Y-%m-%d}"
            f"{item.due.kind_label}（{item.due.rule}）"
        ),
        url=reverse("visits:new", args=[item.child.child_id]),
        key=f"visit:{item.child.child_id}:{item.due.kind}:{item.due.on}:{item.status}",
    )
