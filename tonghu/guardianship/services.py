"""Recording assessments, care agreements and parent contacts; every opening and change is
audited here, and 监护缺失 / an unfit carer raise tasks and in-app reminders.

Reminder texts name children by their child_id only, never by name or ID number.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.paginator import Page
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from tonghu.accounts.models import User
from tonghu.accounts.roles import Capability, Role
from tonghu.accounts.scope import require
from tonghu.alerts.services import alerts_from_assessment
from tonghu.audit.models import Action
from tonghu.audit.services import audit_record, audited_page
from tonghu.children.models import Child
from tonghu.children.selectors import access_child
from tonghu.guardianship.models import (
    Assessment,
    CareAgreement,
    InterventionTask,
    ParentContact,
)
from tonghu.guardianship.scoring import assess
from tonghu.guardianship.selectors import agreement_of, intervention_tasks_for
from tonghu.notifications.models import Notification
from tonghu.notifications.services import Reminder, notify
from tonghu.policy.profile import GUARDIANSHIP_GRADES
from tonghu.services.lists import profile_in_force
from tonghu.web.attachments import (
    CONTENT_TYPES,
    attachment_check,
    attachment_path,
    attachment_store,
    files_dir,
)

if TYPE_CHECKING:
    from tonghu.policy.profile import Profile

TASKS_PAGE_SIZE = 50
MISSING = GUARDIANSHIP_GRADES[0]  # 监护缺失: the grade that opens an intervention task


CARE_FILES = "care_files"


def care_files_dir() -> Path:
    """Where scanned agreements are kept: outside the web root, read at call time."""
    return files_dir(CARE_FILES)


def county_of(child: Child) -> str:
    return f"{child.residence_division_id[:6]}000000"


def town_of(child: Child) -> str:
    return f"{child.residence_division_id[:9]}000"


def profile_for_child(*, child: Child, day: dt.date) -> Profile:
    return profile_in_force(county_code=child.residence_division_id[:6], day=day)


def guardianship_open(*, user: User, child_id: str) -> Child:
    """A child's guardianship page (grades, agreements, contacts) is opened: audited."""
    child = access_child(user=user, child_id=child_id)
    audit_record(
        actor=user,
        action=Action.VIEW,
        object_type="guardianship",
        object_ids=[child.child_id],
        child_ids=[child.child_id],
        detail="查看监护评估与委托照护",
    )
    return child


def _editable_child(*, user: User, child_id: str) -> Child:
    require(user, Capability.EDIT_CHILDREN)
    child = access_child(user=user, child_id=child_id)
    return Child.objects.select_for_update().get(pk=child.pk)


def _not_future(day: dt.date, label: str) -> None:
    if day > timezone.localdate():
        raise ValidationError(f"{label}不能晚于今天。")


@transaction.atomic
def assessment_record(
    *,
    user: User,
    child_id: str,
    answers: Mapping[str, str],
    assessed_on: dt.date,
    note: str = "",
) -> Assessment:
    """Score and keep a new assessment (earlier ones stay as history). 监护缺失 opens an
    intervention task for the county's civil affairs (unless one is open already) and
    reminds its staff."""
    child = _editable_child(user=user, child_id=child_id)
    _not_future(assessed_on, "评估日期")
    profile = profile_for_child(child=child, day=assessed_on)
    try:
        result = assess(profile.assessment, answers)
    except ValueError as error:
        raise ValidationError(str(error)) from None
    assessment = Assessment.objects.create(
        child=child,
        assessed_on=assessed_on,
        assessed_by=user,
        answers=dict(answers),
        score=result.score,
        grade=result.grade,
        colour=result.colour,
        note=note.strip(),
        profile_key=profile.key,
    )
    audit_record(
        actor=user,
        action=Action.CREATE,
        object_type="guardianship_assessment",
        object_ids=[str(assessment.pk)],
        child_ids=[child.child_id],
        detail=f"家庭监护能力评估：{result.grade}（{result.score}分）",
    )
    if result.grade == MISSING:
        _intervention_open(child=child, assessment=assessment)
    alerts_from_assessment(assessment=assessment, actor=user)
    return assessment


