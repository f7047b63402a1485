"""A live consultation thread in two browsers: a resident posts, staff see it and hide it."""

import re
import uuid

import pytest
from playwright.sync_api import expect

from .conftest import sign_in

pytestmark = pytest.mark.e2e


def _open_consultation(page):
    """Find the demo proposal in consultation through the list, as a person would."""
    page.goto("/c/donghu/proposals/?stage=consultation")
    hrefs = page.locator("main a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    proposal = next(h for h in hrefs if h and re.fullmatch(r"/c/donghu/proposals/\d+/", h))
    page.locator(f'main a[href="{proposal}"]').first.click()
    expect(page).to_have_url(re.compile(r"/c/donghu/proposals/\d+/$"))


def _live(page):
    """Reload the page and wait until the server has answered on its thread socket."""
    frames = []

    def on_socket(socket):
        if "/ws/threads/" in socket.url:
            socket.on("framereceived", lambda payload: frames.append(payload))

    page.on("websocket", on_socket)
    page.reload()
    for _ in range(150):  # at most 15 s
        if frames:
            return
        page.wait_for_timeout(100)
    raise AssertionError("the thread's socket never answered")


def test_a_message_appears_live_and_its_hiding_too(open_page, demo_password):
    resident, resident_problems = open_page(locale="en-US")
    staff, staff_problems = open_page(locale="en-US")
    sign_in(resident, "donghu-resident16", demo_password)
    sign_in(staff, "donghu-staff1", demo_password)
    _open_consultation(resident)
    staff.goto(resident.url)
    _live(resident)
    _live(staff)
    staff.evaluate("window.__marker = 1")
    resident.evaluate("window.__marker = 1")

    text = f"楼道里的灯也坏了 {uuid.uuid4().hex[:8]}"
    resident.get_by_label("Your message").fill(text)
    resident.get_by_role("button", name="Post", exact=True).click()

    on_staff = staff.locator("article.thread-message", has_text=text)
    expect(on_staff).to_have_count(1, timeout=15_000)
    expect(resident.locator("article.thread-message", has_text=text)).to_have_count(1)
    expect(resident.get_by_label("Your message")).to_have_value("")

    on_staff.locator("summary", has_text="Hide").click()
    on_staff.get_by_label("Reason (shown in its place)").fill("含有个人电话号码")
    on_staff.get_by_role("button", name="Hide").click()

    hidden_note = "Hidden by staff: 含有个人电话号码"
    expect(staff.get_by_text(hidden_note)).to_be_visible(timeout=15_000)
    expect(resident.get_by_text(hidden_note)).to_be_visible(timeout=15_000)
    expect(resident.get_by_text(text)).to_have_count(0)
    assert resident.evaluate("window.__marker") == 1, "the resident's page was reloaded"
    assert staff.evaluate("window.__marker") == 1, "the staff page was reloaded"

    resident.reload()
    expect(resident.get_by_text(hidden_note)).to_be_visible()
    expect(resident.get_by_text(text)).to_have_count(0)
    assert resident_problems.all() == [], resident_problems
    assert staff_problems.all() == [], staff_problems
