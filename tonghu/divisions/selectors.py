from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa
from django.db.models import Q, QuerySet

from tonghu.accounts.scope import access, scoped, within
from tonghu.divisions.codes import Level, pad
from tonghu.divisions.models import Division

if TYPE_CHECKING:
    from tonghu.accounts.models import User


def divisions_for(*, user: User) -> QuerySet[Division]:
    """The divisions of the user's jurisdiction (every role may see its own tree's names)."""
    return scoped(Division.objects.all(), user=user, capability=None, field="code")


def access_division(*, user: User, code: str) -> Division:
    return access(divisions_for(user=user).select_related("parent"), code=code)


def subdivisions(*, division: Division) -> QuerySet[Division]:
    return division.children.order_by("code")


def division_table(*, county: str | None = None) -> pa.Table:
    """The division table (reference data, not scoped) for the batch pipeline: all of it, or
    with ``county`` (6 digits) only that county's tree and every county-level row (what
    classifying one child needs)."""
    names = ("code", "name", "level", "parent_code", "central_urban")
    divisions = Division.objects.all()
    if county is not None:
        divisions = divisions.filter(within("code", county) | Q(level=Level.COUNTY))
    rows = divisions.values_list("code", "name", "level", "parent_id", "central_urban")
    return pa.Table.from_pylist(
        [dict(zip(names, (*row[:4], "1" if row[4] else "0"), strict=True)) for row in rows],
        schema=pa.schema([(name, pa.string()) for name in names]),
    )


def county_division(code: str) -> Division | None:
    """The county-level division of a 6-digit county code, if the table has it."""
    return Division.objects.filter(code=pad(code), level=Level.COUNTY).first()
