"""The public service list on a phone (360 px) in a real chromium, without logging in."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, ViewportSize, expect
from pytest_django.live_server_helper import LiveServer

from tonghu.testing.browser import collect_errors, screenshot

pytestmark = pytest.mark.browser
PHONE: ViewportSize = {"width": 360, "height": 780}


def test_a_family_reads_the_service_list_on_a_phone(
    live_server: LiveServer, transactional_db: None, page: Page
) -> None:
    errors = collect_errors(page)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/services/")
    expect(page.get_by_role("heading", name="义务教育服务")).to_be_visible()
    expect(page.locator("#S03")).to_contain_text("7至15周岁")
    width = page.evaluate("document.documentElement.scrollWidth")
    screenshot(page, "services_public_phone.png")
    assert width <= PHONE["width"] + 1, f"the page scrolls sideways on a phone ({width}px)"
    assert errors == []
