"""Thin views over the figures: the jurisdiction is gated by ``jurisdiction`` (404 outside the
user's scope), every page and file is audited."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tonghu.accounts.utils import acting_user
from tonghu.audit.models import Action
from tonghu.audit.services import audit_record
from tonghu.stats.dashboard import breadcrumbs
from tonghu.stats.dashboard import dashboard as build_dashboard
from tonghu.stats.selectors import Jurisdiction, jurisdiction, may_see_small_cells, rounds_of
from tonghu.stats.tables import standard_tables, tables_xlsx
from tonghu.web.exports import xlsx_response


def _place(request: HttpRequest) -> Jurisdiction:
    round_text = request.GET.get("round", "")
    return jurisdiction(
        user=acting_user(request),
        code=request.GET.get("division", ""),
        round_id=int(round_text) if round_text.isdigit() else None,
        protect=request.GET.get("protect") == "1",
    )


def _audit(place: Jurisdiction, action: Action, what: str) -> None:
    audit_record(
        actor=place.user,
        action=action,
        object_type="stats",
        object_ids=[place.division.code, *(str(pk) for pk in place.round_ids)],
        detail=f"{what}：{place.division.name}" + ("（小数保护）" if place.protected else ""),
    )


def _context(request: HttpRequest, place: Jurisdiction) -> dict[str, object]:
    return {
        "place": place,
        "trail": breadcrumbs(place),
        "rounds": rounds_of(place),
        "may_protect": may_see_small_cells(place.user),
        "query": request.GET.urlencode(),
    }


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    place = _place(request)
    board = build_dashboard(place)
    _audit(place, Action.VIEW, "查看统计分析驾驶舱")
    return render(request, "stats/dashboard.html", {**_context(request, place), "board": board})


@login_required
def tables(request: HttpRequest) -> HttpResponse:
    place = _place(request)
    found = standard_tables(place)
    if request.GET.get("format") == "xlsx":
        _audit(place, Action.EXPORT, "导出分类统计表")
        return xlsx_response(tables_xlsx(found), f"分类统计表_{place.division.name}.xlsx")
    _audit(place, Action.VIEW, "查看分类统计表")
    return render(request, "stats/tables.html", {**_context(request, place), "tables": found})
