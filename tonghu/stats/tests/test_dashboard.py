"""The dashboard and tables against hand-written figures: every number below is worked out
by hand from FIGURES, for each role's jurisdiction and with small-cell protection."""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from tonghu.accounts.roles import Role
from tonghu.audit.models import AuditEntry
from tonghu.cases.machine import Step
from tonghu.cases.tests.factories import STEP_DATA, file_report, people, take
from tonghu.conftest import World
from tonghu.rounds.models import Round, RoundStatus
from tonghu.stats.dashboard import dashboard
from tonghu.stats.models import DailyFigure, LiveFigure, Measure
from tonghu.stats.selectors import jurisdiction
from tonghu.stats.services import figure_add
from tonghu.stats.tests.figures import (
    COUNTY,
    EAST,
    JIAODIAN,
    NORTH,
    WEST,
    ZHIYANG,
    figures_create,
)
from tonghu.visits.services import visit_record

# (village, group, dimension, category) -> children, as the batch step would write them.
FIGURES = {
    (EAST, "all", "total", ""): 12,
    (EAST, "migrant", "total", ""): 6,
    (EAST, "left_behind", "total", ""): 4,
    (EAST, "all", "sex", "男"): 7,
    (EAST, "all", "sex", "女"): 5,
    (EAST, "migrant", "sex", "男"): 3,
    (EAST, "migrant", "sex", "女"): 3,
    (EAST, "all", "insurance", "参保缴费"): 10,
    (EAST, "all", "insurance", "no_record"): 2,
    (EAST, "migrant", "origin_province", "33"): 6,
    (WEST, "migrant", "origin_province", "41"): 2,
    (NORTH, "migrant", "origin_province", "33"): 8,
    (WEST, "all", "total", ""): 3,
    (WEST, "migrant", "total", ""): 2,
    (WEST, "all", "sex", "男"): 1,
    (WEST, "all", "sex", "女"): 2,
    (WEST, "migrant", "sex", "女"): 2,
    (WEST, "all", "insurance", "参保缴费"): 3,
    (NORTH, "all", "total", ""): 8,
    (NORTH, "migrant", "total", ""): 8,
    (NORTH, "all", "sex", "男"): 4,
    (NORTH, "all", "sex", "女"): 4,
    (NORTH, "migrant", "sex", "男"): 4,
    (NORTH, "migrant", "sex", "女"): 4,
    (NORTH, "all", "insurance", "参保缴费"): 6,
    (NORTH, "all", "insurance", "暂停"): 2,
}


@pytest.fixture
def figures_round(world: World) -> Round:
    round_ = world.rounds[COUNTY]
    round_.status = RoundStatus.DONE
    round_.save()
    figures_create(round_, FIGURES)
    return round_


def _board(world: World, role: Role, **options: Any) -> Any:
    return dashboard(jurisdiction(user=world.users[role], **options))


def _cards(board: Any) -> dict[str, str]:
    return {card.label: card.text for card in board.cards}


def _areas(board: Any) -> dict[str, list[str]]:
    return {row.name: row.cells for row in board.area_rows}


def _chart(board: Any, chart_id: str) -> dict[str, Any]:
    return next(spec for spec in board.specs if spec["id"] == chart_id)


@pytest.mark.django_db
def test_county_staff_see_every_figure_unprotected(world: World, figures_round: Round) -> None:
    board = _board(world, Role.COUNTY_STAFF)
    cards = _cards(board)
    assert cards["在册儿童"] == "23"  # 12 + 3 + 8
    assert cards["流动儿童"] == "16"  # 6 + 2 + 8
    assert cards["留守儿童"] == "4"
    assert cards["困境儿童"] == "0"
    # One row per town, in code order, columns 在册/流动/留守/困境/重点关爱.
    assert _areas(board) == {
        "焦店镇": ["15", "8", "4", "0", "0"],
        "滍阳乡": ["8", "8", "0", "0", "0"],
    }
    scale = _chart(board, "scale")
    assert scale["series"][0]["data"] == [23, 16, 4, 0, 0]
    areas = _chart(board, "areas")
    assert areas["drill"] == [JIAODIAN, ZHIYANG]
    assert areas["series"][0]["name"] == "流动儿童"
    assert areas["series"][0]["data"] == [8, 8]
    provinces = _chart(board, "provinces")
    assert provinces["categories"] == ["33", "河南省"]  # 浙江 is not in the test's table
    assert provinces["series"][0]["data"] == [14, 2]
    insurance = _chart(board, "insurance")
    assert dict(zip(insurance["categories"], insurance["series"][0]["data"], strict=True)) == {
        "参保缴费": 19,
        "暂停": 2,
        "无参保记录": 2,
    }


