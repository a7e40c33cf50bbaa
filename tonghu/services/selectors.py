from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from tonghu.accounts.roles import Capability
from tonghu.accounts.scope import access, scoped
from tonghu.services.models import Referral

if TYPE_CHECKING:
    from tonghu.accounts.models import User


def referrals_for(*, user: User) -> QuerySet[Referral]:
    """A department officer's referrals: its department's, for children in its jurisdiction."""
    mine = Referral.objects.filter(department=user.department).select_related(
        "child", "child__residence_division", "round"
    )
    return scoped(
        mine,
        user=user,
        capability=Capability.VIEW_REFERRALS,
        field="child__residence_division_id",
    )


def access_referral(*, user: User, referral_id: int) -> Referral:
    return access(referrals_for(user=user), pk=referral_id)
