"""A school teacher files a 强制报告 in chromium; county staff follow the case to 结案 (a
second county staff member approves the plan and the closure); the teacher then sees only
that the report has been dealt with."""

from __future__ import annotations

import pytest
from playwright.sync_api import FilePayload, Page, ViewportSize, expect
from pytest_django.live_server_helper import LiveServer

from tonghu.accounts.roles import Role
from tonghu.cases.models import Case, CaseEvent
from tonghu.conftest import Clock, World, make_user
from tonghu.testing.browser import collect_errors, log_in, screenshot, with_password

pytestmark = pytest.mark.browser
PHONE: ViewportSize = {"width": 360, "height": 780}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _as(page: Page, base: str, user: object) -> None:
    page.context.clear_cookies()
    log_in(page, base, user)  # type: ignore[arg-type]


def _step(page: Page, step: str, fill: dict[str, str], ticks: tuple[str, ...] = ()) -> None:
    """Open the step's form, fill it, submit, and wait for the page to say it was saved."""
    form = page.locator(f'details[data-step="{step}"]')
    if form.get_attribute("open") is None:
        form.locator("summary").click()
    for name, value in fill.items():
        field = form.locator(f'[name="{name}"]')
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    for value in ticks:
        form.locator(f'input[type="checkbox"][value="{value}"]').check()
    form.locator('button[type="submit"]').click()
    expect(page.get_by_role("status")).to_contain_text("已保存")


def _file_as_teacher(page: Page, base: str, teacher: object) -> str:
    """The teacher, on a phone, fills the report form; returns the receipt number shown."""
    page.set_viewport_size(PHONE)
    _as(page, base, teacher)
    page.get_by_role("navigation").get_by_role("link", name="强制报告").click()
    page.get_by_role("link", name="新建强制报告").click()
    page.select_option("#id_reporter_kind", "school")
    page.get_by_label("身体存在多处损伤、严重营养不良、意识不清等疑似遭受侵害").check()
    page.select_option("#id_place", "410402100201")
    page.fill("#id_place_detail", "三年级二班教室")
    page.fill("#id_observed", "学生上课时手臂多处淤青，称在家被父亲打。")
    page.fill("#id_child_name", "测试学生")
    page.select_option("#id_child_sex", "女")
    page.fill("#id_child_age", "9")
    evidence = FilePayload(name="伤情.png", mimeType="image/png", buffer=PNG)
    page.set_input_files("#id_evidence", files=[evidence])
    screenshot(page, "report_form_phone.png")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"the report form scrolls sideways ({width}px)"
    page.get_by_role("button", name="提交报告").click()
    expect(page.get_by_test_id("report-phase")).to_have_text("已提交，等待公安机关受理")
    return page.get_by_test_id("receipt-no").inner_text()


def _up_to_the_plan(page: Page) -> None:
    """County staff record the police's steps, the assessment and a help plan."""
    _step(
        page,
        "accept",
        {"police_unit": "新华分局焦店派出所", "dispatch": "接报后出警，已见到儿童。"},
    )
    _step(
        page,
        "emergency",
        {"placement": "其他近亲属", "note": "护送至外祖母家，已验伤。"},
        ticks=("带离护送", "临时安置", "验伤"),
    )
    _step(page, "notify_town", {"town": "410402100000", "note": "已通报焦店镇。"})
    _step(
        page,
        "assess",
        {
            "safety": "暂住外祖母家，安全。",
            "guardianship": "父亲体罚，母亲外出务工。",
            "health": "软组织挫伤。",
            "risk": "中",
        },
    )
    _step(
        page,
        "propose_plan",
        {"plan": "妇联家庭教育指导；社工每周心理疏导。"},
        ticks=("监护指导", "心理疏导", "civil_affairs", "womens_federation"),
    )


def test_a_teachers_report_is_followed_to_closure(
    live_server: LiveServer, world: World, clock: Clock, page: Page
) -> None:
    base = live_server.url
    teacher = world.users[Role.REPORTER]
    teacher.organisation = "焦店镇中心小学"
    teacher.save()
    with_password(teacher)
    county = with_password(world.users[Role.COUNTY_STAFF])
    approver = with_password(make_user("u_county_approver", Role.COUNTY_STAFF, "410402000000"))
    errors = collect_errors(page)

    receipt = _file_as_teacher(page, base, teacher)
    case = Case.objects.get()
    assert case.reports.get().receipt_no == receipt
    assert case.files.count() == 1

    # County staff, at a desk, take the case through every step.
    page.set_viewport_size({"width": 1280, "height": 900})
    _as(page, base, county)
    page.goto(f"{base}/cases/")
    page.get_by_role("link", name=case.number).click()
    expect(page.get_by_test_id("case-state")).to_contain_text("已报告")
    _up_to_the_plan(page)
    expect(page.get_by_test_id("case-state")).to_contain_text("帮扶方案待审批")
    expect(page.locator('details[data-step="approve_plan"]')).to_have_count(0)  # not one's own

    _as(page, base, approver)
    page.goto(f"{base}/cases/{case.number}/")
    _step(page, "approve_plan", {"opinion": "同意"})
    _as(page, base, county)
    page.goto(f"{base}/cases/{case.number}/")
    _step(page, "feedback", {"note": "已向学校和派出所反馈。"})
    _step(page, "monitor", {"note": "转入跟踪监测。"})

    clock.advance(days=90)
    page.reload()
    _step(page, "follow_up", {"visited_on": clock.now.date().isoformat(), "note": "情况稳定。"})
    _step(
        page,
        "request_closure",
        {"reason": "风险已消除，监护恢复正常", "summary": "监护恢复正常，结案。"},
    )
    _as(page, base, approver)
    page.goto(f"{base}/cases/{case.number}/")
    _step(page, "approve_closure", {"opinion": "同意结案"})
    expect(page.get_by_test_id("case-state")).to_contain_text("已结案")
    screenshot(page, "case_closed_desktop.png")
    steps = case.events.filter(kind=CaseEvent.Kind.STEP).count()
    assert steps == 11

    # The teacher sees that it was dealt with, and nothing of the case.
    page.set_viewport_size(PHONE)
    _as(page, base, teacher)
    page.goto(f"{base}/reports/{receipt}/")
    expect(page.get_by_test_id("report-phase")).to_have_text("已办结")
    assert "外祖母" not in page.content()
    assert errors == []
    assert page.goto(f"{base}/cases/{case.number}/").status == 404  # type: ignore[union-attr]