def _intervention_open(*, child: Child, assessment: Assessment) -> InterventionTask:
    task = child.intervention_tasks.filter(status=InterventionTask.Status.OPEN).first()
    if task is None:
        task = InterventionTask.objects.create(child=child, assessment=assessment)
    url = reverse("guardianship:tasks")
    text = f"儿童 {child.child_id} 经家庭监护能力评估为监护缺失，请区县民政部门及时介入处置。"
    notify(
        reminders=[
            Reminder(
                user=staff,
                kind=Notification.Kind.GUARDIANSHIP,
                text=text,
                url=url,
                key=f"guardianship-missing-{assessment.pk}",
            )
            for staff in _users(places=[(Role.COUNTY_STAFF, county_of(child))])
        ]
    )
    return task


def _users(*, places: Iterable[tuple[Role, str]]) -> list[User]:
    """The active users holding each role at each division code."""
    where = Q(pk__in=[])
    for role, division in places:
        where |= Q(role=role, division_id=division)
    return list(User.objects.filter(where, is_active=True).order_by("pk"))


def intervention_tasks_page(*, user: User, page_number: int = 1) -> Page[InterventionTask]:
    """One page of the open intervention tasks of the user's county; the children listed are
    audited."""
    tasks = intervention_tasks_for(user=user).filter(status=InterventionTask.Status.OPEN)
    return audited_page(
        tasks.order_by("-created_at", "-id"),
        user=user,
        page_number=page_number,
        page_size=TASKS_PAGE_SIZE,
        object_type="intervention_task",
        detail="浏览监护缺失干预任务",
        child_of=lambda task: task.child.child_id,
    )


@transaction.atomic
def intervention_handle(*, user: User, task_id: int, note: str) -> InterventionTask:
    """County staff mark an open task handled, saying what was done."""
    task = intervention_tasks_for(user=user).filter(pk=task_id).first()
    if task is None:
        raise Http404("未找到该记录，或您无权查看。")
    task = InterventionTask.objects.select_for_update().select_related("child").get(pk=task.pk)
    note = note.strip()
    if task.status == InterventionTask.Status.HANDLED:
        raise ValidationError("该任务已处置。")
    if not note:
        raise ValidationError("请填写处置情况。")
    task.status = InterventionTask.Status.HANDLED
    task.handled_by = user
    task.handled_at = timezone.now()
    task.note = note
    task.save(update_fields=["status", "handled_by", "handled_at", "note"])
    audit_record(
        actor=user,
        action=Action.UPDATE,
        object_type="intervention_task",
        object_ids=[str(task.pk)],
        child_ids=[task.child.child_id],
        detail="监护缺失干预任务已处置",
    )
    return task


@transaction.atomic
def agreement_record(
    *,
    user: User,
    child_id: str,
    carer_name: str,
    relationship: str,
    starts_on: dt.date,
    phone: str = "",
    ends_on: dt.date | None = None,
    upload: UploadedFile[bytes] | None = None,
) -> CareAgreement:
    """Keep a 委托照护 agreement; the scan (if any) is checked before anything is saved."""
    child = _editable_child(user=user, child_id=child_id)
    carer_name, relationship, phone = carer_name.strip(), relationship.strip(), phone.strip()
    if not carer_name:
        raise ValidationError({"carer_name": "请填写被委托照护人姓名。"})
    if not relationship:
        raise ValidationError({"relationship": "请填写被委托照护人与儿童的关系。"})
    if ends_on is not None and ends_on < starts_on:
        raise ValidationError({"ends_on": "委托截止日期不能早于起始日期。"})
    file_type = attachment_check(upload, what="协议扫描件") if upload is not None else ""
    relative = (
        attachment_store(
            folder=CARE_FILES,
            county_code=child.residence_division_id[:6],
            upload=upload,
            file_type=file_type,
        )
        if upload
        else ""
    )
    try:
        agreement = CareAgreement.objects.create(
            child=child,
            carer_name=carer_name,
            relationship=relationship,
            phone=phone,
            starts_on=starts_on,
            ends_on=ends_on,
            file_path=relative,
            file_type=file_type,
            file_size=(upload.size or 0) if upload else 0,
            recorded_by=user,
        )
        audit_record(
            actor=user,
            action=Action.CREATE,
            object_type="care_agreement",
            object_ids=[str(agreement.pk)],
            child_ids=[child.child_id],
            detail="登记委托照护协议" + ("（含扫描件）" if relative else ""),
        )
    except BaseException:
        if relative:
            (care_files_dir() / relative).unlink(missing_ok=True)
        raise
    return agreement


