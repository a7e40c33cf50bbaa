from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from tonghu.accounts.roles import Capability
from tonghu.accounts.scope import access, scoped
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
