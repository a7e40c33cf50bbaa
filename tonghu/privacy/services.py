"""Privacy actions: revealing a masked value, break-the-glass access and its review, and the
stated reason an export of personal data needs. Each writes its audit entry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404

from tonghu import clock
from tonghu.accounts.roles import Capability
from tonghu.audit.models import Action
from tonghu.audit.services import audit_record
from tonghu.children.models import Child
from tonghu.privacy.crypto import blind_index
from tonghu.privacy.models import EmergencyAccess
from tonghu.services.lists import profile_for

if TYPE_CHECKING:
    from tonghu.accounts.models import User

REASON_MIN_CHARS = 4
REASON_MAX_CHARS = 200


def may_reveal(user: User) -> bool:
    """Whether the user's role may see full ID numbers and phones (profile privacy)."""
    return user.is_active and user.role in profile_for(user).privacy.reveal_roles


def may_export_personal(user: User) -> bool:
    return user.is_active and user.role in profile_for(user).privacy.export_roles


def may_break_glass(user: User) -> bool:
    return (
        user.can(Capability.VIEW_CHILDREN)
        and user.role in profile_for(user).privacy.break_glass_roles
    )


def stated_reason(reason: str, *, what: str) -> str:
    """A reason as typed, refused when empty or too short to say anything."""
    text = " ".join(reason.split())
    if len(text) < REASON_MIN_CHARS:
        raise ValidationError(f"请填写{what}事由（至少 {REASON_MIN_CHARS} 个字）。")
    return text[:REASON_MAX_CHARS]


def child_reveal(*, user: User, child: Child) -> None:
    """Record that the user saw the child's full ID numbers and phones (the caller has
    already opened the child through its gate)."""
    if not may_reveal(user):
        raise PermissionDenied("您的角色只能查看脱敏后的身份证号和电话。")
    audit_record(
        actor=user,
        action=Action.VIEW,
        object_type="child_sensitive",
        object_ids=[child.child_id],
        child_ids=[child.child_id],
        detail="查看完整身份证号和电话",
    )


def export_personal_check(user: User) -> None:
    """Children's personal data leaves the system only through the profile's export roles."""
    if not may_export_personal(user):
        raise PermissionDenied("您的角色无权导出含儿童个人信息的名单。")


def export_reason_record(
    *,
    user: User,
    object_type: str,
    reason: str,
    detail: str,
    object_ids: Iterable[str] = (),
    child_ids: Iterable[str] = (),
) -> None:
    """An export of personal data: refused without a stated reason, which goes into the
    audit entry with what was exported (the caller has checked the right to export)."""
    why = stated_reason(reason, what="导出")
    audit_record(
        actor=user,
        action=Action.EXPORT,
        object_type=object_type,
        object_ids=object_ids,
        child_ids=child_ids,
        detail=f"{detail}；事由：{why}",
    )


@transaction.atomic
def emergency_access_open(*, user: User, id_number: str, reason: str) -> EmergencyAccess:
    """Open a child outside the user's jurisdiction for ``privacy.break_glass_hours``, found
    by the ID number (an exact match through the blind index, never a partial search)."""
    if not may_break_glass(user):
        raise PermissionDenied("您的角色不能紧急查阅辖区外的儿童档案。")
    why = stated_reason(reason, what="紧急查阅")
    digest = blind_index(id_number)
    child = Child.objects.filter(id_number_index=digest).first() if digest else None
    if child is None:
        raise ValidationError("未找到该身份证号对应的儿童。请核对号码（18位）。")
    hours = profile_for(user).privacy.break_glass_hours
    now = clock.now()
    grant = EmergencyAccess.objects.create(
        user=user,
        child=child,
        reason=why,
        opened_at=now,
        expires_at=now + dt.timedelta(hours=hours),
    )
    audit_record(
        actor=user,
        action=Action.VIEW,
        object_type="emergency_access",
        object_ids=[str(grant.pk)],
        child_ids=[child.child_id],
        detail=f"紧急查阅辖区外儿童档案，有效 {hours} 小时，待审计员复核",
    )
    return grant


def emergency_child(*, user: User, child_id: str) -> Child:
    """The child under an active grant of the user, or 404 like any child out of reach."""
    grant = (
        EmergencyAccess.objects.active()
        .filter(user=user, child__child_id=child_id, user__is_active=True)
        .select_related("child", "child__last_round", "child__residence_division")
        .first()
    )
    if grant is None:
        raise Http404("未找到该记录，或您无权查看。")
    return grant.child


@transaction.atomic
def emergency_access_review(*, grant: EmergencyAccess, auditor: User, note: str) -> None:
    if not auditor.can(Capability.VIEW_AUDIT):
        raise PermissionDenied("只有审计员可以复核紧急查阅。")
    if grant.reviewed_at is not None:
        raise ValidationError("该紧急查阅已复核。")
    grant.reviewed_by = auditor
    grant.reviewed_at = clock.now()
    grant.review_note = stated_reason(note, what="复核意见") if note.strip() else "已复核"
    grant.save(update_fields=["reviewed_by", "reviewed_at", "review_note"])
    audit_record(
        actor=auditor,
        action=Action.UPDATE,
        object_type="emergency_access",
        object_ids=[str(grant.pk)],
        child_ids=[grant.child.child_id],
        detail="复核紧急查阅",
    )
