from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from tonghu.accounts.roles import Capability, Role
from tonghu.accounts.scope import access, scoped
from tonghu.feeds.departments import SOURCE_DEPARTMENTS
from tonghu.feeds.models import FeedImport

if TYPE_CHECKING:
    from tonghu.accounts.models import User


def uploadable_sources(*, user: User) -> list[str]:
    """The sources this user may import: all for county staff, their own department's else."""
    if not user.can(Capability.UPLOAD_FEEDS):
        return []
    if user.role != Role.DEPARTMENT_OFFICER:
        return list(SOURCE_DEPARTMENTS)
    return [source for source, dept in SOURCE_DEPARTMENTS.items() if dept == user.department]


def imports_for(*, user: User) -> QuerySet[FeedImport]:
    """Imports in the user's jurisdiction; a department officer sees their department's only."""
    imports = scoped(
        FeedImport.objects.select_related("round", "round__county", "uploaded_by"),
        user=user,
        capability=Capability.UPLOAD_FEEDS,
        field="round__county__code",
    )
    return imports.filter(source__in=uploadable_sources(user=user))


def access_import(*, user: User, import_id: int) -> FeedImport:
    return access(imports_for(user=user), pk=import_id)