@transaction.atomic
def agreement_judge_unfit(
    *, user: User, child_id: str, agreement_id: int, reason: str
) -> CareAgreement:
    """The carer lacks the ability to care or neglects the duty: recorded with the reason, and
    the county's civil affairs staff and the town's supervisors are alerted, so that the
    parents are told to choose another carer (桐乡：告知儿童父母重新选择被委托照护人)."""
    child = _editable_child(user=user, child_id=child_id)
    agreement = agreement_of(child=child, agreement_id=agreement_id)
    if agreement is None:
        raise Http404("未找到该记录，或您无权查看。")
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "请填写判定被委托照护人不适当的原因。"})
    if not agreement.fit:
        raise ValidationError("该被委托照护人已被判定为不适当。")
    agreement.fit = False
    agreement.unfit_reason = reason
    agreement.judged_by = user
    agreement.judged_at = timezone.now()
    agreement.save(update_fields=["fit", "unfit_reason", "judged_by", "judged_at"])
    audit_record(
        actor=user,
        action=Action.UPDATE,
        object_type="care_agreement",
        object_ids=[str(agreement.pk)],
        child_ids=[child.child_id],
        detail="判定被委托照护人不适当",
    )
    text = (
        f"儿童 {child.child_id} 的被委托照护人缺乏照护能力或怠于履行照护职责，"
        "请告知儿童父母并督促其重新选择被委托照护人。"
    )
    url = reverse("guardianship:child", args=[child.child_id])
    recipients = _users(
        places=[(Role.COUNTY_STAFF, county_of(child)), (Role.SUPERVISOR, town_of(child))]
    )
    notify(
        reminders=[
            Reminder(
                user=recipient,
                kind=Notification.Kind.CARER_UNFIT,
                text=text,
                url=url,
                key=f"carer-unfit-{agreement.pk}",
            )
            for recipient in recipients
        ]
    )
    return agreement


def agreement_file_open(*, user: User, child_id: str, agreement_id: int) -> tuple[Path, str]:
    """The scanned agreement's path and content type, through the scope gate; audited."""
    child = access_child(user=user, child_id=child_id)
    agreement = agreement_of(child=child, agreement_id=agreement_id)
    if agreement is None or not agreement.file_path:
        raise Http404("未找到该记录，或您无权查看。")
    path = attachment_path(folder=CARE_FILES, relative=agreement.file_path)
    audit_record(
        actor=user,
        action=Action.EXPORT,
        object_type="care_agreement",
        object_ids=[str(agreement.pk)],
        child_ids=[child.child_id],
        detail="下载委托照护协议扫描件",
    )
    return path, CONTENT_TYPES[agreement.file_type]


@transaction.atomic
def contact_record(
    *,
    user: User,
    child_id: str,
    contacted_on: dt.date,
    who: str,
    channel: str,
    note: str = "",
) -> ParentContact:
    """Log one contact of the parents working away with their left-behind child."""
    child = _editable_child(user=user, child_id=child_id)
    if not child.is_left_behind:
        raise ValidationError("该儿童不是留守儿童，无需登记亲子联系。")
    _not_future(contacted_on, "联系日期")
    if who not in ParentContact.Who.values:
        raise ValidationError({"who": "请选择与儿童联系的是父亲、母亲还是父母。"})
    if channel not in ParentContact.Channel.values:
        raise ValidationError({"channel": "请选择联系方式。"})
    contact = ParentContact.objects.create(
        child=child,
        contacted_on=contacted_on,
        who=who,
        channel=channel,
        note=note.strip()[:200],
        recorded_by=user,
    )
    audit_record(
        actor=user,
        action=Action.CREATE,
        object_type="parent_contact",
        object_ids=[str(contact.pk)],
        child_ids=[child.child_id],
        detail="登记亲子联系",
    )
    return contact
