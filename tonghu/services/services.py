"""A department's work on a referral: accept, record the service delivered, or decline."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from tonghu.audit.models import Action
from tonghu.audit.services import audit_record
from tonghu.services.models import Referral
from tonghu.services.selectors import access_referral
from tonghu.stats.models import Measure
from tonghu.stats.services import figure_add

if TYPE_CHECKING:
    from tonghu.accounts.models import User


def _open_referral(user: User, referral_id: int) -> Referral:
    referral = access_referral(user=user, referral_id=referral_id)
    referral = Referral.objects.select_for_update().select_related("child").get(pk=referral.pk)
    if not referral.is_open:
        raise ValidationError(f"该转介任务{referral.get_status_display()}，不能再处理。")
    return referral


def _saved(user: User, referral: Referral, fields: list[str], detail: str) -> Referral:
    referral.handled_by = user
    referral.save(update_fields=[*fields, "handled_by"])
    audit_record(
        actor=user,
        action=Action.UPDATE,
        object_type="referral",
        object_ids=[str(referral.pk)],
        child_ids=[referral.child.child_id],
        detail=detail,
    )
    return referral


@transaction.atomic
def referral_accept(*, user: User, referral_id: int) -> Referral:
    referral = _open_referral(user, referral_id)
    if referral.status == Referral.Status.ACCEPTED:
        raise ValidationError("该转介任务已接收。")
    referral.status = Referral.Status.ACCEPTED
    referral.accepted_at = timezone.now()
    return _saved(user, referral, ["status", "accepted_at"], "接收转介任务")


@transaction.atomic
def referral_deliver(
    *, user: User, referral_id: int, delivered_on: dt.date, what: str, by_whom: str
) -> Referral:
    referral = _open_referral(user, referral_id)
    what, by_whom = what.strip(), by_whom.strip()
    if not what or not by_whom:
        raise ValidationError("请填写服务内容和服务提供人。")
    if delivered_on > timezone.localdate():
        raise ValidationError("服务日期不能晚于今天。")
    referral.status = Referral.Status.DELIVERED
    referral.accepted_at = referral.accepted_at or timezone.now()
    referral.delivered_on = delivered_on
    referral.delivered_what = what[:200]
    referral.delivered_by = by_whom[:50]
    fields = ["status", "accepted_at", "delivered_on", "delivered_what", "delivered_by"]
    figure_add(
        division_code=referral.child.residence_division_id,
        measure=Measure.SERVICE_DELIVERED,
        category=referral.service_code,
        on=delivered_on,
    )
    return _saved(user, referral, fields, "记录已提供服务")


@transaction.atomic
def referral_decline(*, user: User, referral_id: int, reason: str) -> Referral:
    referral = _open_referral(user, referral_id)
    if not reason.strip():
        raise ValidationError("请填写退回理由。")
    referral.status = Referral.Status.DECLINED
    referral.declined_reason = reason.strip()[:200]
    return _saved(user, referral, ["status", "declined_reason"], "退回转介任务")
