"""Thin views over the figures: the jurisdiction is gated by ``jurisdiction`` (404 outside the
user's scope), every page and file is audited."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render

from tonghu import clock
from tonghu.accounts.utils import acting_user
from tonghu.audit.models import Action
from tonghu.audit.services import audit_record
from tonghu.stats.annual import YEAR_MIN, annual_pdf, annual_report, annual_xlsx
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


YEAR_CHOICES = 5  # the years offered on the page (any year from YEAR_MIN may be asked for)
PDF_TYPE = "application/pdf"


def _year(request: HttpRequest) -> int | None:
    """The year asked for (default: this year), or None if it is not a year one may ask."""
    text = request.GET.get("year", "")
    if not text:
        return clock.today().year
    if not (len(text) == 4 and text.isdigit() and YEAR_MIN <= int(text) <= clock.today().year):
        return None
    return int(text)


@login_required
def annual(request: HttpRequest) -> HttpResponse:
    """年度工作进展情况 for ``?year=`` as a printable page, ``?format=xlsx`` or ``pdf``."""
    place = _place(request)
    year = _year(request)
    if year is None:
        return HttpResponseBadRequest(
            f"年份应为{YEAR_MIN}年至{clock.today().year}年之间的四位数字。",
            content_type="text/plain; charset=utf-8",
        )
    report = annual_report(place, year=year)
    what = f"{year}年度工作进展情况"
    file_format = request.GET.get("format", "")
    if file_format == "xlsx":
        _audit(place, Action.EXPORT, f"导出{what}（XLSX）")
        return xlsx_response(annual_xlsx(report), f"{report.file_stem}.xlsx")
    if file_format == "pdf":
        _audit(place, Action.EXPORT, f"导出{what}（PDF）")
        response = HttpResponse(annual_pdf(report), content_type=PDF_TYPE)
        name = quote(f"{report.file_stem}.pdf")
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{name}"
        return response
    _audit(place, Action.VIEW, f"查看{what}")
    this_year = clock.today().year
    years = range(this_year, max(YEAR_MIN, this_year - YEAR_CHOICES + 1) - 1, -1)
    query = request.GET.copy()
    query.pop("format", None)
    query["year"] = str(year)
    return render(
        request,
        "stats/annual.html",
        {
            **_context(request, place),
            "report": report,
            "years": [*years] if year in years else [*years, year],
            "file_query": query.urlencode(),
        },
    )
