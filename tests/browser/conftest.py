"""Playwright against Debian's chromium and pytest-django's live server.

Never `playwright install`: browser downloads fail here, and Debian's /usr/bin/chromium is kept
patched by the system. Every test in this folder is marked `browser` and is skipped, with the
reason, where chromium is absent.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("TEPAT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run inside one
# unless told it is safe. The test code itself is synchronous, so it is.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    skip = pytest.mark.skip(
        reason=f"{CHROMIUM} is absent: install Debian's chromium (apt-get install chromium) "
        "to run browser tests"
    )
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)
            if not CHROMIUM.exists():
                item.add_marker(skip)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, transactional_db):
    """A fresh browser context (no cookies) whose relative URLs go to the live server."""
    context = browser.new_context(base_url=live_server.url, locale="id-ID")
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


# WCAG 2.1 AA, as the issue asks: axe-core's rule tags for A and AA of 2.0 and 2.1.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(scope="session")
def _axe() -> object:
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


@pytest.fixture
def axe(_axe):
    """`axe(page)` runs axe-core (bundled with axe-playwright-python, nothing downloaded) on the
    page's current state and fails the test on any WCAG 2.1 AA violation, naming each rule and
    the first offending nodes. Call it after every state a test visits (page load, an htmx
    swap, a failed submit)."""

    def check(page, *, label: str = "") -> None:
        results = _axe.run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
        violations = results.response.get("violations", [])
        if violations:
            lines = [f"axe: {len(violations)} WCAG 2.1 AA violation(s) on {label or page.url}"]
            for v in violations:
                targets = [", ".join(n.get("target", [])) for n in v.get("nodes", [])[:3]]
                lines.append(f"- {v['id']} ({v.get('impact')}): {v.get('help')} at {targets}")
            raise AssertionError("\n".join(lines))

    return check


@pytest.fixture
def screenshots_dir() -> Path:
    """Where screenshots go: TEPAT_SCREENSHOTS, else var/test/screenshots."""
    path = Path(os.environ.get("TEPAT_SCREENSHOTS", "var/test/screenshots"))
    path.mkdir(parents=True, exist_ok=True)
    return path
