"""The statistics dashboard in a real chromium, over a real synthetic round: county staff read
the headline figures and charts, drill down to a town (through a chart's bar and the table of
areas), open the standard tables, and read the page on a phone; city staff see the same county
with small cells protected."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from playwright.sync_api import Page, ViewportSize, expect
from pytest_django.live_server_helper import LiveServer

from tonghu.accounts.models import User
from tonghu.accounts.roles import Role
from tonghu.children.models import Child
from tonghu.conftest import make_user
from tonghu.divisions.models import Division
from tonghu.testing.browser import collect_errors, log_in, screenshot, with_password

pytestmark = pytest.mark.browser
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 360, "height": 780}
COUNTY = "410402000000"  # 平顶山市新华区, the synthetic county (tonghu.synth.geo)
CITY = "410400000000"  # 平顶山市
GROUP_CARDS = ("在册儿童", "流动儿童", "留守儿童", "困境儿童", "重点关爱")
AREA_COLUMNS = ("在册儿童", "流动儿童", "留守儿童", "困境儿童", "重点关爱")
THRESHOLD = 5  # the default profile's stats.suppress_below


def _as(page: Page, base: str, user: User) -> None:
    page.context.clear_cookies()
    log_in(page, base, user)


def _residents() -> list[Child]:
    return list(Child.objects.filter(present=True, is_resident=True))


def _town_of(child: Child) -> str:
    return child.residence_division_id[:9] + "000"


def _wait_for_charts(page: Page) -> int:
    """Wait until the script has drawn every chart; returns how many it drew."""
    page.wait_for_selector("body[data-charts-ready]", state="attached")
    drawn = int(page.locator("body").get_attribute("data-charts-ready") or "0")
    figures = page.locator(".chart-canvas").count()
    assert drawn == figures > 0, f"{drawn} charts drawn for {figures} chart areas"
    # ECharts draws each chart into a canvas inside its area.
    expect(page.locator(".chart-canvas canvas")).to_have_count(figures)
    return drawn


def _cards(page: Page) -> dict[str, str]:
    """The headline cards: label -> the figure shown."""
    cards: dict[str, str] = page.eval_on_selector_all(
        ".cards .card",
        """cards => Object.fromEntries(cards.map(card => [
            card.querySelector('.card-label').textContent.trim(),
            card.querySelector('.card-value').textContent.trim(),
        ]))""",
    )
    return cards


def _area_rows(page: Page) -> dict[str, list[str]]:
    """The 下级区划 table: area name -> cells (在册/流动/留守/困境/重点关爱)."""
    rows = page.eval_on_selector_all(
        ".area-table tbody tr",
        "rows => rows.map(row => Array.from(row.cells, cell => cell.textContent.trim()))",
    )
    return {row[0]: row[1:] for row in rows}


def _category_axis(page: Page, chart_id: str) -> str:
    """Which axis ("x" or "y") of a drawn bar chart carries its categories."""
    lying = page.locator(f'[data-chart="{chart_id}"]').evaluate(
        "node => echarts.getInstanceByDom(node).getOption().yAxis[0].type === 'category'"
    )
    return "y" if lying else "x"


def _click_bar(page: Page, chart_id: str, category: str) -> None:
    """Click the middle of the first series' bar of ``category`` in a drawn chart, as a user
    would (standing or lying bars alike)."""
    area = page.locator(f'[data-chart="{chart_id}"]')
    area.scroll_into_view_if_needed()
    x, y = area.evaluate(
        """(node, category) => {
            const chart = echarts.getInstanceByDom(node);
            const option = chart.getOption();
            const lying = option.yAxis[0].type === "category";
            const index = (lying ? option.yAxis : option.xAxis)[0].data.indexOf(category);
            const value = option.series[0].data[index];
            if (index < 0 || !value) throw new Error(`no bar for ${category}`);
            const point = lying ? [value / 2, index] : [index, value / 2];
            return chart.convertToPixel({seriesIndex: 0}, point);
        }""",
        category,
    )
    box = area.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + x, box["y"] + y)


def _open_dashboard_from_navigation(page: Page) -> None:
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="统计分析").click()
    page.wait_for_url("**/stats/")
    _wait_for_charts(page)


def _county_staff_on_a_desk(page: Page, base: str, clerk: User) -> None:
    page.set_viewport_size(DESKTOP)
    _as(page, base, clerk)
    _open_dashboard_from_navigation(page)
    county = Division.objects.get(code=COUNTY)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"统计分析驾驶舱：{county.name}")
    children = _residents()
    count = Child.objects.filter(present=True, is_resident=True).count()
    cards = _cards(page)
    assert cards["在册儿童"] == str(count), cards
    assert count > 0
    assert cards["流动儿童"] == str(sum(child.is_migrant for child in children))
    assert cards["留守儿童"] == str(sum(child.is_left_behind for child in children))
    # County staff see the figures as they are: the rows of the towns add up to the county.
    towns = _area_rows(page)
    assert sum(int(cells[0]) for cells in towns.values()) == count
    # Months stand along the x axis; the (twenty) services lie down, one readable row each.
    assert _category_axis(page, "cases") == "x"
    assert _category_axis(page, "coverage") == "y"
    screenshot(page, "stats_dashboard_desktop.png")

    # Drill down by clicking the biggest town's bar in the 分布区域 chart.
    by_town = Counter(_town_of(child) for child in children)
    names = dict(Division.objects.filter(code__in=by_town).values_list("code", "name"))
    order = sorted(names)  # the chart's categories are the towns in code order
    biggest = max(order, key=lambda code: by_town[code])
    _click_bar(page, "areas", names[biggest])
    page.wait_for_url(f"**/stats/?division={biggest}")
    _wait_for_charts(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"统计分析驾驶舱：{names[biggest]}")
    assert _cards(page)["在册儿童"] == str(by_town[biggest])

    # Back up through the breadcrumb, then down through the table of towns.
    crumbs = page.get_by_role("navigation", name="区划层级")
    expect(crumbs).to_have_text(f"{county.name} › {names[biggest]}")
    crumbs.get_by_role("link", name=county.name).click()
    _wait_for_charts(page)
    smallest = min(order, key=lambda code: by_town[code])
    page.locator(".area-table").get_by_role("link", name=names[smallest]).click()
    page.wait_for_url(f"**/stats/?division={smallest}")
    _wait_for_charts(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"统计分析驾驶舱：{names[smallest]}")
    expect(crumbs.locator("strong")).to_have_text(names[smallest])
    expect(crumbs.get_by_role("link", name=county.name)).to_be_visible()
    assert _cards(page)["在册儿童"] == str(by_town[smallest])
    villages = _area_rows(page)
    assert sum(int(cells[0]) for cells in villages.values()) == by_town[smallest]

    crumbs.get_by_role("link", name=county.name).click()
    _wait_for_charts(page)
    _standard_tables(page, county, count)


def _standard_tables(page: Page, county: Division, count: int) -> None:
    """From the county's dashboard to its seven standard tables and their XLSX."""
    page.get_by_role("link", name="分类统计表").click()
    page.wait_for_url("**/stats/tables/**")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"分类统计表：{county.name}")
    for title in ("表1 规模", "表2 年龄结构", "表3 分布区域", "表4 健康状况", "表5 学业状况",
                  "表6 监护情况", "表7 参保情况"):  # fmt: skip
        expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()
    total = page.locator(".stat-table").first.locator("tr.total-row td").nth(1)
    expect(total).to_have_text(str(count))
    with page.expect_download() as download:
        page.get_by_role("link", name="下载 XLSX（七张表）").click()
    assert download.value.suggested_filename == f"分类统计表_{county.name}.xlsx"
    screenshot(page, "stats_tables_desktop.png")


