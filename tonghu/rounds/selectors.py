from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Count, QuerySet
from django.db.models.functions import Substr

from tonghu.accounts.roles import Capability
from tonghu.accounts.scope import access, scoped, within
from tonghu.children.models import ChildChange
from tonghu.divisions.codes import Level, pad
from tonghu.divisions.models import Division
from tonghu.rounds.models import Round

if TYPE_CHECKING:
    from tonghu.accounts.models import User


def rounds_for(*, user: User) -> QuerySet[Round]:
    """Rounds of the counties in the user's jurisdiction (for roles that take part in them)."""
    return scoped(
        Round.objects.select_related("county"),
        user=user,
        capability=Capability.UPLOAD_FEEDS,
        field="county__code",
    )


def access_round(*, user: User, round_id: int) -> Round:
    return access(rounds_for(user=user), pk=round_id)


@dataclass
class TownComparison:
    code: str
    name: str
    found: int = 0  # new children (首次发现 or 重新发现)
    departed: int = 0
    changed: int = 0  # children with at least one changed value


def round_comparison(*, round_: Round) -> list[TownComparison]:
    """New, departed and changed children of ``round_`` against the county's previous
    round, per town (乡镇/街道) of where each child lives."""
    rows = (
        ChildChange.objects.filter(round=round_)
        .annotate(town=Substr("child__residence_division_id", 1, Level.TOWN.prefix_length))
        .values("town", "kind")
        .annotate(children=Count("child", distinct=True))
    )
    towns: dict[str, TownComparison] = {}
    names = dict(
        Division.objects.filter(within("code", round_.county_id[:6]), level=Level.TOWN).values_list(
            "code", "name"
        )
    )
    for row in rows:
        code = pad(row["town"])
        town = towns.setdefault(code, TownComparison(code, names.get(code, "（未定位到乡镇）")))
        if row["kind"] in {ChildChange.Kind.FOUND, ChildChange.Kind.RETURNED}:
            town.found += row["children"]
        elif row["kind"] == ChildChange.Kind.DEPARTED:
            town.departed += row["children"]
        elif row["kind"] == ChildChange.Kind.CHANGED:
            town.changed += row["children"]
    return sorted(towns.values(), key=lambda town: town.code)
