"""The roster's writes: a worker's contact and appointment, training records, and the
audit of phone numbers shown or exported in full. Audit details never hold the values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from tonghu.audit.models import Action
from tonghu.audit.services import audit_record
from tonghu.privacy.services import export_reason_record
from tonghu.roster.models import HOURS_MAX, PHONE_VALIDATOR, Training, Worker
from tonghu.roster.selectors import (
    WorkerRow,
    access_worker_to_edit,
    access_worker_to_train,
    phones_visible,
    roster_for,
)
from tonghu.web.exports import xlsx_bytes

if TYPE_CHECKING:
    from tonghu.accounts.models import User

EARLIEST = dt.date(2000, 1, 1)
EXPORT_HEADER = (
    "县（市、区）",
    "乡镇（街道）",
    "村（社区）代码",
    "村（社区）",
    "岗位",
    "姓名",
    "手机号码",
    "任职日期",
    "培训总学时",
    "最近培训日期",
    "在册儿童",
    "留守或困境儿童",
    "重点关爱服务对象",
    "每名儿童主任服务上限",
    "提示",
)


def _check_date(day: dt.date, what: str) -> None:
    if day > timezone.localdate():
        raise ValidationError(f"{what}不能晚于今天。")
    if day < EARLIEST:
        raise ValidationError(f"{what}不能早于 {EARLIEST:%Y-%m-%d}。")


@transaction.atomic
def training_add(
    *,
    user: User,
    worker_id: int,
    on: dt.date,
    topic: str,
    hours: Decimal,
    organiser: str = "",
) -> Training:
    """Record a training the worker attended (county staff; a supervisor for the town's
    directors)."""
    worker = access_worker_to_train(user=user, worker_id=worker_id)
    topic, organiser = topic.strip(), organiser.strip()
    if not topic:
        raise ValidationError("请填写培训主题。")
    if not Decimal(0) < hours <= HOURS_MAX:
        raise ValidationError(f"学时应大于 0 且不超过 {HOURS_MAX}。")
    _check_date(on, "培训日期")
    training = Training.objects.create(
        user=worker,
        on=on,
        topic=topic[:100],
        hours=hours,
        organiser=organiser[:100],
        recorded_by=user,
    )
    audit_record(
        actor=user,
        action=Action.CREATE,
        object_type="roster_training",
        object_ids=[str(training.pk)],
        detail=f"登记培训记录（人员 {worker.pk}）",
    )
    return training


@transaction.atomic
def worker_update(
    *,
    user: User,
    worker_id: int,
    phone: str,
    appointed_on: dt.date | None,
    note: str = "",
) -> Worker:
    """Change a worker's phone, appointment date and note (county staff of the county)."""
    worker = access_worker_to_edit(user=user, worker_id=worker_id)
    phone = "".join(phone.split())
    if phone:
        PHONE_VALIDATOR(phone)
    if appointed_on is not None:
        _check_date(appointed_on, "任职日期")
    profile, _ = Worker.objects.select_for_update().get_or_create(user=worker)
    changed = [
        label
        for label, old, new in (
            ("手机号码", profile.phone, phone),
            ("任职日期", profile.appointed_on, appointed_on),
            ("备注", profile.note, note.strip()[:200]),
        )
        if old != new
    ]
    profile.phone = phone
    profile.appointed_on = appointed_on
    profile.note = note.strip()[:200]
    profile.save()
    if changed:
        audit_record(
            actor=user,
            action=Action.UPDATE,
            object_type="roster_worker",
            object_ids=[str(worker.pk)],
            detail=f"修改{'、'.join(changed)}",
        )
    return profile


def phones_shown(*, user: User, worker_ids: Iterable[int], where: str) -> None:
    """Record that full phone numbers of these workers were shown to the user (nothing is
    written when none were)."""
    ids = [str(worker_id) for worker_id in worker_ids]
    if ids:
        audit_record(
            actor=user,
            action=Action.VIEW,
            object_type="roster_phone",
            object_ids=ids,
            detail=f"查看儿童主任/督导员手机号码（{where}）",
        )


def _worker_cells(worker: WorkerRow) -> tuple[object, ...]:
    return (
        worker.name,
        worker.phone,
        worker.appointed_on,
        worker.training_hours,
        worker.last_training,
    )


def roster_export(*, user: User, today: dt.date, reason: str, only: str = "") -> bytes:
    """The roster as an XLSX workbook (one row per worker, and one per village without a
    director); phones as the user may see them. Audited as an export."""
    roster = roster_for(user=user, today=today, only=only)
    rows: list[tuple[object, ...]] = []
    for town in roster.towns:
        place = (town.county_name, town.name)
        for supervisor in town.supervisors:
            rows.append((*place, "", "", "儿童督导员", *_worker_cells(supervisor), *[""] * 5))
        for village in town.villages:
            counts = (
                village.children,
                village.left_behind_or_difficulty,
                village.key_care,
                village.max_per_director,
                "、".join(village.flags),
            )
            where = (*place, village.code, village.name, "儿童主任")
            if village.vacant:
                rows.append((*where, "", "", None, None, None, *counts))
            for director in village.directors:
                rows.append((*where, *_worker_cells(director), *counts))
    content = xlsx_bytes([("儿童主任台账", EXPORT_HEADER, rows)])
    detail = "导出儿童主任/督导员台账"
    if phones_visible(user):
        detail += "（含完整手机号码）"
    export_reason_record(
        user=user,
        object_type="roster",
        reason=reason,
        object_ids=[str(worker.user_id) for worker in roster.workers if worker.phone_full],
        detail=detail,
    )
    return content
