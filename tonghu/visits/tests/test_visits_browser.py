"""A child director on a phone: the worklist at 360 px, then a visit recorded while the
network is cut, kept on the device and sent exactly once when the network returns."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, ViewportSize, expect
from pytest_django.live_server_helper import LiveServer

from tonghu.accounts.roles import Role
from tonghu.children.models import Child
from tonghu.conftest import make_user
from tonghu.testing.browser import collect_errors, log_in, screenshot, with_password
from tonghu.visits.models import Visit

pytestmark = pytest.mark.browser
PHONE: ViewportSize = {"width": 360, "height": 780}


def _village_with_left_behind() -> Child:
    child = Child.objects.filter(is_left_behind=True, present=True).order_by("child_id").first()
    assert child is not None
    return child


def test_offline_visit_is_kept_and_sent_once(
    live_server: LiveServer, county_round: Path, page: Page
) -> None:
    child = _village_with_left_behind()
    director = with_password(
        make_user("director", Role.CHILD_DIRECTOR, child.residence_division_id)
    )
    errors = collect_errors(page)
    page.set_viewport_size(PHONE)
    log_in(page, live_server.url, director)

    page.goto(f"{live_server.url}/visits/")
    expect(page.get_by_role("heading", name="走访任务")).to_be_visible()
    item = page.locator(f'a[href="/visits/{child.child_id}/new/"]')
    expect(item).to_contain_text(child.name)
    expect(page.locator(".worklist-counts")).to_contain_text("逾期")
    width = page.evaluate("document.documentElement.scrollWidth")
    screenshot(page, "visits_worklist_phone.png")
    assert width <= PHONE["width"] + 1, f"the worklist scrolls sideways on a phone ({width}px)"

    item.click()  # one tap starts a visit record
    expect(page.get_by_role("heading", level=1)).to_contain_text("走访记录")
    page.fill("#id_note", "入户见到儿童和祖母，父亲春节后返乡")
    page.context.set_offline(True)
    save = page.get_by_role("button", name="保存走访记录")
    save.click()
    expect(page.locator("#outbox-status")).to_contain_text("已保存在本机")
    save.click()  # a second tap while still offline: the same draft, not a second one
    expect(page.locator("#outbox-status")).to_contain_text("已保存在本机")
    assert not Visit.objects.filter(child=child).exists()
    outbox = page.evaluate("JSON.parse(localStorage.getItem('tonghu-visit-outbox')).length")
    assert outbox == 1

    page.context.set_offline(False)  # the browser fires "online": the outbox sends the draft
    expect(page.locator("#outbox-status")).to_contain_text("已发送 1 条")
    assert Visit.objects.filter(child=child).count() == 1
    assert page.evaluate("JSON.parse(localStorage.getItem('tonghu-visit-outbox')).length") == 0
    page.reload()  # nothing left to send: still one visit
    assert Visit.objects.filter(child=child).count() == 1
    assert Visit.objects.get(child=child).note.startswith("入户见到儿童")

    page.goto(f"{live_server.url}/visits/{child.child_id}/")
    expect(page.locator("table.visits")).to_contain_text("入户见到儿童和祖母")
    # The only console errors are the sends the cut network refused (no CSP or script errors).
    assert [e for e in errors if "ERR_INTERNET_DISCONNECTED" not in e] == []


def test_double_tap_online_saves_one_visit(
    live_server: LiveServer, county_round: Path, page: Page
) -> None:
    child = _village_with_left_behind()
    director = with_password(
        make_user("director2", Role.CHILD_DIRECTOR, child.residence_division_id)
    )
    log_in(page, live_server.url, director)
    page.goto(f"{live_server.url}/visits/{child.child_id}/new/")
    page.fill("#id_note", "电话联系")
    page.locator("form.visit-form").evaluate(
        "form => { form.requestSubmit(); form.requestSubmit(); }"
    )
    expect(page.locator("#visit-saved")).to_contain_text("已保存入户走访")
    assert Visit.objects.filter(child=child).count() == 1
