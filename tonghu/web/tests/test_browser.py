"""End-to-end check in a real chromium: a child director logs in and sees only their village.

Drives Debian's chromium (``/usr/bin/chromium``) through Playwright's sync API against
pytest-django's ``live_server``. Requesting ``live_server`` makes the ``db`` fixture (and so
``world``) transactional, so the rows are committed and visible to the server thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import ConsoleMessage, Error, Page, expect, sync_playwright
from pytest_django.live_server_helper import LiveServer

from tonghu.accounts.models import User
from tonghu.accounts.roles import Role
from tonghu.conftest import World

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPO_ROOT = Path(__file__).resolve().parents[3]
SCREENSHOT_DIR = REPO_ROOT / "test-results" / "browser"
PASSWORD = "Dongwan-village-2024!"
VILLAGE_CODE = "410402100201"
VILLAGE_NAME = "东湾村"
SIBLING_VILLAGE_NAME = "西湾村"

pytestmark = pytest.mark.browser


@pytest.fixture
def allow_async_unsafe(monkeypatch: pytest.MonkeyPatch) -> None:
    """Playwright's sync API marks its event loop as running in this thread between calls,
    which makes Django refuse database access unless told it is safe."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def page(allow_async_unsafe: None) -> Iterator[Page]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
        try:
            yield context.new_page()
        finally:
            # While Playwright runs, asyncio sees a running loop in this thread, so Django
            # keeps any connection opened meanwhile in a context-local slot that the test
            # database teardown never sees. Close those here: on PostgreSQL a leftover one
            # makes DROP DATABASE fail at the end of the session.
            connections.close_all()
            context.close()
            browser.close()


@pytest.fixture
def director(world: World) -> User:
    """The village's child director, with a real password to type into the login form."""
    user = world.users[Role.CHILD_DIRECTOR]
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    return user


def collect_errors(page: Page) -> list[str]:
    """Console errors (CSP violations, failed loads) and uncaught exceptions, as they happen."""
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"console: {message.text} at {message.location}")

    def on_page_error(error: Error) -> None:
        errors.append(f"pageerror: {error.message}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    return errors


def test_child_director_sees_only_own_village(
    live_server: LiveServer,
    world: World,
    director: User,
    page: Page,
    capsys: pytest.CaptureFixture[str],
) -> None:
    errors = collect_errors(page)

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", director.username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")

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

    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    screenshot = SCREENSHOT_DIR / "director_home.png"
    page.screenshot(path=screenshot, full_page=True)
    with capsys.disabled():
        print(f"\nscreenshot: {screenshot}")  # noqa: T201

    assert errors == []
