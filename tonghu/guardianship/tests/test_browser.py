"""A child director assesses a family on a phone (360 px) in a real chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, ViewportSize, expect
from pytest_django.live_server_helper import LiveServer

from tonghu.accounts.roles import Role
from tonghu.children.models import Child
from tonghu.conftest import World
from tonghu.guardianship.models import Assessment, InterventionTask
from tonghu.policy import load_profile
from tonghu.testing.browser import collect_errors, log_in, screenshot, with_password

pytestmark = pytest.mark.browser
PHONE: ViewportSize = {"width": 360, "height": 780}


def test_director_assesses_on_a_phone(
    live_server: LiveServer, transactional_db: None, world: World, page: Page
) -> None:
    errors = collect_errors(page)
    child = world.child_in(Role.CHILD_DIRECTOR)
    Child.objects.filter(pk=child.pk).update(is_left_behind=True)
    page.set_viewport_size(PHONE)
    log_in(page, live_server.url, with_password(world.users[Role.CHILD_DIRECTOR]))
    page.goto(f"{live_server.url}/guardianship/{child.child_id}/")
    expect(page.get_by_role("heading", name="监护评估与委托照护")).to_be_visible()
    page.get_by_text("新增评估").click()
    for item in load_profile().assessment.indicators:
        answer = "差" if item.code == "child_safety" else "好"
        page.locator(f'input[name="answer_{item.code}"][value="{answer}"]').check()
    page.get_by_role("button", name="保存评估").click()
    expect(page.get_by_role("status")).to_contain_text("已保存评估")
    expect(page.locator("#grade .grade-red")).to_contain_text("监护缺失")
    page.get_by_text("新增评估").click()
    width = page.evaluate("document.documentElement.scrollWidth")
    screenshot(page, "guardianship_child_phone.png")
    assert width <= PHONE["width"] + 1, f"the page scrolls sideways on a phone ({width}px)"
    assert Assessment.objects.get().grade == "监护缺失"
    assert InterventionTask.objects.count() == 1
    assert errors == []
