"""A round's referrals: open one per eligible child × service × responsible department that
has none open, close the open ones whose child left or no longer qualifies."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Q

from tonghu.children.models import Child
from tonghu.policy import Profile
from tonghu.rounds.models import Round
from tonghu.services.models import Referral

BATCH = 5_000
LEFT = "儿童已离开本地（本轮未再发现）"
NO_LONGER = "本轮认定不再符合该服务条件"


def load_referrals(*, round_: Round, profile: Profile, today: dt.date) -> tuple[int, int]:
    """Returns (opened, closed)."""
    county = round_.county_id[:6]
    departments = {item.code: item.departments for item in profile.services.items}
    wanted: set[tuple[int, str, str]] = set()
    children = Child.objects.filter(child_id__startswith=county, present=True, last_round=round_)
    for pk, services in children.values_list("pk", "services").iterator(chunk_size=BATCH):
        for code in services:
            wanted.update((pk, code, department) for department in departments.get(code, ()))
    open_now: dict[tuple[int, str, str], int] = {}
    gone: dict[str, list[int]] = defaultdict(list)
    existing = Referral.objects.filter(
        child__child_id__startswith=county, status__in=Referral.OPEN_STATUSES
    ).values_list("pk", "child_id", "service_code", "department", "child__present")
    for pk, child, code, department, present in existing.iterator(chunk_size=BATCH):
        key = (child, code, department)
        if key in wanted:
            open_now[key] = pk
        else:
            gone[NO_LONGER if present else LEFT].append(pk)
    due = today + dt.timedelta(days=profile.referrals.respond_within_days)
    new = [
        Referral(child_id=child, round=round_, service_code=code, department=department, due_on=due)
        for child, code, department in sorted(wanted - open_now.keys())
    ]
    Referral.objects.bulk_create(new, batch_size=BATCH)
    closed = 0
    for reason, pks in gone.items():
        for start in range(0, len(pks), BATCH):
            closed += Referral.objects.filter(pk__in=pks[start : start + BATCH]).update(
                status=Referral.Status.CLOSED, closed_reason=reason
            )
    return len(new), closed


def overdue_q(today: dt.date) -> Q:
    return Q(status=Referral.Status.PENDING, due_on__lt=today)
