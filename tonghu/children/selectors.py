from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Count, QuerySet
from django.db.models.functions import Substr

from tonghu.accounts.roles import Capability
from tonghu.accounts.scope import access, scoped
from tonghu.children.models import Child
from tonghu.divisions.codes import pad
from tonghu.divisions.models import Division

if TYPE_CHECKING:
    from tonghu.accounts.models import User


def children_for(*, user: User) -> QuerySet[Child]:
    """Children living in the user's jurisdiction, if the role may see the ledger."""
    return scoped(
        Child.objects.select_related("residence_division"),
        user=user,
        capability=Capability.VIEW_CHILDREN,
        field="residence_division__code",
    )


def access_child(*, user: User, child_id: str) -> Child:
    return access(children_for(user=user), child_id=child_id)


def count_by_subdivision(*, user: User, division: Division) -> dict[str, int]:
    """How many of the user's children live under each direct subdivision of ``division``."""
    sub_level = division.level_enum.child
    if sub_level is None:
        return {}
    rows = (
        children_for(user=user)
        .filter(residence_division__code__startswith=division.prefix)
        .annotate(sub=Substr("residence_division_id", 1, sub_level.prefix_length))
        .values("sub")
        .annotate(n=Count("pk"))
    )
    return {pad(str(row["sub"])): int(row["n"]) for row in rows}
