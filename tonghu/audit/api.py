from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Query, Router, Schema

from tonghu.accounts.utils import acting_user
from tonghu.audit.models import AuditEntry
from tonghu.audit.selectors import AuditFilter, audit_search

router = Router(tags=["审计"])
MAX_ENTRIES = 500


class AuditQuery(Schema):
    username: str = ""
    child_id: str = ""
    action: str = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None


class AuditOut(Schema):
    at: dt.datetime
    username: str
    role: str
    action: str
    object_type: str
    object_ids: list[str]
    child_ids: list[str]
    detail: str
    client_address: str | None
    channel: str

    @staticmethod
    def of(entry: AuditEntry) -> AuditOut:
        return AuditOut(
            at=entry.at,
            username=entry.actor_username,
            role=entry.actor_role,
            action=entry.action,
            object_type=entry.object_type,
            object_ids=list(entry.object_ids),
            child_ids=[child.child_id for child in entry.children.all()],
            detail=entry.detail,
            client_address=entry.client_address,
            channel=entry.channel,
        )


@router.get("", response=list[AuditOut], summary="审计日志查询（审计员，最近 500 条）")
def audit_list(request: HttpRequest, query: Query[AuditQuery]) -> list[AuditOut]:
    where = AuditFilter(**query.dict())
    entries = audit_search(user=acting_user(request), where=where)[:MAX_ENTRIES]
    return [AuditOut.of(entry) for entry in entries]
