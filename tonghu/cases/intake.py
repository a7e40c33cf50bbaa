"""Filing 强制报告 (a case opened, or the child's open one joined), opening a case from a
预警, linking the ledger child (merging into its open case) and the case's files."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from tonghu import clock
from tonghu.accounts.models import User
from tonghu.accounts.roles import Capability
from tonghu.accounts.scope import require, within
from tonghu.audit.models import Action
from tonghu.audit.services import audit_record
from tonghu.cases.machine import (
    Actor,
    State,
)
from tonghu.cases.models import (
    SITUATION_LABELS,
    Case,
    CaseEvent,
    CaseFile,
    Report,
    Source,
)
from tonghu.cases.selectors import access_case, file_of
from tonghu.cases.services import (
    actor_of,
    case_audit,
    case_enter,
    case_event,
    case_locked,
    case_new,
    case_notify,
    case_save,
    cases_policy,
    numbered,
    open_case_of,
    people_at,
    placeholder_number,
    tell_next,
)
from tonghu.children.models import Child
from tonghu.children.selectors import access_child
from tonghu.divisions.codes import Level, prefix
from tonghu.divisions.models import Division
from tonghu.notifications.models import Notification
from tonghu.privacy.crypto import blind_index
from tonghu.stats.models import Measure
from tonghu.stats.services import figure_add
from tonghu.web.attachments import attachment_check, attachment_path, attachment_store

CASE_FILES = "case_files"


@dataclass(frozen=True)
class ReportInput:
    """What a reporter states; ``child`` is a ledger child picked by staff (already gated)."""

    reporter_kind: str
    organisation: str
    situations: Sequence[str]
    place: Division
    place_detail: str
    occurred_at: dt.datetime
    observed: str
    child_name: str = ""
    child_sex: str = ""
    child_age: int | None = None
    child_id_number: str = ""
    child: Child | None = None


# --- filing -------------------------------------------------------------------------


@transaction.atomic
def report_file(
    *, user: User, report: ReportInput, files: Sequence[UploadedFile[bytes]] = ()
) -> Report:
    """File a 强制报告: it opens a case, or joins the child's open one; returns it with its
    receipt number. The police and the county's civil affairs are told at once."""
    require(user, Capability.FILE_REPORTS)
    checked = [(upload, attachment_check(upload, what="证据材料")) for upload in files]
    now = clock.now()
    child = report.child or _ledger_child(report)
    case = open_case_of(child)
    joined = case is not None
    if case is None:
        case = case_new(place=report.place, child=child, situations=report.situations, now=now)
    filed = Report.objects.create(
        receipt_no=placeholder_number(),
        case=case,
        reporter=user,
        reporter_kind=report.reporter_kind,
        organisation=report.organisation,
        situations=list(report.situations),
        place=report.place,
        place_detail=report.place_detail,
        occurred_at=report.occurred_at,
        observed=report.observed,
        child=child,
        child_name=report.child_name,
        child_sex=report.child_sex,
        child_age=report.child_age,
        child_id_number=report.child_id_number,
        reported_at=now,
    )
    filed.receipt_no = numbered("BG", report.place.code[:6], clock.today(), filed.pk)
    filed.save(update_fields=["receipt_no"])
    for upload, file_type in checked:
        file_store(case=case, report=filed, user=user, upload=upload, file_type=file_type)
    labels = "、".join(SITUATION_LABELS[code] for code in report.situations)
    if joined:
        case.situations = list(dict.fromkeys([*case.situations, *report.situations]))
        case_save(case)
        case_event(
            case=case,
            kind=CaseEvent.Kind.REPORT_JOINED,
            by=user,
            text=f"新报告 {filed.receipt_no} 并入本案（{labels}）",
        )
        case_notify(
            case,
            people_at(case, [Actor.COUNTY_STAFF, Actor.SUPERVISOR]),
            kind=Notification.Kind.CASE_NEW,
            text=f"案件 {case.number} 收到新的强制报告 {filed.receipt_no}，请查看。",
        )
    else:
        case_event(
            case=case,
            kind=CaseEvent.Kind.OPENED,
            by=user,
            text=f"收到强制报告 {filed.receipt_no}（{labels}），立案",
            to_state=State.REPORTED,
        )
        limit = cases_policy(case).limit(State.REPORTED).label
        case_notify(
            case,
            people_at(case, [Actor.POLICE, Actor.COUNTY_STAFF]),
            kind=Notification.Kind.CASE_NEW,
            text=f"新强制报告：案件 {case.number}（{labels}），须在{limit}内受理出警。",
        )
    audit_record(
        actor=user,
        action=Action.CREATE,
        object_type="report",
        object_ids=[filed.receipt_no, case.number],
        child_ids=[child.child_id] if child else [],
        detail="提交强制报告" + ("（并入未结案件）" if joined else ""),
    )
    return filed


def _ledger_child(report: ReportInput) -> Child | None:
    """The ledger child with the reported ID number in the place's county, if any. The
    reporter is never told whether one was found."""
    number = report.child_id_number.strip().upper()
    if not number:
        return None
    county = prefix(report.place.code, Level.COUNTY)
    return (
        Child.objects.filter(
            within("residence_division_id", county), id_number_index=blind_index(number)
        )
        .order_by("child_id")
        .first()
    )


# --- files --------------------------------------------------------------------------


