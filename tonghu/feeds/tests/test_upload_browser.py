"""In a real chromium: county staff upload a feed file and read its summary, no page reload."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tonghu.accounts.roles import Role
from tonghu.conftest import EDU_CSV, World
from tonghu.feeds.models import FeedImport
from tonghu.testing.browser import collect_errors, log_in, screenshot, with_password

pytestmark = pytest.mark.browser


def test_county_staff_upload_a_file_and_see_the_summary(
    live_server: LiveServer, world: World, page: Page, tmp_path: Path
) -> None:
    staff = with_password(world.users[Role.COUNTY_STAFF])
    round_ = world.round_for(Role.COUNTY_STAFF, inside=True)
    feed = tmp_path / "edu_migrant_2025.csv"
    feed.write_text(EDU_CSV, encoding="gb18030")
    errors = collect_errors(page)
    log_in(page, live_server.url, staff)

    page.goto(f"{live_server.url}/rounds/{round_.pk}/")
    page.set_input_files("#id_file", str(feed))
    page.get_by_role("button", name="上传并导入").click()

    summary = page.get_by_test_id("import-summary")
    expect(summary).to_be_visible()
    expect(page.get_by_test_id("rows-read")).to_have_text("2 行")
    expect(page.get_by_test_id("rows-accepted")).to_have_text("1 行")
    expect(summary).to_contain_text("缺少姓名：1 行")
    assert page.url.endswith(f"/rounds/{round_.pk}/"), "the summary comes in place, via htmx"
    assert page.eval_on_selector("#upload-progress", "bar => bar.value") == 100
    expect(page.locator("#imports")).to_contain_text("edu_migrant_2025.csv")
    screenshot(page, "upload_summary.png")

    page.get_by_role("button", name="上传并导入").click()
    expect(summary).to_contain_text("该文件此前已导入本轮，未作任何更改")
    assert FeedImport.objects.count() == 1
    assert errors == []
