"""`make screenshots`: the home page as each role sees it, at 390 px and 1366 px, in the
normal look and in 长辈版 (large text), saved into screenshots/ (not committed) for a
reviewer to look through.

Not a test of the suite: its name does not match ``test_*.py``, so plain ``pytest`` leaves it
out; `make screenshots` names it. It serves the demo data as the browser tests do (a daphne
on a copy of the seeded database, tests/e2e/conftest.py) and signs in with the demo logins.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .conftest import SIGN_IN_WORDS, sign_in

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "screenshots"

# Each role and its demo sign-in (seed_demo prints the list; None: a visitor).
ROLES = {
    "visitor": None,
    "resident": "donghu-resident16",
    "pending-resident": "donghu-resident24",
    "council-member": "donghu-resident01",
    "expert": "donghu-expert1",
    "staff": "donghu-staff1",
    "grid-worker": "donghu-grid1",
    "district-admin": "admin",
}
WIDTHS = {390: {"height": 844, "is_mobile": True, "has_touch": True}, 1366: {"height": 900}}


def _large_text(page: Page, on: bool) -> None:
    """Set 长辈版 through the header's switch, as a person does."""
    html = page.locator("html")
    is_on = "large-text" in (html.get_attribute("class") or "").split()
    if is_on != on:
        page.get_by_role("banner").locator(".large-text-switch button").click()
        page.wait_for_load_state()
    expect(page.get_by_role("banner").locator(".large-text-switch button")).to_have_attribute(
        "aria-pressed", "true" if on else "false"
    )


@pytest.mark.parametrize("role", ROLES)
def test_home_page(browser, live_server_url, demo_password, role):
    OUT.mkdir(exist_ok=True)
    for width, options in WIDTHS.items():
        height = options["height"]
        extra = {k: v for k, v in options.items() if k != "height"}
        context = browser.new_context(
            base_url=live_server_url,
            locale="zh-CN",
            viewport={"width": width, "height": height},
            **extra,
        )
        context.set_default_timeout(15_000)
        page = context.new_page()
        try:
            if ROLES[role]:
                sign_in(page, ROLES[role], demo_password, SIGN_IN_WORDS["zh"])
            for mode, on in (("normal", False), ("large", True)):
                page.goto("/")
                _large_text(page, on)
                path = OUT / f"home-{role}-{width}-{mode}.png"
                page.screenshot(path=path, full_page=True)
                print(path.relative_to(ROOT))
            _large_text(page, False)  # leave the account as it was found
        finally:
            context.close()
