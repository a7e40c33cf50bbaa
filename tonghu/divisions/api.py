from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from tonghu.accounts.api import Text, answers
from tonghu.accounts.utils import acting_user
from tonghu.divisions.models import Division
from tonghu.divisions.selectors import access_division, subdivisions

router = Router(tags=["行政区划"])


class DivisionOut(Schema):
    code: str
    name: str
    level: str
    parent_code: str | None
    central_urban: bool

    @staticmethod
    def of(division: Division) -> DivisionOut:
        return DivisionOut(
            code=division.code,
            name=division.name,
            level=division.level,
            parent_code=division.parent_id,
            central_urban=division.central_urban,
        )


@router.get("/{code}", response=answers(DivisionOut, 404, 422), summary="区划详情（限本辖区）")
def division_detail(request: HttpRequest, code: Text) -> DivisionOut:
    return DivisionOut.of(access_division(user=acting_user(request), code=code))


@router.get(
    "/{code}/children",
    response=answers(list[DivisionOut], 404, 422),
    summary="下辖区划（限本辖区）",
)
def division_subdivisions(request: HttpRequest, code: Text) -> list[DivisionOut]:
    division = access_division(user=acting_user(request), code=code)
    return [DivisionOut.of(sub) for sub in subdivisions(division=division)]
