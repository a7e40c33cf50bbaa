"""Handing a case to the county the child has moved to, and that county's answer."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from tonghu import clock
from tonghu.accounts.models import User
from tonghu.accounts.roles import Role
from tonghu.accounts.scope import within
from tonghu.audit.models import Action
from tonghu.cases.machine import (
    Actor,
)
from tonghu.cases.models import (
    Case,
    CaseEvent,
    Transfer,
)
from tonghu.cases.selectors import access_incoming_transfer
from tonghu.cases.services import (
    actor_of,
    case_audit,
    case_event,
    case_locked,
    case_save,
    cases_policy,
    tell_next,
)
from tonghu.divisions.codes import Level
from tonghu.divisions.models import Division
from tonghu.notifications.models import Notification
from tonghu.notifications.services import Reminder, notify

# --- transfers -----------------------------------------------------------------------


@transaction.atomic
def case_transfer_ask(*, user: User, number: str, to_county: str, reason: str) -> Transfer:
    """Hand an open case to another county's civil affairs (the child has moved there)."""
    case = case_locked(user=user, number=number)
    if actor_of(user) is not Actor.COUNTY_STAFF:
        raise ValidationError("案件移交须由区县民政办理。")
    if not case.is_open:
        raise ValidationError("案件已结案，不能移交。")
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "请填写移交原因。"})
    target = Division.objects.filter(code=to_county, level=Level.COUNTY).first()
    if target is None:
        raise ValidationError({"to_county": "接收区县代码有误，请选择县级区划。"})
    if target.code == case.county_id:
        raise ValidationError({"to_county": "接收区县与本案承办区县相同。"})
    if case.transfers.filter(status=Transfer.Status.PENDING).exists():
        raise ValidationError("本案已有待接收的移交申请。")
    now = clock.now()
    transfer = Transfer.objects.create(
        case=case,
        from_county_id=case.county_id,
        to_county=target,
        reason=reason,
        asked_by=user,
        asked_at=now,
        due_at=now + dt.timedelta(days=cases_policy(case).transfer_accept_days),
    )
    case_event(
        case=case,
        kind=CaseEvent.Kind.TRANSFER_ASKED,
        by=user,
        text=f"申请移交{target.name}：{reason}",
    )
    case_audit(user, case, Action.UPDATE, f"申请移交至 {target.code}")
    receivers = User.objects.filter(role=Role.COUNTY_STAFF, division=target, is_active=True)
    notify(
        reminders=[
            Reminder(
                user=receiver,
                kind=Notification.Kind.CASE_STEP,
                text=f"{user.division.name}申请将案件 {case.number} 移交你区县，请接收。",
                url=reverse("cases:transfers"),
                key=f"transfer:{transfer.pk}",
            )
            for receiver in receivers
        ]
    )
    return transfer


@transaction.atomic
def transfer_accept(*, user: User, transfer_id: int, division_code: str) -> Case:
    """The receiving county takes the case over, placing it in the child's new town or village;
    the sending county no longer sees it. The loop goes on from the state it was in."""
    transfer = access_incoming_transfer(user=user, transfer_id=transfer_id)
    place = (
        Division.objects.filter(within("code", transfer.to_county.prefix), code=division_code)
        .exclude(level=Level.COUNTY)
        .first()
    )
    if place is None:
        raise ValidationError({"division": "请选择儿童在本区县居住的乡镇（街道）或村（社区）。"})
    case = Case.objects.select_for_update().get(pk=transfer.case_id)
    case.county_id = transfer.to_county_id
    case.division = place
    case_save(case)
    _answer(transfer, user=user, status=Transfer.Status.ACCEPTED, answer="")
    case_event(
        case=case,
        kind=CaseEvent.Kind.TRANSFER_ACCEPTED,
        by=user,
        text=f"{transfer.to_county.name}接收移交，儿童现居{place.name}",
    )
    case_audit(user, case, Action.UPDATE, f"接收移交（自 {transfer.from_county_id}）")
    tell_next(case, user=user)
    return case


@transaction.atomic
def transfer_refuse(*, user: User, transfer_id: int, answer: str) -> Transfer:
    transfer = access_incoming_transfer(user=user, transfer_id=transfer_id)
    answer = answer.strip()
    if not answer:
        raise ValidationError({"answer": "请填写拒绝接收的理由。"})
    _answer(transfer, user=user, status=Transfer.Status.REFUSED, answer=answer)
    case_event(
        case=transfer.case,
        kind=CaseEvent.Kind.TRANSFER_REFUSED,
        by=user,
        text=f"{transfer.to_county.name}拒绝接收：{answer}",
    )
    case_audit(user, transfer.case, Action.UPDATE, "拒绝接收移交")
    return transfer


def _answer(transfer: Transfer, *, user: User, status: Transfer.Status, answer: str) -> None:
    transfer.status = status
    transfer.answered_by = user
    transfer.answered_at = clock.now()
    transfer.answer = answer
    transfer.save(update_fields=["status", "answered_by", "answered_at", "answer"])