@pytest.mark.django_db
def test_drilling_down_to_a_town_and_a_village(world: World, figures_round: Round) -> None:
    town = _board(world, Role.COUNTY_STAFF, code=JIAODIAN)
    assert _cards(town)["在册儿童"] == "15"
    assert _areas(town) == {
        "东湾村": ["12", "6", "4", "0", "0"],
        "西湾村": ["3", "2", "0", "0", "0"],
    }
    village = _board(world, Role.COUNTY_STAFF, code=WEST)
    assert _cards(village)["在册儿童"] == "3"
    assert village.area_rows == []


@pytest.mark.django_db
def test_outside_the_county_office_small_cells_are_hidden(
    world: World, figures_round: Round
) -> None:
    board = _board(world, Role.CITY_STAFF, code=COUNTY)
    cards = _cards(board)
    assert cards["在册儿童"] == "23"
    assert cards["留守儿童"] == "<5"  # 4 children
    assert cards["困境儿童"] == "<5"  # 0 counts fewer than 5 as well
    assert _areas(board)["焦店镇"] == ["15", "8", "<5", "<5", "<5"]
    # The town rows add up to the county's totals: with 焦店镇's 4 left-behind hidden, 滍阳乡's
    # 0 is hidden too (it is anyway); the migrant column stays (8 and 8 are both shown).
    town = _board(world, Role.CITY_STAFF, code=JIAODIAN)
    # 西湾村's 3 is hidden, and so is 东湾村's 12: otherwise 15 - 12 would give it away.
    assert _areas(town)["西湾村"][0] == "<5"
    assert _areas(town)["东湾村"][0] == "<5"
    assert _cards(town)["在册儿童"] == "15"
    spec = _chart(town, "scale")
    assert spec["series"][0]["data"][2] is None  # 留守 4: hidden in the chart too


@pytest.mark.django_db
def test_county_staff_may_ask_for_the_protected_version(world: World, figures_round: Round) -> None:
    board = _board(world, Role.COUNTY_STAFF, protect=True)
    assert _cards(board)["留守儿童"] == "<5"


@pytest.mark.django_db
def test_a_jurisdiction_outside_the_scope_answers_404(
    world: World, figures_round: Round, client: Client
) -> None:
    client.force_login(world.users[Role.SUPERVISOR])
    assert client.get("/stats/", {"division": ZHIYANG}).status_code == 404
    assert client.get("/stats/", {"division": "999999999999"}).status_code == 404
    assert client.get("/stats/", {"division": JIAODIAN}).status_code == 200
    client.force_login(world.users[Role.REPORTER])
    assert client.get("/stats/").status_code == 403


@pytest.mark.django_db
def test_the_page_carries_the_charts_and_is_audited(
    world: World, figures_round: Round, client: Client
) -> None:
    client.force_login(world.users[Role.COUNTY_STAFF])
    response = client.get("/stats/")
    assert response.status_code == 200
    html = response.content.decode()
    start = html.index(">", html.index('id="chart-specs"')) + 1
    specs = json.loads(html[start : html.index("</script>", start)])
    assert {spec["id"] for spec in specs} >= {"scale", "areas", "age", "insurance", "trend"}
    entry = AuditEntry.objects.filter(object_type="stats").latest("at")
    assert entry.detail == "查看统计分析驾驶舱：新华区"


@pytest.mark.django_db
def test_live_figures_follow_visits_and_cases(
    world: World, figures_round: Round, clock: Any
) -> None:
    child = world.children_by_home[EAST]
    child.is_left_behind = True
    child.save()
    for day in (dt.date(2026, 11, 2), dt.date(2026, 11, 9)):
        visit_record(
            user=world.users[Role.CHILD_DIRECTOR], child_id=child.child_id, token=uuid.uuid4(),
            findings={}, kind="home", visited_on=day, note="", child_version=child.version,
            resolution="keep",
        )  # fmt: skip
    visits = LiveFigure.objects.get(measure=Measure.VISIT_HOME, division_code=EAST)
    assert visits.n == 2
    assert visits.month == dt.date(2026, 11, 1)
    who = people(world)
    case = file_report(who.reporter).case
    take(who.police, case, Step.ACCEPT, **STEP_DATA[Step.ACCEPT])
    clock.advance(days=2)  # the emergency step is now late (24 hours)
    take(who.police, case, Step.EMERGENCY, **STEP_DATA[Step.EMERGENCY])
    sums = {f.measure: f.n for f in LiveFigure.objects.filter(measure__startswith="case")}
    assert sums == {Measure.CASE_OPENED: 1, Measure.CASE_STEPS: 2, Measure.CASE_STEPS_LATE: 1}
    cards = _cards(_board(world, Role.COUNTY_STAFF))
    assert cards["环节按时办理率"] == "50.0%"


