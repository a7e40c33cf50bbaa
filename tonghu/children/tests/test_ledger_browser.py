"""The ledger in a real chromium: a county clerk filters the list, opens a child's file, sees
each value with its source and the disagreements, and corrects a value with a reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, ViewportSize, expect
from pytest_django.live_server_helper import LiveServer

from tonghu.accounts.roles import Role
from tonghu.children.ledger import child_file
from tonghu.children.models import Child
from tonghu.conftest import make_user
from tonghu.policy import load_profile
from tonghu.testing.browser import collect_errors, log_in, screenshot, with_password

pytestmark = pytest.mark.browser
PHONE: ViewportSize = {"width": 360, "height": 780}


def _migrant_with_disagreement() -> Child:
    profile = load_profile("default")
    for child in Child.objects.filter(is_migrant=True).order_by("child_id")[:200]:
        found = child_file(child=child, profile=profile, role="county_staff", revealed=False)
        if any(row.disagrees for group in found.groups for row in group.rows):
            return child
    raise AssertionError("the synthetic county should hold a migrant whose sources disagree")


def test_a_clerk_reads_and_corrects_a_childs_file(
    live_server: LiveServer, county_round: Path, page: Page
) -> None:
    clerk = with_password(make_user("clerk", Role.COUNTY_STAFF, "410402000000"))
    child = _migrant_with_disagreement()
    errors = collect_errors(page)
    log_in(page, live_server.url, clerk)

    page.goto(f"{live_server.url}/children/?category=migrant")
    expect(page.locator("#results")).to_contain_text("流动")
    migrants = Child.objects.filter(is_migrant=True, present=True).count()
    expect(page.locator("#results")).to_contain_text(f"共 {migrants} 人")

    page.goto(f"{live_server.url}/children/{child.child_id}/")
    for title in ("个人基本情况", "家庭情况", "实际监护情况", "监护类型", "家庭经济来源",
                  "救助帮扶情况", "就学情况", "健康情况", "参保情况"):  # fmt: skip
        expect(page.get_by_role("heading", name=title)).to_be_visible()
    expect(page.locator("#reasons")).to_contain_text("流动儿童（§2）")
    expect(page.locator(".flag").first).to_contain_text("各来源不一致")
    expect(page.locator("#services")).to_contain_text("S06 卫生健康服务")
    screenshot(page, "ledger_file_desktop.png")

    page.select_option("#id_field", "name")
    page.fill("#id_value", "更正后姓名")
    page.fill("#id_reason", "与户口本核对")
    page.get_by_role("button", name="保存更正").click()
    expect(page.locator("#corrections")).to_contain_text("已保存更正")
    expect(page.locator("#history")).to_contain_text("更正后姓名")
    expect(page.locator("#history")).to_contain_text("与户口本核对")
    expect(page.get_by_role("heading", level=1)).to_contain_text("更正后姓名")

    page.set_viewport_size(PHONE)
    # Open the file again (a reload would post the correction a second time: 409).
    page.goto(f"{live_server.url}/children/{child.child_id}/")
    width = page.evaluate("document.documentElement.scrollWidth")
    screenshot(page, "ledger_file_phone.png")
    assert width <= PHONE["width"] + 1, f"the file page scrolls sideways on a phone ({width}px)"
    assert errors == []
