from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from tonghu.accounts.roles import Capability
from tonghu.accounts.scope import access, scoped
from tonghu.children.models import ChildRecord
from tonghu.linkage.models import LinkDecision, ReviewPair
from tonghu.rounds.models import Round, RoundStatus

if TYPE_CHECKING:
    from tonghu.accounts.models import User


def review_pairs_for(*, user: User) -> QuerySet[ReviewPair]:
    """Pairs awaiting a decision from the latest completed round of each county in scope."""
    latest = Round.objects.filter(status=RoundStatus.DONE).order_by("county_id", "-as_of")
    latest_ids: dict[str, int] = {}
    for round_id, county in latest.values_list("pk", "county_id"):
        latest_ids.setdefault(county, round_id)
    pairs = ReviewPair.objects.filter(round_id__in=latest_ids.values()).select_related(
        "round", "round__county"
    )
    return scoped(
        pairs, user=user, capability=Capability.MANAGE_ROUNDS, field="round__county__code"
    )


def access_pair(*, user: User, pair_id: int) -> ReviewPair:
    return access(review_pairs_for(user=user), pk=pair_id)


def pair_records(*, pair: ReviewPair) -> tuple[ChildRecord | None, ChildRecord | None]:
    found = {
        f"{record.source}|{record.record_key}": record
        for record in ChildRecord.objects.filter(round=pair.round).filter(
            record_key__in=[pair.record_id_l.split("|", 1)[1], pair.record_id_r.split("|", 1)[1]]
        )
    }
    return found.get(pair.record_id_l), found.get(pair.record_id_r)


def decision_for(*, pair: ReviewPair) -> LinkDecision | None:
    return LinkDecision.objects.filter(
        county=pair.round.county, record_id_l=pair.record_id_l, record_id_r=pair.record_id_r
    ).first()