@pytest.mark.django_db
def test_figure_add_keeps_one_row_per_month(world: World) -> None:
    for day in (dt.date(2026, 1, 5), dt.date(2026, 1, 30), dt.date(2026, 2, 1)):
        figure_add(division_code=EAST, measure=Measure.CASE_OPENED, on=day)
    rows = dict(LiveFigure.objects.values_list("month", "n"))
    assert rows == {dt.date(2026, 1, 1): 2, dt.date(2026, 2, 1): 1}


@pytest.mark.django_db
def test_daily_figures_feed_the_visit_and_referral_cards(
    world: World, figures_round: Round
) -> None:
    for status, n in (("overdue", 5), ("later", 15)):
        DailyFigure.objects.create(
            county_code="410402", division_code=EAST, measure=Measure.VISIT_STATUS,
            category=status, n=n, computed_on=dt.date(2026, 11, 22),
        )  # fmt: skip
    DailyFigure.objects.create(
        county_code="410402", division_code=NORTH, measure=Measure.REFERRAL_OVERDUE,
        category="", n=7, computed_on=dt.date(2026, 11, 22),
    )  # fmt: skip
    cards = _cards(_board(world, Role.COUNTY_STAFF))
    assert cards["走访按期率"] == "75.0%"  # 15 of 20 not overdue
    assert cards["逾期转介"] == "7"
    assert cards["人均联系儿童"] == "20.0"  # 20 children to visit, 1 director
    town = _cards(_board(world, Role.COUNTY_STAFF, code=JIAODIAN))
    assert town["逾期转介"] == "0"


@pytest.mark.django_db
def test_standard_tables_xlsx_has_merged_chinese_headers(
    world: World, figures_round: Round, client: Client
) -> None:
    client.force_login(world.users[Role.COUNTY_STAFF])
    response = client.get("/stats/tables/", {"format": "xlsx"})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == [
        "规模", "年龄结构", "分布区域", "健康状况", "学业状况", "监护情况", "参保情况",
    ]  # fmt: skip
    sheet = book["规模"]
    assert sheet["A1"].value == "表1 规模"
    merged = {str(cells) for cells in sheet.merged_cells.ranges}
    # 区划 spans both header rows; each group spans its 合计/男/女/不详 columns.
    assert {"A3:A4", "B3:E3", "F3:I3"} <= merged
    assert [sheet.cell(3, c).value for c in (2, 6)] == ["在册儿童", "流动儿童"]
    assert [sheet.cell(4, c).value for c in range(2, 6)] == ["合计", "男", "女", "不详"]
    rows = {sheet.cell(r, 1).value: [sheet.cell(r, c).value for c in range(2, 10)]
            for r in range(5, sheet.max_row + 1)}  # fmt: skip
    assert rows["合计"] == [23, 12, 11, 0, 16, 7, 9, 0]
    assert rows["焦店镇"] == [15, 8, 7, 0, 8, 3, 5, 0]
    assert rows["滍阳乡"] == [8, 4, 4, 0, 8, 4, 4, 0]
    insured = book["参保情况"]
    header = [insured.cell(4, c).value for c in range(2, 8)]
    assert header == ["合计", "参保缴费", "暂停", "终止", "无参保记录", "参保率"]
    assert [insured.cell(5, c).value for c in range(2, 8)] == [23, 19, 2, 0, 2, "82.6%"]


@pytest.mark.django_db
def test_exported_tables_are_protected_for_the_city(
    world: World, figures_round: Round, client: Client
) -> None:
    client.force_login(world.users[Role.CITY_STAFF])
    response = client.get("/stats/tables/", {"format": "xlsx", "division": COUNTY})
    book = load_workbook(io.BytesIO(response.content))
    for sheet in book.worksheets:
        for row in sheet.iter_rows(min_row=5, values_only=True):
            numbers = [value for value in row[1:] if isinstance(value, int)]
            assert all(value >= 5 for value in numbers), (sheet.title, row)
    assert AuditEntry.objects.filter(object_type="stats", action="export").exists()


@pytest.mark.django_db
def test_the_dashboard_reads_a_fixed_number_of_queries(
    world: World, figures_round: Round, client: Client, django_assert_max_num_queries: Any
) -> None:
    """Sums over figure rows: the count does not grow with villages, children or rounds."""
    client.force_login(world.users[Role.CITY_STAFF])
    with django_assert_max_num_queries(25):
        assert client.get("/stats/").status_code == 200
    with django_assert_max_num_queries(25):
        assert client.get("/stats/tables/").status_code == 200
