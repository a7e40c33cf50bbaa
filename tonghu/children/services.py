"""Reading the ledger: every opening and listing of children's data is audited here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.paginator import Page, Paginator

from tonghu.accounts.roles import Capability
from tonghu.accounts.scope import require
from tonghu.audit.models import Action
from tonghu.audit.services import audit_record
from tonghu.children.models import Child
from tonghu.children.selectors import access_child, children_for

if TYPE_CHECKING:
    from tonghu.accounts.models import User

PAGE_SIZE = 50


def child_open(*, user: User, child_id: str) -> Child:
    child = access_child(user=user, child_id=child_id)
    audit_record(
        actor=user,
        action=Action.VIEW,
        object_type="child",
        object_ids=[child.child_id],
        child_ids=[child.child_id],
    )
    return child


def children_page(*, user: User, name: str = "", page_number: int = 1) -> Page[Child]:
    """One page of the user's children, optionally by name; the children shown are audited."""
    require(user, Capability.VIEW_CHILDREN)
    children = children_for(user=user)
    if name:
        children = children.filter(name__contains=name)
    page = Paginator(children, PAGE_SIZE).get_page(page_number)
    shown = [child.child_id for child in page.object_list]
    audit_record(
        actor=user,
        action=Action.SEARCH,
        object_type="child",
        child_ids=shown,
        detail="按姓名查询" if name else "浏览列表",
    )
    return page
