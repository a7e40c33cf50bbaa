"""The one scope gate: every view, API endpoint, export and command reads through these.

A user sees the subtree of their division and only their role's share of it. Objects
outside that (or outside the role's share) answer 404, exactly like missing ones, so a
URL never tells whether something exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import Model, Q, QuerySet
from django.http import Http404

from tonghu.accounts.roles import Capability
from tonghu.divisions.codes import Level, code_range, prefix

if TYPE_CHECKING:
    from tonghu.accounts.models import User


def scope_prefix(user: User) -> str:
    """Division codes in the user's jurisdiction all start with this."""
    return prefix(user.division_id, Level(user.division.level))


def within(field: str, code_prefix: str) -> Q:
    """Rows whose 12-digit division code ``field`` starts with ``code_prefix``, as a code
    range (a plain btree index serves it for filtering and ordering under any collation)."""
    first, last = code_range(code_prefix)
    return Q(**{f"{field}__gte": first, f"{field}__lte": last})


def scope_q(user: User, field: str) -> Q:
    """A filter keeping rows whose division code ``field`` lies in the user's jurisdiction."""
    return within(field, scope_prefix(user))


def require(user: User, capability: Capability) -> None:
    """Pages that are not about one object: refuse a role without the share (403)."""
    if not user.can(capability):
        raise PermissionDenied("您的角色无权使用此功能。")


def scoped[M: Model](
    queryset: QuerySet[M], *, user: User, capability: Capability | None, field: str
) -> QuerySet[M]:
    """``queryset`` narrowed to the user's jurisdiction, or empty without the share."""
    if capability is not None and not user.can(capability):
        return queryset.none()
    if not user.is_active:
        return queryset.none()
    return queryset.filter(scope_q(user, field))


def access[M: Model](queryset: QuerySet[M], **lookup: object) -> M:
    """One object from an already scoped queryset, or 404 for missing and forbidden alike."""
    found = queryset.filter(**lookup).first()
    if found is None:
        raise Http404("未找到该记录，或您无权查看。")
    return found
