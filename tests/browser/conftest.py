"""Headless Chromium (Debian's package) driven by Playwright, against a real server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
CHROMIUM = os.environ.get("AGENTSPY_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = (
    Path(os.environ.get("AGENTSPY_TEST_ARTIFACTS", ROOT / "test-artifacts"))
    / "screenshots"
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop marked as running in this
    # thread, which Django's ORM guard mistakes for async code. The tests
    # themselves are plain sync code, so the guard is lifted while it lives.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS
            )
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@dataclass
class Watched:
    """A page plus everything it logged that a clean page never logs."""

    page: object
    base: str
    problems: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path


def _watch(context, base: str) -> Watched:
    page = context.new_page()
    watched = Watched(page=page, base=base)

    def on_console(message) -> None:
        if message.type in ("error", "warning"):
            where = message.location.get("url", "")
            watched.problems.append(f"console {message.type}: {message.text} {where}")

    def on_dialog(dialog) -> None:
        watched.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("console", on_console)
    page.on("pageerror", lambda error: watched.problems.append(f"error: {error}"))
    page.on("dialog", on_dialog)
    page.set_default_timeout(20_000)
    return watched


@pytest.fixture
def web(browser, live_url) -> Iterator[Watched]:
    """A light-mode page; the test fails if it logged errors or opened dialogs."""
    context = browser.new_context(
        viewport={"width": 1440, "height": 900}, color_scheme="light"
    )
    watched = _watch(context, live_url)
    yield watched
    context.close()
    assert watched.problems == []
    assert watched.dialogs == []


@pytest.fixture
def dark_web(browser, live_url) -> Iterator[Watched]:
    context = browser.new_context(
        viewport={"width": 1440, "height": 900}, color_scheme="dark"
    )
    watched = _watch(context, live_url)
    yield watched
    context.close()
    assert watched.problems == []
