"""Service coverage (实现程度): per service and town, children eligible, referred (a referral
pushed and not closed) and served (a department recorded the service), and the rate."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Count
from django.db.models.functions import Substr

from tonghu.accounts.roles import Capability
from tonghu.accounts.scope import require, scope_q
from tonghu.children.selectors import children_for
from tonghu.divisions.codes import Level, pad
from tonghu.divisions.models import Division
from tonghu.services.models import Referral

if TYPE_CHECKING:
    from tonghu.accounts.models import User

TOWN_DIGITS = Level.TOWN.prefix_length
HEADER = (
    "服务编号",
    "服务项目",
    "乡镇（街道）代码",
    "乡镇（街道）",
    "应享人数",
    "已推送人数",
    "已服务人数",
    "实现程度",
)


@dataclass
class CoverageRow:
    code: str
    name: str
    town: str
    town_name: str
    eligible: int = 0
    referred: int = 0
    delivered: int = 0

    @property
    def rate(self) -> float:
        return self.delivered / self.eligible if self.eligible else 0.0

    @property
    def rate_text(self) -> str:
        return f"{self.rate:.1%}"


def service_coverage(*, user: User, names: dict[str, str]) -> list[CoverageRow]:
    require(user, Capability.VIEW_CHILDREN)
    children = children_for(user=user).filter(present=True)
    rows: dict[tuple[str, str], CoverageRow] = {}
    towns = dict(
        Division.objects.filter(scope_q(user, "code"), level=Level.TOWN).values_list("code", "name")
    )

    def row(code: str, town: str) -> CoverageRow:
        key = (code, pad(town))
        if key not in rows:
            rows[key] = CoverageRow(
                code, names.get(code, code), pad(town), towns.get(pad(town), "")
            )
        return rows[key]

    eligible: dict[tuple[str, str], int] = defaultdict(int)
    for division, services in children.values_list("residence_division_id", "services").iterator(
        chunk_size=5_000
    ):
        for code in services:
            eligible[code, division[:TOWN_DIGITS]] += 1
    for (code, town), count in eligible.items():
        row(code, town).eligible = count
    referrals = Referral.objects.filter(child__in=children).annotate(
        town=Substr("child__residence_division_id", 1, TOWN_DIGITS)
    )
    for field, statuses in (
        (
            "referred",
            (*Referral.OPEN_STATUSES, Referral.Status.DELIVERED, Referral.Status.DECLINED),
        ),
        ("delivered", (Referral.Status.DELIVERED,)),
    ):
        counted = (
            referrals.filter(status__in=statuses)
            .values("service_code", "town")
            .annotate(children=Count("child", distinct=True))
        )
        for item in counted:
            setattr(row(item["service_code"], item["town"]), field, item["children"])
    return sorted(rows.values(), key=lambda r: (r.code, r.town))


def coverage_table(rows: list[CoverageRow]) -> list[tuple[object, ...]]:
    return [
        (r.code, r.name, r.town, r.town_name, r.eligible, r.referred, r.delivered, r.rate_text)
        for r in rows
    ]