def file_store(
    *,
    case: Case,
    user: User,
    upload: UploadedFile[bytes],
    file_type: str,
    report: Report | None = None,
    description: str = "",
) -> CaseFile:
    relative = attachment_store(
        folder=CASE_FILES, county_code=case.county_id[:6], upload=upload, file_type=file_type
    )
    return CaseFile.objects.create(
        case=case,
        report=report,
        description=description or (f"报告 {report.receipt_no} 的证据" if report else ""),
        file_path=relative,
        file_type=file_type,
        file_size=upload.size or 0,
        uploaded_by=user,
        uploaded_at=clock.now(),
    )


# --- cases from warnings -------------------------------------------------------------


@transaction.atomic
def case_open_for_child(
    *, user: User, child: Child, situations: Sequence[str], police_needed: bool, note: str
) -> Case:
    """Open a case for a ledger child from a 预警 (the Guangzhou loop's 介入): with the police
    when the child may be in danger (the case starts at 已报告), otherwise straight at the
    town's assessment. A child with an open case gets that case back, with the note on it."""
    require(user, Capability.HANDLE_ALERTS)
    labels = "、".join(SITUATION_LABELS[code] for code in situations)
    existing = open_case_of(child)
    if existing is not None:
        existing.situations = list(dict.fromkeys([*existing.situations, *situations]))
        case_save(existing)
        case_event(
            case=existing,
            kind=CaseEvent.Kind.REPORT_JOINED,
            by=user,
            text=f"预警并入（{labels}）：{note}",
        )
        case_audit(user, existing, Action.UPDATE, "预警并入未结案件")
        return existing
    state = State.REPORTED if police_needed else State.TOWN_NOTIFIED
    place = Division.objects.get(code=child.residence_division_id)
    case = case_new(
        place=place,
        child=child,
        situations=situations,
        now=clock.now(),
        state=state,
        source=Source.ALERT,
    )
    case_event(
        case=case,
        kind=CaseEvent.Kind.OPENED,
        by=user,
        text=f"预警转案件（{labels}）：{note}",
        to_state=state,
    )
    case_audit(user, case, Action.CREATE, "预警转案件")
    tell_next(case, user=user)
    return case


@transaction.atomic
def case_file_add(
    *, user: User, number: str, upload: UploadedFile[bytes], description: str
) -> CaseFile:
    """Add evidence or a document to a case the user may open (stored outside the web root)."""
    case = case_locked(user=user, number=number)
    if actor_of(user) is None:
        raise ValidationError("您的角色不能为案件上传材料。")
    file_type = attachment_check(upload, what="案件材料")
    kept = file_store(
        case=case, user=user, upload=upload, file_type=file_type, description=description
    )
    case_event(case=case, kind=CaseEvent.Kind.FILE_ADDED, by=user, text=f"上传材料：{description}")
    case_audit(user, case, Action.CREATE, f"上传案件材料 {kept.pk}")
    return kept


def case_file_open(*, user: User, number: str, file_id: int) -> tuple[Path, CaseFile]:
    """A case file's path, through the case's scope gate; every opening is audited."""
    case = access_case(user=user, number=number)
    kept = file_of(case=case, file_id=file_id)
    path = attachment_path(folder=CASE_FILES, relative=kept.file_path)
    case_audit(user, case, Action.EXPORT, f"查看案件材料 {kept.pk}")
    return path, kept


# --- the child -------------------------------------------------------------------------


@transaction.atomic
def case_link_child(*, user: User, number: str, child_id: str) -> Case:
    """Tie the case to the ledger child it is about. If the child already has an open case,
    this one joins it (reports, files and history move there) and the joined case is
    returned; the case then sits in the child's village."""
    case = case_locked(user=user, number=number)
    if actor_of(user) not in (Actor.SUPERVISOR, Actor.COUNTY_STAFF):
        raise ValidationError("关联台账儿童须由儿童督导员或区县民政办理。")
    if not case.is_open:
        raise ValidationError("案件已结案，不能再关联儿童。")
    try:
        child = access_child(user=user, child_id=child_id.strip())
    except Http404 as missing:
        raise ValidationError("未在您辖区的台账中找到该儿童编号，请核对。") from missing
    if case.child_id == child.pk:
        raise ValidationError("本案已关联该儿童。")
    if case.child_id is not None:
        raise ValidationError("本案已关联其他儿童；如关联有误，请联系区县民政处理。")
    other = open_case_of(child)
    if other is not None and other.pk != case.pk:
        return _merge(case, into=other, user=user)
    case.child = child
    case.division_id = child.residence_division_id
    case_save(case)
    case_event(
        case=case, kind=CaseEvent.Kind.CHILD_LINKED, by=user, text=f"关联台账儿童 {child.child_id}"
    )
    case_audit(user, case, Action.UPDATE, "关联台账儿童")
    return case


def _merge(case: Case, *, into: Case, user: User) -> Case:
    Report.objects.filter(case=case).update(case=into)
    CaseFile.objects.filter(case=case).update(case=into)
    into.situations = list(dict.fromkeys([*into.situations, *case.situations]))
    case_save(into)
    case.merged_into = into
    # A merged case was never a case of its own: it no longer counts as opened.
    opened_on = timezone.localdate(case.opened_at)
    figure_add(division_code=case.division_id, measure=Measure.CASE_OPENED, on=opened_on, by=-1)
    case_enter(case, State.CLOSED, now=clock.now())
    case_save(case)
    case_event(case=into, kind=CaseEvent.Kind.MERGED, by=user, text=f"案件 {case.number} 并入本案")
    case_event(case=case, kind=CaseEvent.Kind.MERGED, by=user, text=f"并入案件 {into.number}")
    case_audit(user, into, Action.UPDATE, f"案件 {case.number} 并入本案")
    return into
