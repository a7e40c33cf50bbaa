"""End-to-end check in a real chromium: a child director logs in and sees only their village."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tonghu.accounts.roles import Role
from tonghu.conftest import World
from tonghu.testing.browser import collect_errors, log_in, screenshot, with_password

VILLAGE_CODE = "410402100201"
VILLAGE_NAME = "东湾村"
SIBLING_VILLAGE_NAME = "西湾村"

pytestmark = pytest.mark.browser


def test_child_director_sees_only_own_village(
    live_server: LiveServer, world: World, page: Page, capsys: pytest.CaptureFixture[str]
) -> None:
    director = with_password(world.users[Role.CHILD_DIRECTOR])
    errors = collect_errors(page)
    log_in(page, live_server.url, director)

    scope = page.get_by_test_id("scope")
    expect(scope).to_contain_text(VILLAGE_NAME)
    expect(scope).to_contain_text(VILLAGE_CODE)

    # wait_for_url waited for the load event, which comes after the deferred htmx script.
    assert page.evaluate("typeof window.htmx") == "object", "htmx did not load"

    text = page.inner_text("body")
    html = page.content()
    own = world.child_in(Role.CHILD_DIRECTOR)
    assert own.child_id in text
    assert own.name in text
    outsiders = [child for home, child in world.children_by_home.items() if home != VILLAGE_CODE]
    assert outsiders, "the world fixture should place children outside the village"
    for child in outsiders:
        # Check the markup too, so ids hidden in links or attributes also count as leaks.
        assert child.child_id not in html, f"{child.child_id} (outside the village) is shown"
        assert child.name not in html, f"{child.name} (outside the village) is shown"
    assert SIBLING_VILLAGE_NAME not in html

    shot = screenshot(page, "director_home.png")
    with capsys.disabled():
        print(f"\nscreenshot: {shot}")  # noqa: T201
    assert errors == []
