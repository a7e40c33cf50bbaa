"""Fixtures and helpers for tests that drive Debian's chromium through Playwright.

Import the fixtures into a test module (``from tonghu.testing.browser import page  # noqa``)
and request ``live_server``: pytest-django then makes the database transactional, so the
rows a test makes are committed and visible to the server thread.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import ConsoleMessage, Error, Page, sync_playwright

from tonghu.accounts.models import User

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
REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = REPO_ROOT / "test-results" / "browser"
PASSWORD = "Browser-test-2024!"


@pytest.fixture
def allow_async_unsafe(monkeypatch: pytest.MonkeyPatch) -> None:
    """Playwright's sync API marks its event loop as running in this thread between calls,
    which makes Django refuse database access unless told it is safe."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def page(allow_async_unsafe: None) -> Iterator[Page]:
    if not CHROMIUM.exists():
        # Only an explicit opt-out skips: CI must never pass without the browser tests.
        if os.environ.get("TONGHU_SKIP_BROWSER") == "1":
            pytest.skip("TONGHU_SKIP_BROWSER=1")
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (or make browser)")
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


def with_password(user: User) -> User:
    """Give a test user a real password to type into the login form."""
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    return user


def log_in(page: Page, base_url: str, user: User) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base_url}/")


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


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / name
    page.screenshot(path=path, full_page=True)
    return path
