"""Reading and correcting the ledger: every opening, listing and change is audited here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from tonghu.accounts.roles import Capability
from tonghu.accounts.scope import require
from tonghu.audit.models import Action
from tonghu.audit.services import audit_record
from tonghu.children.models import (
    CORRECTABLE,
    DATE_FIELDS,
    Child,
    ChildChange,
    Correction,
    Sex,
    value_of,
    value_text,
)
from tonghu.children.national import HEADER, national_rows
from tonghu.children.selectors import (
    FILTER_LABELS,
    ChildFilter,
    access_child,
    children_filtered,
    children_for,
)
from tonghu.divisions.codes import is_code
from tonghu.pipeline.sources import STAGES
from tonghu.policy.dates import age_at
from tonghu.policy.rules import eligible_codes
from tonghu.privacy.services import (
    emergency_child,
    export_personal_check,
    export_reason_record,
)
from tonghu.services.lists import profile_in_force
from tonghu.web.exports import xlsx_bytes

if TYPE_CHECKING:
    from tonghu.accounts.models import User

PAGE_SIZE = 50


class FileChangedError(ValidationError):
    """The file was saved by someone else since the form was shown (optimistic locking)."""


def child_open(*, user: User, child_id: str, allow_emergency: bool = False) -> Child:
    """A child through the scope gate, or (for the file page) through the user's active
    break-the-glass grant; audited either way, the latter flagged as such."""
    try:
        child = access_child(user=user, child_id=child_id)
        detail = ""
    except Http404:
        if not allow_emergency:
            raise
        child = emergency_child(user=user, child_id=child_id)
        detail = "紧急查阅（辖区外）"
    audit_record(
        actor=user,
        action=Action.VIEW,
        object_type="child",
        object_ids=[child.child_id],
        child_ids=[child.child_id],
        detail=detail,
    )
    return child


def children_page(
    *, user: User, where: ChildFilter | None = None, page_number: int = 1
) -> Page[Child]:
    """One page of the user's children by the filters; the children shown are audited."""
    require(user, Capability.VIEW_CHILDREN)
    where = where or ChildFilter()
    children = children_filtered(user=user, where=where, as_of=timezone.localdate())
    page = Paginator(children, PAGE_SIZE).get_page(page_number)
    shown = [child.child_id for child in page.object_list]
    filters = [FILTER_LABELS[name] for name, value in vars(where).items() if value]
    audit_record(
        actor=user,
        action=Action.SEARCH,
        object_type="child",
        child_ids=shown,
        detail=f"按{'、'.join(filters)}查询" if filters else "浏览列表",
    )
    return page


@transaction.atomic
def child_correct(
    *, user: User, child_id: str, field: str, value: str, reason: str, version: int
) -> Correction:
    """Correct one value of a child's file with a reason; the correction is kept over later
    rounds unless new data contradicts it (then a 核实 task is raised). ``version`` is the
    file's version the user saw: if it has changed since, nothing is saved."""
    require(user, Capability.EDIT_CHILDREN)
    child = access_child(user=user, child_id=child_id)
    child = Child.objects.select_for_update().get(pk=child.pk)
    if child.version != version:
        raise FileChangedError(
            "该档案在您打开后已被他人或新一轮摸排更新，本次更正未保存。"
            "请核对页面上的最新内容后重新提交。"
        )
    if field not in CORRECTABLE:
        raise ValidationError(f"不能更正此项目：{field}")
    value, reason = value.strip(), reason.strip()
    if not reason:
        raise ValidationError("请填写更正理由。")
    typed = _typed(field, value)
    old = getattr(child, field)
    old_text = value_text(old)
    if old_text == value:
        raise ValidationError(f"{CORRECTABLE[field]}已经是“{value}”，无需更正。")
    child.version += 1
    child.save(update_fields=[*child_set_value(child=child, field=field, value=typed), "version"])
    child.corrections.filter(field=field).exclude(status=Correction.Status.RETIRED).update(
        status=Correction.Status.RETIRED
    )
    correction = Correction.objects.create(
        child=child, field=field, value=value, replaced_value=old_text, reason=reason,
        corrected_by=user,
    )  # fmt: skip
    ChildChange.objects.create(
        child=child,
        kind=ChildChange.Kind.CORRECTED,
        field=field,
        old_value=old_text,
        new_value=value,
        why=f"{user.get_full_name() or user.username}更正：{reason}",
    )
    audit_record(
        actor=user,
        action=Action.UPDATE,
        object_type="child",
        object_ids=[child.child_id],
        child_ids=[child.child_id],
        detail=f"更正{CORRECTABLE[field]}",
    )
    return correction


def _typed(field: str, value: str) -> object:
    if not value:
        raise ValidationError("请填写正确的值。")
    if field in DATE_FIELDS:
        try:
            return value_of(field, value)
        except ValueError:
            raise ValidationError("日期应写成 YYYY-MM-DD，如 2015-03-02。") from None
    if field == "sex" and value not in {Sex.MALE, Sex.FEMALE}:
        raise ValidationError("性别只能是“男”或“女”。")
    if field == "stage" and value not in STAGES:
        raise ValidationError(f"学段只能是{'、'.join(STAGES)}之一。")
    if field == "hukou_code" and not is_code(value):
        raise ValidationError("户籍地代码应为12位数字。")
    return value


def children_national_export(*, user: User, reason: str) -> bytes:
    """The XLSX for the national child-welfare information system: the children present in
    the user's county, one row each; the export, its reason and every child in it are
    audited."""
    require(user, Capability.MANAGE_ROUNDS)
    export_personal_check(user)
    children = children_for(user=user).filter(present=True)
    workbook = xlsx_bytes([("儿童信息", HEADER, national_rows(children))])
    export_reason_record(
        user=user,
        object_type="child",
        reason=reason,
        child_ids=children.values_list("child_id", flat=True),
        detail="导出全国儿童福利信息系统录入表",
    )
    return workbook


def child_set_value(*, child: Child, field: str, value: object) -> list[str]:
    """Set one correctable value and what derives from it (the hukou province; the services
    a migrant's age or stage decides); returns the fields to save."""
    setattr(child, field, value)
    changed = [field]
    if field == "hukou_code":
        child.hukou_province = child.hukou_code[:2]
        changed.append("hukou_province")
    if field in {"birth_date", "stage"} and child.is_migrant:
        child.services = _services_now(child)
        changed.append("services")
    return changed


def _services_now(child: Child) -> list[str]:
    """A corrected age or stage changes the services at once (referrals follow next round)."""
    today = timezone.localdate()
    profile = profile_in_force(county_code=child.residence_division_id[:6], day=today)
    facts = {
        "age": age_at(child.birth_date, today) if child.birth_date else None,
        "stage": child.stage or None,
        "difficulty": child.difficulty,
        "key_care": child.key_care,
        "flags": child.flags,
    }
    return eligible_codes(profile.services.items, facts)
