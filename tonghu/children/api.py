from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Router, Schema

from tonghu.accounts.api import Text, answers
from tonghu.accounts.utils import acting_user
from tonghu.children.models import Child
from tonghu.children.selectors import ChildFilter
from tonghu.children.services import child_open, children_page

router = Router(tags=["儿童台账"])


class ChildOut(Schema):
    child_id: str
    name: str
    sex: str
    birth_date: dt.date | None
    residence_code: str

    @staticmethod
    def of(child: Child) -> ChildOut:
        return ChildOut(
            child_id=child.child_id,
            name=child.name,
            sex=child.sex,
            birth_date=child.birth_date,
            residence_code=child.residence_division_id,
        )


class ChildPageOut(Schema):
    count: int
    page: int
    pages: int
    items: list[ChildOut]


@router.get(
    "", response=answers(ChildPageOut, 403, 422), summary="本辖区儿童列表（分页，可按姓名查询）"
)
def child_list(request: HttpRequest, name: Text = "", page: int = 1) -> ChildPageOut:
    found = children_page(
        user=acting_user(request), where=ChildFilter(name=name.strip()[:50]), page_number=page
    )
    return ChildPageOut(
        count=found.paginator.count,
        page=found.number,
        pages=found.paginator.num_pages,
        items=[ChildOut.of(child) for child in found.object_list],
    )


@router.get("/{child_id}", response=answers(ChildOut, 404, 422), summary="儿童档案（限本辖区）")
def child_detail(request: HttpRequest, child_id: Text) -> ChildOut:
    return ChildOut.of(child_open(user=acting_user(request), child_id=child_id))
