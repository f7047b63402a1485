"""Smoke tests in a real browser: what a person clicks, and what the page does in return."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

CJK = re.compile(r"[\u4e00-\u9fff]")
PENDING_COUNT = re.compile(r"(\d+) sign-ups? awaits? confirmation")


def _pending_count(page: Page) -> int:
    text = page.get_by_role("main").get_by_text(PENDING_COUNT).inner_text()
    match = PENDING_COUNT.search(text)
    assert match, text
    return int(match.group(1))


def test_visitor_switches_language_to_english(open_page):
    page, problems = open_page(locale="zh-CN")
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(CJK)

    page.locator("#lang-select").select_option("en")
    with page.expect_navigation():
        page.locator("form.lang").get_by_role("button").click()

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#lang-select")).to_have_value("en")
    english = heading.inner_text().strip()
    assert english
    assert not CJK.search(english), english
    assert re.search(r"[A-Za-z]{3,}", english), english
    assert problems.all() == [], problems


def test_staff_confirms_a_sign_up_in_place(open_page, demo_password):
    page, problems = open_page(locale="en-US")
    page.goto("/")
    page.get_by_role("banner").get_by_role("link", name="Sign in").click()
    page.get_by_label("Username").fill("donghu-staff1")
    page.get_by_label("Password").fill(demo_password)
    page.get_by_role("main").get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("banner").get_by_role("button", name="Sign out")).to_be_visible()

    expect(page).to_have_url(re.compile(r"/$"))
    page.get_by_role("main").get_by_role("link", name="东湖社区").click()
    expect(page).to_have_url(re.compile(r"/c/donghu/$"))
    page.get_by_role("link", name="Residents and sign-ups").click()
    expect(page).to_have_url(re.compile(r"/c/donghu/residents/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Residents and sign-ups")

    pending_before = _pending_count(page)
    confirm = page.get_by_role("button", name="Confirm")
    pending_rows = page.locator("tbody tr").filter(has=confirm)
    expect(pending_rows).to_have_count(pending_before)
    assert pending_before >= 2  # the demo's two, and any a browser test signed up before
    row_id = pending_rows.first.get_attribute("id")
    assert row_id and row_id.startswith("residency-"), row_id
    row = page.locator(f"#{row_id}")
    status = row.locator("td").nth(2)
    expect(status).to_have_text("awaiting confirmation")

    page.evaluate("window.__marker = 1")
    with page.expect_response(
        lambda r: r.request.method == "POST" and "/confirm" in r.url
    ) as response_info:
        row.get_by_role("button", name="Confirm").click()
    response = response_info.value
    assert response.ok, response.status
    assert response.request.headers.get("hx-request") == "true"

    expect(row.get_by_role("button", name="Confirm")).to_have_count(0)
    expect(status).to_have_text("active")
    expect(page.locator(f"#{row_id}")).to_have_count(1)
    expect(pending_rows).to_have_count(pending_before - 1)
    assert page.evaluate("window.__marker") == 1, "the confirm caused a full page load"

    page.reload()
    assert page.evaluate("window.__marker") is None
    expect(row.get_by_role("button", name="Confirm")).to_have_count(0)
    expect(status).to_have_text("active")
    assert _pending_count(page) == pending_before - 1
    expect(pending_rows).to_have_count(pending_before - 1)
    assert problems.all() == [], problems


def test_htmx_and_ws_extension_come_from_our_static_files(open_page, live_server_url):
    page, problems = open_page()
    scripts = []
    page.on(
        "response",
        lambda r: (
            scripts.append((r.url, r.status)) if r.request.resource_type == "script" else None
        ),
    )
    page.goto("/")

    assert page.evaluate("typeof htmx") == "object"
    assert page.evaluate("htmx.version").startswith("2.")
    # hx-ws registers itself on definition by hoisting htmx.createWebSocket.
    assert page.evaluate("typeof htmx.createWebSocket") == "function"
    ws_script = page.locator('script[src*="hx-ws-2"]')
    expect(ws_script).to_have_count(1)
    assert ws_script.get_attribute("src").startswith("/static/")
    assert scripts, "no script was loaded"
    for url, status in scripts:
        assert url.startswith(f"{live_server_url}/static/"), url
        assert status == 200, (url, status)
    assert any("hx-ws-2" in url for url, _ in scripts), scripts
    assert problems.all() == [], problems


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_home_fits_a_phone_without_horizontal_scroll(open_page, locale):
    page, problems = open_page(
        locale=locale, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    page.goto("/")
    assert page.evaluate("window.innerWidth") == 360
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 360, f"home page is {scroll_width}px wide on a 360px phone"
    assert problems.all() == [], problems
