"""Reading exchange results: certification requests by county or through the scope gate, and
what a child's file shows of the other county's information."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.http import Http404

from tonghu.accounts.roles import Capability
from tonghu.accounts.scope import access, scoped
from tonghu.children.selectors import access_child
from tonghu.divisions.codes import pad
from tonghu.divisions.models import Division
from tonghu.exchange.models import (
    HUKOU_STATUSES,
    Certify,
    CertifyRequest,
    Direction,
    ExchangePackage,
    ExchangeRecord,
    Kind,
    Side,
)

if TYPE_CHECKING:
    from tonghu.accounts.models import User
    from tonghu.children.models import Child


def overdue_q(today: dt.date) -> Q:
    """Requests still open (已发出 or 待答复) after their due date: 已逾期."""
    return Q(status__in=CertifyRequest.OPEN_STATUSES, due_on__lt=today)


def certify_requests(*, county: str) -> QuerySet[CertifyRequest]:
    """A county's requests, both those it sent and those it must answer (command line)."""
    return CertifyRequest.objects.filter(county_id=pad(county)).select_related("child")


def certify_requests_for(*, user: User) -> QuerySet[CertifyRequest]:
    """The requests of the user's county, for the county civil-affairs office only."""
    if user.division.level != "county":
        return CertifyRequest.objects.none()
    return scoped(
        CertifyRequest.objects.select_related("child"),
        user=user,
        capability=Capability.EXCHANGE_PACKAGES,
        field="county_id",
    ).filter(county_id=user.division_id)  # the office's own, not its counties' (shared instance)


def access_certify_request(*, user: User, pk: int) -> CertifyRequest:
    """One request of the user's county, 404 for a missing one and another county's alike."""
    return access(certify_requests_for(user=user), pk=pk)


def access_child_to_certify(*, user: User, child_id: str) -> Child:
    """A child in the user's scope, for a county office to ask its hukou county about; 404
    for a missing child, one outside the scope, and for anyone but a county office."""
    if not user.can(Capability.EXCHANGE_PACKAGES) or user.division.level != "county":
        raise Http404("未找到该儿童，或您无权办理。")
    return access_child(user=user, child_id=child_id)


def packages_for(*, user: User) -> QuerySet[ExchangePackage]:
    """The packages the user's county (or city, for figures) made or imported."""
    return scoped(
        ExchangePackage.objects.select_related("handled_by"),
        user=user,
        capability=Capability.EXCHANGE_PACKAGES,
        field="county_id",
    ).filter(county_id=user.division_id)  # the office's own, not its counties' (shared instance)


def access_outgoing_package(*, user: User, pk: int) -> ExchangePackage:
    """A package the user's county made (to download and send on), else 404."""
    return access(packages_for(user=user), pk=pk, direction=Direction.OUT)


# What the answering side's ledger says about a request's subject (a hint, not the answer).
_LEDGER_HINTS = {
    Certify.ORPHAN: "orphan",
    Certify.FUC: "fuc",
    Certify.DISABILITY_ALLOWANCE: "disabled",
}


def ledger_hint(request: CertifyRequest) -> str:
    if request.side != Side.ANSWERER:
        return ""
    if request.child is None:
        return "本县台账中未找到该儿童"
    code = _LEDGER_HINTS[Certify(request.subject)]
    label = {"disabled": "残疾", **HUKOU_STATUSES}[code]
    found = code in (request.child.difficulty or [])
    return f"本县台账{'记载' if found else '未记载'}{label}"


@dataclass
class HukouStatus:
    county: str
    county_name: str
    statuses: list[str]  # labels
    since: dict[str, str]  # label -> date
    received_at: dt.datetime
    remote_child_id: str


@dataclass
class ResidenceInfo:
    county: str
    county_name: str
    residence_since: str | None
    received_at: dt.datetime


@dataclass
class ChildExchange:
    hukou: list[HukouStatus] = field(default_factory=list)
    residence: list[ResidenceInfo] = field(default_factory=list)
    requests: list[CertifyRequest] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.hukou or self.residence or self.requests)


def child_exchange(*, child: Child) -> ChildExchange:
    """For a child already opened through the gate: the latest statuses each hukou county
    answered, where the residence counties say the child lives, and the 跨省通办 requests."""
    records = (
        ExchangeRecord.objects.filter(child=child)
        .select_related("package")
        .order_by("-package__created_at", "-id")
    )
    shown = ChildExchange()
    seen: set[tuple[str, str]] = set()
    for record in records:
        if (record.kind, record.sender) in seen:
            continue
        seen.add((record.kind, record.sender))
        if record.kind == Kind.HUKOU_STATUS:
            since = record.values.get("since") or {}
            shown.hukou.append(
                HukouStatus(
                    county=record.sender,
                    county_name="",
                    statuses=record.status_labels,
                    since={HUKOU_STATUSES.get(k, k): str(v) for k, v in since.items()},
                    received_at=record.package.handled_at,
                    remote_child_id=record.remote_child_id,
                )
            )
        elif record.kind == Kind.MIGRANTS:
            shown.residence.append(
                ResidenceInfo(
                    county=record.sender,
                    county_name="",
                    residence_since=record.values.get("residence_since"),
                    received_at=record.package.handled_at,
                )
            )
    places: list[HukouStatus | ResidenceInfo] = [*shown.hukou, *shown.residence]
    names = dict(
        Division.objects.filter(code__in=[pad(item.county) for item in places]).values_list(
            "code", "name"
        )
    )
    for item in places:
        item.county_name = names.get(pad(item.county), "")
    shown.requests = list(child.certify_requests.order_by("-requested_at"))
    return shown


def hukou_statuses(child: Child) -> tuple[list[str], dict[str, str]]:
    """The child's 孤儿/事实无人抚养/低保 codes in this county's ledger, and since when
    (the 起始日期 of the current round's 救助保障名册 record, where there is one)."""
    codes = [code for code in HUKOU_STATUSES if code in (child.difficulty or [])]
    since: dict[str, str] = {}
    if codes and child.last_round_id:
        labels = {HUKOU_STATUSES[code]: code for code in codes}
        records = child.records.filter(round_id=child.last_round_id, source="civil_status")
        for record in records:
            code = labels.get(str(record.values.get("category", "")))
            starts = record.values.get("starts_on")
            if code and starts and (code not in since or str(starts) < since[code]):
                since[code] = str(starts)
    return codes, since
