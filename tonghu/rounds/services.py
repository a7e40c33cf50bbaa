from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction

from tonghu.accounts.roles import Capability
from tonghu.accounts.scope import require
from tonghu.audit.models import Action
from tonghu.audit.services import audit_record
from tonghu.divisions.codes import Level
from tonghu.rounds.models import Round

if TYPE_CHECKING:
    from tonghu.accounts.models import User


@transaction.atomic
def round_open(*, as_of: dt.date, acting_user: User) -> Round:
    """Open a round for the acting user's own county at the reference date ``as_of``."""
    require(acting_user, Capability.MANAGE_ROUNDS)
    county = acting_user.division
    if county.level != Level.COUNTY:
        raise ValidationError("只有区县民政工作人员可以为本区县新建一轮监测摸排。")
    if Round.objects.filter(county=county, as_of=as_of).exists():
        raise ValidationError(f"{county.name}已有基准日为 {as_of:%Y-%m-%d} 的一轮监测摸排。")
    created = Round.objects.create(county=county, as_of=as_of, created_by=acting_user)
    audit_record(
        actor=acting_user, action=Action.CREATE, object_type="round", object_ids=[str(created.pk)]
    )
    return created
