from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Count, Q, QuerySet

from tonghu.accounts.roles import Capability
from tonghu.accounts.scope import access, scoped, within
from tonghu.children.models import Child
from tonghu.divisions.codes import level_of, pad, prefix
from tonghu.divisions.models import Division
from tonghu.policy.dates import months_before
from tonghu.privacy.crypto import blind_index

if TYPE_CHECKING:
    from tonghu.accounts.models import User


def children_for(*, user: User) -> QuerySet[Child]:
    """Children living in the user's jurisdiction, if the role may see the ledger."""
    return scoped(
        Child.objects.select_related("residence_division"),
        user=user,
        capability=Capability.VIEW_CHILDREN,
        field="residence_division_id",
    )


def access_child(*, user: User, child_id: str) -> Child:
    return access(children_for(user=user).select_related("last_round"), child_id=child_id)


def count_by_subdivision(*, user: User, division: Division) -> dict[str, int]:
    """How many of the user's children are on the ledger (在册: present) under each direct
    subdivision of ``division``.

    Counted per residence code with COUNT(*), which the (residence_division, present) index
    answers by itself (an index-only scan in code order, no table rows read), and added up
    per subdivision here: a few hundred village codes, rather than a substring per child."""
    sub_level = division.level_enum.child
    if sub_level is None:
        return {}
    rows = (
        children_for(user=user)
        .filter(within("residence_division_id", division.prefix), present=True)
        .values_list("residence_division_id")
        .annotate(n=Count("*"))
        .order_by()
    )
    counts: dict[str, int] = defaultdict(int)
    for code, n in rows:
        counts[pad(code[: sub_level.prefix_length])] += n
    return dict(counts)


@dataclass(frozen=True)
class ChildFilter:
    """The list filters (each empty means all)."""

    name: str = ""
    id_number: str = ""  # the whole number: found through the blind index, never partly
    category: str = ""
    key_care: str = ""
    division: str = ""
    age_band: tuple[int, int] | None = None
    stage: str = ""
    hukou_province: str = ""
    include_departed: bool = False


FILTER_LABELS = {
    "name": "姓名",
    "id_number": "身份证号",
    "category": "类别",
    "key_care": "重点关爱情形",
    "division": "区划",
    "age_band": "年龄段",
    "stage": "学段",
    "hukou_province": "户籍省份",
    "include_departed": "含已离开",
}

# The list's category filter: key -> (label, condition).
CATEGORIES: dict[str, tuple[str, Q]] = {
    "migrant": ("流动儿童", Q(is_migrant=True)),
    "left_behind": ("留守儿童", Q(is_left_behind=True)),
    "key_care": ("重点关爱服务对象", Q(is_key_care=True)),
    "difficulty": ("困境/保障情形", Q(in_difficulty=True)),
    "dropout": ("控辍保学对象", ~Q(dropout_risk="")),
}


def children_filtered(*, user: User, where: ChildFilter, as_of: dt.date) -> QuerySet[Child]:
    children = children_for(user=user)
    if not where.include_departed:
        children = children.filter(present=True)
    if where.name:
        children = children.filter(name__contains=where.name)
    if where.id_number:
        children = children.filter(id_number_index=blind_index(where.id_number))
    if where.category in CATEGORIES:
        children = children.filter(CATEGORIES[where.category][1])
    if where.key_care:
        # is_key_care narrows to the few key-care children before the JSON test.
        children = children.filter(is_key_care=True, key_care__icontains=f'"{where.key_care}"')
    if where.division:
        children = children.filter(within("residence_division_id", _prefix(where.division)))
    if where.age_band is not None:
        youngest, oldest = where.age_band
        children = children.filter(
            birth_date__gt=months_before(as_of, 12 * (oldest + 1)),
            birth_date__lte=months_before(as_of, 12 * youngest),
        )
    if where.stage:
        children = children.filter(stage=where.stage)
    if where.hukou_province:
        children = children.filter(hukou_province=where.hukou_province)
    return children


def _prefix(code: str) -> str:
    """A division code's own prefix (410402001000 -> 410402001); as typed if malformed."""
    level = level_of(pad(code))
    return prefix(pad(code), level) if level is not None else code
