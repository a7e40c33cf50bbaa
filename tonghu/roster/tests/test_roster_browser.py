"""The roster on a phone (360 px) in a real chromium: a supervisor reads the town's roster
with its flags and masked phones, and records a training for a director."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, ViewportSize, expect
from pytest_django.live_server_helper import LiveServer

from tonghu.accounts.roles import Role
from tonghu.children.models import Child
from tonghu.conftest import make_tree, make_user
from tonghu.roster.models import Training, Worker
from tonghu.testing.browser import collect_errors, log_in, screenshot, with_password

pytestmark = pytest.mark.browser
PHONE: ViewportSize = {"width": 360, "height": 780}


def _no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"the page scrolls sideways on a phone ({width}px)"


def test_a_supervisor_reads_the_roster_and_records_a_training_on_a_phone(
    live_server: LiveServer, transactional_db: None, page: Page
) -> None:
    make_tree()
    director = make_user("director", Role.CHILD_DIRECTOR, "410402100201")
    director.last_name, director.first_name = "李", "春梅"
    director.save()
    Worker.objects.create(user=director, phone="13812345678")
    Child.objects.bulk_create(
        Child(child_id=f"B{n:05d}", name="儿童", residence_division_id="410402100201",
              is_left_behind=True)
        for n in range(31)
    )  # fmt: skip
    supervisor = with_password(make_user("supervisor", Role.SUPERVISOR, "410402100000"))
    errors = collect_errors(page)
    page.set_viewport_size(PHONE)
    log_in(page, live_server.url, supervisor)

    page.goto(f"{live_server.url}/roster/")
    expect(page.locator("#village-410402100201")).to_contain_text("需增配儿童主任")
    expect(page.locator("#village-410402100202")).to_contain_text("无儿童主任")
    expect(page.locator(f"#worker-{director.pk}")).to_contain_text("138****5678")
    screenshot(page, "roster_phone.png")
    _no_sideways_scroll(page)

    page.get_by_role("link", name="李春梅").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("李春梅")
    page.fill("input[name=on]", "2025-03-01")
    page.fill("input[name=topic]", "留守儿童关爱政策")
    page.fill("input[name=hours]", "3.5")
    page.get_by_role("button", name="登记").click()
    expect(page.locator("#trainings")).to_contain_text("留守儿童关爱政策")
    expect(page.locator("main")).to_contain_text("已登记培训记录")
    screenshot(page, "roster_worker_phone.png")
    _no_sideways_scroll(page)
    (training,) = Training.objects.all()
    assert str(training.hours) == "3.5"
    assert errors == []
