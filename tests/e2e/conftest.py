"""Browser fixtures: one headless Debian Chromium per session, a fresh context per test.

Playwright's sync API runs an asyncio loop in the test thread, so Django's database calls
made there (seeding, raising alerts) would raise SynchronousOnlyOperation without the
variable below. It must be set before any test touches the database.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings

from accounts.demo import seed_users
from core.demo import DemoOptions

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
DEMO_PASSWORD = "demo-pass"
# Wide enough for Bootstrap's navbar-expand-lg, so the user menu is not collapsed.
VIEWPORT = {"width": 1280, "height": 800}
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Return test-artifacts/e2e/, where the tests save their screenshots."""
    path = Path(settings.BASE_DIR) / "test-artifacts" / "e2e"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator:
    """Launch Debian's Chromium once for the whole session (no browser is downloaded)."""
    if not CHROMIUM.exists():
        pytest.skip(f"needs Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def demo_users(transactional_db) -> None:
    """Create the eight demo users (username = role code, password demo-pass), as seed_demo does."""
    # Only the users: the demo customers, KYC and hits of seed_demo would crowd every screen.
    seed_users(DemoOptions(), log=lambda message: None)


@pytest.fixture
def page(browser, live_server, demo_users) -> Iterator:
    """Open a page in a fresh context (no cookies) on the live server.

    The browser asks for English: the app must answer in Japanese whatever the browser wants.
    """
    context = browser.new_context(
        base_url=live_server.url,
        locale="en-US",
        timezone_id="Asia/Tokyo",
        viewport=VIEWPORT,
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def log_in(page) -> Callable[..., None]:
    """Return a function filling in the login form (opened via ``/``) and submitting it."""

    def fill_and_submit(username: str, password: str = DEMO_PASSWORD) -> None:
        page.goto("/")
        page.wait_for_url("**/accounts/login/**")
        page.locator("input[name=username]").fill(username)
        page.locator("input[name=password]").fill(password)
        page.locator("form[method=post] button[type=submit]").click()
        page.wait_for_load_state()

    return fill_and_submit


@pytest.fixture
def navigate(page) -> Callable[..., None]:
    """Return a function opening a menu entry, through its group's dropdown when it has one."""

    def go(item: str, group: str | None = None) -> None:
        menu = page.locator("#mainNav")
        if group:
            # The user menu is a dropdown too, and its label (the user's name) may share words.
            menu.locator("a.dropdown-toggle:not([data-testid=user-menu])", has_text=group).click()
        menu.get_by_role("link", name=item).click()
        page.wait_for_load_state()

    return go
