from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import QuerySet

from tonghu.accounts.roles import Capability
from tonghu.accounts.scope import require, scoped
from tonghu.audit.models import AuditEntry

if TYPE_CHECKING:
    from tonghu.accounts.models import User


@dataclass(frozen=True)
class AuditFilter:
    username: str = ""
    child_id: str = ""
    action: str = ""
    since: datetime | None = None
    until: datetime | None = None


def audit_search(*, user: User, where: AuditFilter) -> QuerySet[AuditEntry]:
    """Entries by actors inside the auditor's jurisdiction, newest first."""
    require(user, Capability.VIEW_AUDIT)
    entries = scoped(
        AuditEntry.objects.all(),
        user=user,
        capability=Capability.VIEW_AUDIT,
        field="actor_division_code",
    )
    if where.username:
        entries = entries.filter(actor_username=where.username)
    if where.child_id:
        entries = entries.filter(children__child_id=where.child_id)
    if where.action:
        entries = entries.filter(action=where.action)
    if where.since:
        entries = entries.filter(at__gte=where.since)
    if where.until:
        entries = entries.filter(at__lt=where.until)
    return entries.prefetch_related("children").distinct()
