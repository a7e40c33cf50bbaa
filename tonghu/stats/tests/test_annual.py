"""The annual progress report (年度工作进展情况) against hand-written figures: every value
below is worked out by hand from the rows the fixture writes, for each role's jurisdiction,
with small-cell protection, and as page, XLSX and PDF."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import zlib
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client
from openpyxl import load_workbook

from tonghu.accounts.models import User
from tonghu.accounts.roles import Role
from tonghu.audit.models import AuditEntry
from tonghu.conftest import World, make_user
from tonghu.roster.models import Training
from tonghu.rounds.models import Round, RoundStatus
from tonghu.stats.annual import AnnualReport, annual_pdf_html, annual_report, annual_xlsx
from tonghu.stats.models import DailyFigure, LiveFigure, Measure
from tonghu.stats.selectors import jurisdiction
from tonghu.stats.tests.figures import (
    COUNTY,
    EAST,
    JIAODIAN,
    NORTH,
    WEST,
    ZHIYANG,
    figures_create,
)

WEIDONG = "410403000000"  # 卫东区, the other county of the city
WEIDONG_VILLAGE = "410403001001"
CITY = "410400000000"

# 新华区's latest round of 2026 (2026-09-30): (division, group, dimension, category) -> n.
LATEST = {
    (EAST, "all", "total", ""): 12,
    (EAST, "migrant", "total", ""): 6,
    (EAST, "left_behind", "total", ""): 4,
    (EAST, "difficulty", "total", ""): 2,
    (EAST, "key_care", "total", ""): 1,
    (WEST, "all", "total", ""): 3,
    (WEST, "migrant", "total", ""): 2,
    (NORTH, "all", "total", ""): 8,
    (NORTH, "migrant", "total", ""): 8,
    (NORTH, "difficulty", "total", ""): 5,
    (EAST, "all", "service", "S01"): 6,
    (WEST, "all", "service", "S01"): 2,
    (NORTH, "all", "service", "S01"): 8,
    (EAST, "all", "service", "S03"): 4,
    (NORTH, "all", "service", "S03"): 6,
}
# (division, measure, category, month) -> n.
LIVE = {
    (EAST, Measure.SERVICE_DELIVERED, "S01", dt.date(2025, 12, 1)): 3,
    (EAST, Measure.SERVICE_DELIVERED, "S01", dt.date(2026, 4, 1)): 5,
    (NORTH, Measure.SERVICE_DELIVERED, "S01", dt.date(2026, 7, 1)): 10,
    (NORTH, Measure.SERVICE_DELIVERED, "S03", dt.date(2026, 5, 1)): 4,
    (EAST, Measure.VISIT_HOME, "", dt.date(2025, 12, 1)): 7,
    (EAST, Measure.VISIT_HOME, "", dt.date(2026, 1, 1)): 20,
    (NORTH, Measure.VISIT_HOME, "", dt.date(2026, 11, 1)): 12,
    (WEST, Measure.VISIT_CONTACT, "", dt.date(2026, 2, 1)): 9,
    (EAST, Measure.CASE_OPENED, "", dt.date(2026, 3, 1)): 4,
    (NORTH, Measure.CASE_OPENED, "", dt.date(2026, 6, 1)): 3,
    (EAST, Measure.CASE_CLOSED, "", dt.date(2026, 8, 1)): 6,
    (EAST, Measure.CASE_CLOSE_DAYS, "", dt.date(2026, 8, 1)): 75,
    (EAST, Measure.CASE_STEPS, "", dt.date(2026, 3, 1)): 40,
    (EAST, Measure.CASE_STEPS_LATE, "", dt.date(2026, 3, 1)): 4,
    (WEIDONG_VILLAGE, Measure.VISIT_HOME, "", dt.date(2026, 1, 1)): 100,
}
# (division, measure, category) -> n, computed on 2026-11-22.
DAILY = {
    (EAST, Measure.VISIT_STATUS, "overdue"): 5,
    (EAST, Measure.VISIT_STATUS, "later"): 15,
    (NORTH, Measure.VISIT_STATUS, "today"): 2,
    (NORTH, Measure.REFERRAL_OPEN, ""): 9,
    (NORTH, Measure.REFERRAL_OVERDUE, ""): 3,
    (EAST, Measure.ASSESSMENT_GRADE, "监护正常"): 10,
    (WEST, Measure.ASSESSMENT_GRADE, "监护不足"): 2,
    (NORTH, Measure.ASSESSMENT_GRADE, "监护失当"): 6,
    (NORTH, Measure.ASSESSMENT_GRADE, "监护缺失"): 1,
}


def _round(county: str, as_of: dt.date, **summary: int) -> Round:
    return Round.objects.create(
        county_id=county, as_of=as_of, status=RoundStatus.DONE, summary=summary
    )


def _figures(round_: Round, rows: dict[tuple[str, str, str, str], int]) -> None:
    figures_create(round_, rows)


def _train(user: User, on: dt.date, topic: str, hours: str, by: User) -> None:
    Training.objects.create(user=user, on=on, topic=topic, hours=Decimal(hours), recorded_by=by)


@pytest.fixture
def seeded(world: World, clock: Any) -> World:
    """Rounds, figures, workers and trainings of 新华区 (and a little of 卫东区)."""
    last_year = world.rounds[COUNTY]  # 2025-06-30
    last_year.status = RoundStatus.DONE
    last_year.summary = {"new_children": 30}
    last_year.save()
    _figures(last_year, {(EAST, "all", "total", ""): 30, (EAST, "migrant", "total", ""): 10})
    spring = _round(COUNTY, dt.date(2026, 3, 31), new_children=6)
    _figures(spring, {(EAST, "all", "total", ""): 99})  # not the year's latest: not shown
    autumn = _round(COUNTY, dt.date(2026, 9, 30), new_children=3)
    _figures(autumn, LATEST)
    weidong = _round(WEIDONG, dt.date(2026, 5, 31), new_children=7)
    _figures(weidong, {(WEIDONG_VILLAGE, "all", "total", ""): 50})
    LiveFigure.objects.bulk_create(
        LiveFigure(division_code=d, measure=m, category=c, month=month, n=n)
        for (d, m, c, month), n in LIVE.items()
    )
    DailyFigure.objects.bulk_create(
        DailyFigure(
            county_code=d[:6], division_code=d, measure=m, category=c, n=n,
            computed_on=dt.date(2026, 11, 22),
        )
        for (d, m, c), n in DAILY.items()
    )  # fmt: skip
    staff = world.users[Role.COUNTY_STAFF]
    director = world.users[Role.CHILD_DIRECTOR]  # 东湾村
    supervisor = world.users[Role.SUPERVISOR]  # 焦店镇
    north = make_user("u_director_north", Role.CHILD_DIRECTOR, NORTH)
    retired = make_user("u_director_retired", Role.CHILD_DIRECTOR, WEST)
    retired.is_active = False
    retired.save()
    outside = make_user("u_director_weidong", Role.CHILD_DIRECTOR, WEIDONG_VILLAGE)
    _train(director, dt.date(2026, 3, 10), "政策培训", "2.0", staff)
    _train(north, dt.date(2026, 3, 10), "政策培训", "2.0", staff)
    _train(supervisor, dt.date(2026, 6, 1), "个案管理", "3.5", staff)
    _train(director, dt.date(2025, 12, 1), "往年培训", "4.0", staff)
    _train(outside, dt.date(2026, 3, 10), "政策培训", "1.0", staff)
    return world


def _report(world: World, role: Role, year: int = 2026, **options: Any) -> AnnualReport:
    return annual_report(jurisdiction(user=world.users[role], **options), year=year)


def _values(report: AnnualReport) -> dict[str, dict[str, str]]:
    return {s.title: {row.label: row.value for row in s.rows} for s in report.sections}


def _notes(report: AnnualReport) -> dict[str, str]:
    return {row.label: row.note for s in report.sections for row in s.rows}


@pytest.mark.django_db
def test_the_county_report_for_this_year(seeded: World) -> None:
    report = _report(seeded, Role.COUNTY_STAFF)
    assert report.title == "新华区2026年度工作进展情况"
    assert report.due_text == "请于2026年11月30日前报送"
    assert report.reported_on == dt.date(2026, 11, 23)
    assert not report.protected
    assert _values(report) == {
        "一、监测摸排": {
            "完成监测摸排（轮）": "2",  # 2026-03-31 and 2026-09-30; 2025-06-30 is last year's
            "每半年至少开展一次": "是",
            "在册儿童": "23",  # 12 + 3 + 8, from the 2026-09-30 round only
            "流动儿童": "16",  # 6 + 2 + 8
            "留守儿童": "4",
            "困境儿童": "7",  # 2 + 5
            "重点关爱": "1",
            "本年度新发现儿童": "9",  # 6 + 3
        },
        "二、政策找人": {
            "应享服务（人次）": "26",  # S01 6 + 2 + 8 = 16, S03 4 + 6 = 10
            "已提供服务（人次）": "20",  # S01 3 + 5 + 10 = 18 capped at 16, S03 4
            "实现程度": "76.9%",  # 20 / 26
            "本年度提供服务（人次）": "19",  # 5 + 10 + 4 (December 2025's 3 not this year)
            "其中：健康和托育服务": "16/16",
            "其中：义务教育服务": "4/10",
            "未办结转介（件）": "9",
            "逾期转介（件）": "3",
        },
        "三、走访探视": {
            "入户走访（次）": "32",  # 20 + 12 (December 2025's 7 not this year)
            "电话、视频等联系（次）": "9",
            "须走访儿童（人）": "22",  # 5 + 15 + 2
            "走访计划按期率": "77.3%",  # 17 / 22
        },
        "四、监护评估": {
            "已评估儿童（人）": "19",
            "监护正常（人）": "10",
            "监护不足（人）": "2",
            "监护失当（人）": "6",
            "监护缺失（人）": "1",
        },
        "五、强制报告与个案处置": {
            "新立案件（件）": "7",  # 4 + 3
            "结案（件）": "6",
            "平均结案用时": "12.5日",  # 75 / 6
            "环节按时办理率": "90.0%",  # (40 - 4) / 40
        },
        "六、队伍建设": {
            "儿童主任（人）": "2",  # 东湾村 and 北渡村; the retired one is not counted
            "儿童督导员（人）": "1",
            "培训场次": "2",  # 政策培训 on 3-10 (two people) and 个案管理
            "参训人次": "3",
            "培训学时合计": "7.5",  # 2 + 2 + 3.5
            "人均培训学时": "2.5",  # 7.5 / 3 workers
        },
    }
    notes = _notes(report)
    assert notes["完成监测摸排（轮）"] == "摸排基准日：2026年3月31日、2026年9月30日"
    assert notes["每半年至少开展一次"] == "上半年1轮、下半年1轮"
    assert notes["在册儿童"] == "截至本年度最近一轮摸排（2026年9月30日）"
    assert notes["逾期转介（件）"] == "超过办理时限仍未办结；统计于2026年11月22日"
    assert notes["其中：义务教育服务"] == "已提供/应享，实现程度 40.0%"
    assert notes["走访计划按期率"] == "走访已逾期儿童 5 人"
    assert not any("小数保护" in note for note in report.notes)


@pytest.mark.django_db
def test_drilling_down_to_a_town(seeded: World) -> None:
    values = _values(_report(seeded, Role.COUNTY_STAFF, code=JIAODIAN))
    assert values["一、监测摸排"]["在册儿童"] == "15"  # 12 + 3
    assert values["一、监测摸排"]["完成监测摸排（轮）"] == "2"  # the county's rounds
    assert values["二、政策找人"]["应享服务（人次）"] == "12"  # S01 6 + 2, S03 4
    assert values["二、政策找人"]["已提供服务（人次）"] == "8"  # S01 3 + 5 = 8, S03 0
    assert values["三、走访探视"]["入户走访（次）"] == "20"
    assert values["三、走访探视"]["须走访儿童（人）"] == "20"
    assert values["四、监护评估"]["已评估儿童（人）"] == "12"
    assert values["五、强制报告与个案处置"]["新立案件（件）"] == "4"
    assert values["六、队伍建设"] == {
        "儿童主任（人）": "1",
        "儿童督导员（人）": "1",
        "培训场次": "2",
        "参训人次": "2",
        "培训学时合计": "5.5",
        "人均培训学时": "2.8",  # 5.5 / 2, rounded half to even: 2.75 -> 2.8
    }


@pytest.mark.django_db
def test_the_city_sees_protected_figures(seeded: World) -> None:
    report = _report(seeded, Role.CITY_STAFF, code=COUNTY)
    assert report.protected
    values = _values(report)
    assert values["一、监测摸排"]["在册儿童"] == "23"
    assert values["一、监测摸排"]["留守儿童"] == "<5"  # 4
    assert values["一、监测摸排"]["重点关爱"] == "<5"  # 1
    assert values["一、监测摸排"]["困境儿童"] == "7"
    # S03's 4 served is hidden, and so is S01's 16: else 20 - 16 would give it away.
    assert values["二、政策找人"]["其中：义务教育服务"] == "<5/10"
    assert values["二、政策找人"]["其中：健康和托育服务"] == "<5/16"
    assert values["二、政策找人"]["已提供服务（人次）"] == "20"
    assert values["二、政策找人"]["实现程度"] == "76.9%"
    assert values["二、政策找人"]["逾期转介（件）"] == "<5"  # 3
    # 今日到期 2 is hidden; 已逾期 5 with it (22 - 15 - 5 would reveal it): no rate shown.
    assert values["三、走访探视"]["须走访儿童（人）"] == "22"
    assert values["三、走访探视"]["走访计划按期率"] == "—"
    assert _notes(report)["走访计划按期率"] == "走访已逾期儿童 <5 人"
    assert values["四、监护评估"] == {
        "已评估儿童（人）": "19",
        "监护正常（人）": "10",
        "监护不足（人）": "<5",
        "监护失当（人）": "6",
        "监护缺失（人）": "<5",
    }
    # Workers and trainings are not counts of children: shown as they are.
    assert values["六、队伍建设"]["儿童督导员（人）"] == "1"
    assert any("小数保护" in note for note in report.notes)
    for section in report.sections[:5]:  # every count of children
        for row in section.rows:
            if row.label != "完成监测摸排（轮）":
                assert not (row.value.isdigit() and int(row.value) < 5), (section.title, row)


@pytest.mark.django_db
def test_county_staff_may_ask_for_the_protected_version(seeded: World) -> None:
    report = _report(seeded, Role.COUNTY_STAFF, protect=True)
    assert _values(report)["一、监测摸排"]["留守儿童"] == "<5"


@pytest.mark.django_db
def test_the_city_report_covers_both_counties(seeded: World) -> None:
    report = _report(seeded, Role.CITY_STAFF)
    values = _values(report)
    monitoring = values["一、监测摸排"]
    assert monitoring["完成监测摸排（轮）"] == "3"  # 新华区 2, 卫东区 1
    assert monitoring["每半年至少开展一次"] == "1/2个区县达到"
    assert monitoring["在册儿童"] == "73"  # 23 + 卫东区's 50
    assert monitoring["本年度新发现儿童"] == "16"  # 6 + 3 + 7
    notes = _notes(report)
    assert notes["每半年至少开展一次"] == "未达到：卫东区"
    assert notes["完成监测摸排（轮）"] == (
        "摸排基准日：新华区 2026年3月31日、2026年9月30日；卫东区 2026年5月31日"
    )
    assert values["三、走访探视"]["入户走访（次）"] == "132"  # 32 + 100
    assert values["六、队伍建设"]["儿童主任（人）"] == "3"
    assert values["六、队伍建设"]["参训人次"] == "4"


@pytest.mark.django_db
def test_a_past_year_leaves_out_todays_states(seeded: World) -> None:
    report = _report(seeded, Role.COUNTY_STAFF, year=2025)
    assert report.due_text == "请于2025年11月30日前报送"
    values = _values(report)
    assert values["一、监测摸排"]["完成监测摸排（轮）"] == "1"
    assert values["一、监测摸排"]["每半年至少开展一次"] == "否"
    assert values["一、监测摸排"]["在册儿童"] == "30"
    assert values["一、监测摸排"]["本年度新发现儿童"] == "30"
    assert values["二、政策找人"]["应享服务（人次）"] == "0"
    assert values["二、政策找人"]["已提供服务（人次）"] == "0"  # 3 served, none due: capped
    assert values["二、政策找人"]["实现程度"] == "—"
    assert values["二、政策找人"]["本年度提供服务（人次）"] == "3"
    assert values["二、政策找人"]["逾期转介（件）"] == "—"
    assert values["三、走访探视"] == {
        "入户走访（次）": "7",
        "电话、视频等联系（次）": "0",
        "须走访儿童（人）": "—",
        "走访计划按期率": "—",
    }
    assert set(values["四、监护评估"].values()) == {"—"}
    assert values["五、强制报告与个案处置"]["平均结案用时"] == "—"
    assert values["六、队伍建设"]["培训学时合计"] == "4.0"
    assert _notes(report)["每半年至少开展一次"] == "上半年1轮、下半年0轮"


@pytest.mark.django_db
def test_a_year_without_rounds(seeded: World) -> None:
    values = _values(_report(seeded, Role.COUNTY_STAFF, year=2024))
    assert values["一、监测摸排"]["完成监测摸排（轮）"] == "0"
    assert values["一、监测摸排"]["在册儿童"] == "—"
    assert values["六、队伍建设"]["人均培训学时"] == "0.0"


@pytest.mark.django_db
def test_the_report_reads_in_a_fixed_number_of_queries(
    seeded: World, django_assert_max_num_queries: Any
) -> None:
    place = jurisdiction(user=seeded.users[Role.CITY_STAFF])
    with django_assert_max_num_queries(10):
        annual_report(place, year=2026)


@pytest.mark.django_db
def test_the_page_defaults_to_this_year_and_is_audited(seeded: World, client: Client) -> None:
    client.force_login(seeded.users[Role.COUNTY_STAFF])
    response = client.get("/stats/annual/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "新华区2026年度工作进展情况" in html
    assert "请于2026年11月30日前报送" in html
    assert "六、队伍建设" in html
    assert "stats/print.js" in html
    assert "format=xlsx" in html
    assert "format=pdf" in html
    entry = AuditEntry.objects.filter(object_type="stats").latest("at")
    assert entry.action == "view"
    assert entry.detail == "查看2026年度工作进展情况：新华区"
    dashboard = client.get("/stats/").content.decode()
    assert "/stats/annual/" in dashboard
    assert "年度工作进展情况" in dashboard


@pytest.mark.django_db
@pytest.mark.parametrize("year", ["abc", "2027", "1999", "20261", "-2026"])
def test_a_bad_year_answers_400(seeded: World, client: Client, year: str) -> None:
    client.force_login(seeded.users[Role.COUNTY_STAFF])
    response = client.get("/stats/annual/", {"year": year})
    assert response.status_code == 400
    assert response.content.decode() == "年份应为2000年至2026年之间的四位数字。"


@pytest.mark.django_db
def test_a_division_outside_the_scope_answers_404(seeded: World, client: Client) -> None:
    client.force_login(seeded.users[Role.SUPERVISOR])
    assert client.get("/stats/annual/", {"division": ZHIYANG}).status_code == 404
    assert client.get("/stats/annual/", {"division": JIAODIAN}).status_code == 200
    assert client.get("/stats/annual/", {"division": ZHIYANG, "format": "xlsx"}).status_code == 404
    client.force_login(seeded.users[Role.REPORTER])
    assert client.get("/stats/annual/").status_code == 403
    assert AuditEntry.objects.filter(object_type="stats").count() == 1  # the page it saw


@pytest.mark.django_db
def test_the_xlsx_has_a_merged_title_and_section_rows(seeded: World, client: Client) -> None:
    client.force_login(seeded.users[Role.COUNTY_STAFF])
    response = client.get("/stats/annual/", {"year": "2026", "format": "xlsx"})
    assert response.status_code == 200
    name = quote("2026年度工作进展情况_新华区.xlsx")
    assert response["Content-Disposition"] == f"attachment; filename*=UTF-8''{name}"
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["工作进展情况"]
    sheet = book["工作进展情况"]
    assert sheet["A1"].value == "新华区2026年度工作进展情况"
    assert sheet["A2"].value == "请于2026年11月30日前报送　报告日期：2026年11月23日"
    assert [sheet.cell(3, c).value for c in (1, 2, 3)] == ["指标", "数值", "说明"]
    merged = {str(cells) for cells in sheet.merged_cells.ranges}
    assert {"A1:C1", "A2:C2"} <= merged
    rows = {
        sheet.cell(r, 1).value: (r, sheet.cell(r, 2).value) for r in range(4, sheet.max_row + 1)
    }
    titles = ["一、监测摸排", "二、政策找人", "三、走访探视", "四、监护评估",
              "五、强制报告与个案处置", "六、队伍建设"]  # fmt: skip
    for title in titles:
        row = rows[title][0]
        assert f"A{row}:C{row}" in merged
        assert sheet.cell(row, 1).font.bold
    assert rows["在册儿童"][1] == 23  # whole numbers are numbers
    assert rows["实现程度"][1] == "76.9%"
    assert rows["培训学时合计"][1] == "7.5"
    assert rows["其中：义务教育服务"][1] == "4/10"
    assert sheet.cell(rows["在册儿童"][0], 2).border.left.style == "thin"
    entry = AuditEntry.objects.filter(object_type="stats").latest("at")
    assert (entry.action, entry.detail) == ("export", "导出2026年度工作进展情况（XLSX）：新华区")


@pytest.mark.django_db
def test_xlsx_text_cells_are_made_safe(seeded: World) -> None:
    report = _report(seeded, Role.COUNTY_STAFF)
    report = dataclasses.replace(report, division_name="=HYPERLINK(1)")
    sheet = load_workbook(io.BytesIO(annual_xlsx(report))).worksheets[0]
    assert sheet["A1"].value == "'=HYPERLINK(1)2026年度工作进展情况"


def _pdf_text(pdf: bytes) -> bytes:
    """The PDF's objects with their compressed streams inflated (the outline's titles are
    UTF-16 hex strings there)."""
    parts = [pdf]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.DOTALL):
        try:
            parts.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return b"".join(parts).lower()


@pytest.mark.django_db
def test_the_pdf_download(seeded: World, client: Client) -> None:
    client.force_login(seeded.users[Role.CITY_STAFF])
    response = client.get("/stats/annual/", {"division": COUNTY, "format": "pdf"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    name = quote("2026年度工作进展情况_新华区.pdf")
    assert response["Content-Disposition"] == f"attachment; filename*=UTF-8''{name}"
    assert response.content.startswith(b"%PDF")
    text = _pdf_text(response.content)
    for title in ("新华区2026年度工作进展情况", "一、监测摸排", "六、队伍建设"):
        assert ("feff" + title.encode("utf-16-be").hex()).encode() in text, title
    entry = AuditEntry.objects.filter(object_type="stats").latest("at")
    assert (entry.action, entry.detail) == (
        "export",
        "导出2026年度工作进展情况（PDF）：新华区（小数保护）",
    )


@pytest.mark.django_db
def test_the_pdf_page_is_a4_with_cjk_fonts_and_protected_values(seeded: World) -> None:
    html = annual_pdf_html(_report(seeded, Role.CITY_STAFF, code=COUNTY))
    assert "size: A4" in html
    assert "margin: 2cm" in html
    assert "Noto Serif CJK SC" in html
    assert "http" not in html  # nothing to fetch
    assert "&lt;5" in html
    assert "请于2026年11月30日前报送" in html
