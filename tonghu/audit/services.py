"""Writing audit entries. Called by the actions and gates that touch a child's data."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from django.core.paginator import Page, Paginator
from django.db.models import Model, QuerySet
from django.utils import timezone

from tonghu.audit.middleware import current_client
from tonghu.audit.models import Action, AuditChild, AuditEntry

if TYPE_CHECKING:
    from tonghu.accounts.models import User


def audit_record(
    *,
    actor: User | None,
    action: Action,
    object_type: str,
    object_ids: Iterable[str] = (),
    child_ids: Iterable[str] = (),
    detail: str = "",
    username: str = "",
) -> AuditEntry:
    """Write one entry (who, when, what, which records, from where); ``detail`` holds no PII."""
    address, channel = current_client()
    entry = AuditEntry.objects.create(
        at=timezone.now(),
        actor=actor,
        actor_username=actor.username if actor else username,
        actor_role=actor.role if actor else "",
        actor_division_code=actor.division_id if actor else "",
        action=action,
        object_type=object_type,
        object_ids=[str(object_id) for object_id in object_ids],
        detail=detail[:500],
        client_address=address,
        channel=channel,
    )
    AuditChild.objects.bulk_create(
        AuditChild(entry=entry, child_id=child_id) for child_id in dict.fromkeys(child_ids)
    )
    return entry


def audited_page[M: Model](
    rows: QuerySet[M],
    *,
    user: User,
    page_number: int | str | None,
    page_size: int,
    object_type: str,
    detail: str,
    child_of: Callable[[M], str],
) -> Page[M]:
    """One page of ``rows`` (already scoped and ordered), with the rows and children listed
    written to the audit log as one search entry."""
    page = Paginator(rows, page_size).get_page(page_number)
    audit_record(
        actor=user,
        action=Action.SEARCH,
        object_type=object_type,
        object_ids=[str(row.pk) for row in page.object_list],
        child_ids=[child_of(row) for row in page.object_list],
        detail=detail,
    )
    return page