def _county_staff_on_a_phone(page: Page, base: str) -> None:
    page.set_viewport_size(PHONE)
    page.goto(f"{base}/stats/")
    _wait_for_charts(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    screenshot(page, "stats_dashboard_phone.png")
    assert width <= PHONE["width"], f"the dashboard scrolls sideways on a phone ({width}px)"
    # Every chart fits the screen's width.
    widths = page.eval_on_selector_all(
        ".chart-canvas canvas", "nodes => nodes.map(node => node.getBoundingClientRect().right)"
    )
    assert max(widths) <= PHONE["width"], widths

    page.goto(f"{base}/stats/tables/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the tables scroll the page sideways ({width}px)"
    # The wide tables scroll inside their own box instead.
    scrolls = page.locator(".table-scroll").first.evaluate(
        "box => box.scrollWidth > box.clientWidth"
    )
    assert scrolls


def _protected_for_the_city(
    page: Page, base: str, city_user: User, clerk_saw: dict[str, list[str]]
) -> None:
    """City staff drill from the city to the county: the towns' cells under the threshold
    that county staff saw as numbers show as "<5", and no children's figure under 5 shows."""
    page.set_viewport_size(DESKTOP)
    _as(page, base, city_user)
    _open_dashboard_from_navigation(page)
    city = Division.objects.get(code=CITY)
    county = Division.objects.get(code=COUNTY)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"统计分析驾驶舱：{city.name}")
    expect(page.get_by_label("对外报送版（小数保护）")).to_have_count(0)
    # The city's counties lie down in the 分布区域 chart; clicking the county's bar drills down.
    assert _category_axis(page, "areas") == "y"
    _click_bar(page, "areas", county.name)
    page.wait_for_url(f"**/stats/?division={COUNTY}")
    _wait_for_charts(page)
    cards = _cards(page)
    towns = _area_rows(page)
    assert set(towns) == set(clerk_saw)
    small = [
        (town, column)
        for town, cells in clerk_saw.items()
        for column, cell in zip(AREA_COLUMNS, cells, strict=True)
        if int(cell) < THRESHOLD
    ]
    assert small, "the synthetic county should have a town with fewer than 5 in some group"
    for town, column in small:
        assert towns[town][AREA_COLUMNS.index(column)] == f"<{THRESHOLD}", (town, column)
    shown = [*towns.values(), [cards[label] for label in GROUP_CARDS]]
    for cells in shown:
        for cell in cells:
            assert cell == f"<{THRESHOLD}" or int(cell) >= THRESHOLD, cells
    expect(page.locator(".hint").first).to_contain_text("已按小数保护处理")


def test_county_and_city_staff_read_the_dashboard(
    live_server: LiveServer, county_round: Path, page: Page
) -> None:
    base = live_server.url
    clerk = with_password(make_user("u_stats_county", Role.COUNTY_STAFF, COUNTY))
    city_user = with_password(make_user("u_stats_city", Role.CITY_STAFF, CITY))
    errors = collect_errors(page)

    _county_staff_on_a_desk(page, base, clerk)
    page.goto(f"{base}/stats/")
    _wait_for_charts(page)
    clerk_saw = _area_rows(page)
    _county_staff_on_a_phone(page, base)
    _protected_for_the_city(page, base, city_user, clerk_saw)
    assert errors == []
