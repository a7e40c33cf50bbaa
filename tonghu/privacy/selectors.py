from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from tonghu.accounts.roles import Capability
from tonghu.accounts.scope import access, require, scoped
from tonghu.privacy.models import EmergencyAccess

if TYPE_CHECKING:
    from tonghu.accounts.models import User

REVIEW_PAGE_ROWS = 200


def _grants(*, user: User) -> QuerySet[EmergencyAccess]:
    """Grants opened by users inside the auditor's jurisdiction (as for the audit log)."""
    return scoped(
        EmergencyAccess.objects.all(),
        user=user,
        capability=Capability.VIEW_AUDIT,
        field="user__division__code",
    )


def emergency_grants_for_review(*, user: User) -> QuerySet[EmergencyAccess]:
    """The break-the-glass grants in the auditor's jurisdiction, those not yet reviewed
    first (auditors only)."""
    require(user, Capability.VIEW_AUDIT)
    return (
        _grants(user=user)
        .select_related("user", "child", "reviewed_by")
        .order_by("reviewed_at", "-opened_at")
    )  # NULLs (unreviewed) first on both databases


def access_grant(*, user: User, grant_id: int) -> EmergencyAccess:
    return access(_grants(user=user).select_related("child"), pk=grant_id)
