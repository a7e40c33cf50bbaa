"""Scoped reads of alerts: the town's supervisors and the county's civil-affairs staff see the
alerts of the children living in their jurisdiction; everyone else sees none."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from tonghu.accounts.roles import Capability
from tonghu.accounts.scope import access, scoped
from tonghu.alerts.models import Alert

if TYPE_CHECKING:
    from tonghu.accounts.models import User


def alerts_for(*, user: User) -> QuerySet[Alert]:
    """The alerts the user may see and handle."""
    alerts = Alert.objects.select_related("child", "case", "handled_by")
    return scoped(
        alerts, user=user, capability=Capability.HANDLE_ALERTS, field="child__residence_division_id"
    )


def access_alert(*, user: User, alert_id: int) -> Alert:
    """One alert, or 404 for missing and forbidden alike."""
    return access(alerts_for(user=user), pk=alert_id)
