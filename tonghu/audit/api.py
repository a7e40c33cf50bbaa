from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema
from pydantic import field_validator

from tonghu.accounts.api import Text, answers
from tonghu.accounts.utils import acting_user
from tonghu.audit.models import AuditEntry
from tonghu.audit.selectors import AuditFilter, audit_search

router = Router(tags=["审计"])
MAX_ENTRIES = 500


class AuditQuery(Schema):
    username: Text = ""
    child_id: Text = ""
    action: Text = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    @field_validator("since", "until")
    @classmethod
    def _on_the_timeline(cls, value: dt.datetime | None) -> dt.datetime | None:
        """A time without a zone (or a bare date) is the site's local time; a time that
        falls off the calendar once in UTC (year 1 east of UTC, year 9999 west of it) is
        refused as invalid (422) instead of failing in the query (500). Passed on in UTC."""
        if value is None:
            return None
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        try:
            # In UTC: PostgreSQL refuses offsets beyond ±15:59 that Python accepts (-16:19).
            return value.astimezone(dt.UTC)
        except OverflowError as exc:
            raise ValueError("时间超出可查询的范围。") from exc


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


@router.get(
    "", response=answers(list[AuditOut], 403, 422), summary="审计日志查询（审计员，最近 500 条）"
)
def audit_list(request: HttpRequest, query: Query[AuditQuery]) -> list[AuditOut]:
    where = AuditFilter(**query.dict())
    entries = audit_search(user=acting_user(request), where=where)[:MAX_ENTRIES]
    return [AuditOut.of(entry) for entry in entries]
