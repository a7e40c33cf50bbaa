from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from tonghu.accounts.roles import Capability
from tonghu.accounts.scope import access, scoped
from tonghu.children.models import ChildRecord
from tonghu.linkage.models import LinkDecision, ReviewPair
from tonghu.rounds.models import Round, RoundStatus

if TYPE_CHECKING:
    from tonghu.accounts.models import User


def review_pairs_for(*, user: User) -> QuerySet[ReviewPair]:
    """Pairs awaiting a decision from the latest completed round of each county in scope."""
    newer = Round.objects.filter(
        county_id=OuterRef("round__county_id"),
        status=RoundStatus.DONE,
        as_of__gt=OuterRef("round__as_of"),
    )
    pairs = (
        ReviewPair.objects.filter(round__status=RoundStatus.DONE)
        .exclude(Exists(newer))
        .select_related("round", "round__county")
    )
    return scoped(pairs, user=user, capability=Capability.MANAGE_ROUNDS, field="round__county_id")


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


@dataclass(frozen=True)
class ReviewProgress:
    queued: int  # pairs the round put to people
    decided: int  # ... on which staff have decided

    @property
    def remaining(self) -> int:
        return self.queued - self.decided


def review_progress(*, round_: Round) -> ReviewProgress:
    """How much of a round's review queue (人工核实) is done, in one query."""
    decided = LinkDecision.objects.filter(
        county_id=OuterRef("round__county_id"),
        record_id_l=OuterRef("record_id_l"),
        record_id_r=OuterRef("record_id_r"),
    )
    counts = (
        ReviewPair.objects.filter(round=round_)
        .annotate(is_decided=Exists(decided))
        .aggregate(queued=Count("id"), decided=Count("id", filter=Q(is_decided=True)))
    )
    return ReviewProgress(queued=counts["queued"], decided=counts["decided"])
