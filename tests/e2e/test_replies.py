"""Replies and writing without syntax in a real browser: a council member presses 「回复」 under
a resident's message, makes a word bold with the toolbar, and the resident sees the reply
appear nested under their message, live. And the share box of a proposal gathering co-signs
copies its link."""

import os
import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import SIGN_IN_WORDS, sign_in
from .test_thread import _live

pytestmark = pytest.mark.e2e

ZH = SIGN_IN_WORDS["zh"]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
WIDE = {"viewport": {"width": 1366, "height": 900}}


def _shots(tmp_path) -> Path:
    """Where screenshots go: $WEISHI_SHOTS if set (to look at them), else the test's tmp."""
    folder = Path(os.environ.get("WEISHI_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _open_stage(page, stage):
    page.goto(f"/c/donghu/proposals/?stage={stage}")
    hrefs = page.locator("main a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    proposal = next(h for h in hrefs if h and re.fullmatch(r"/c/donghu/proposals/\d+/", h))
    page.locator(f'main a[href="{proposal}"]').first.click()
    expect(page).to_have_url(re.compile(r"/c/donghu/proposals/\d+/$"))


def test_a_reply_appears_nested_under_its_message_for_another_reader_live(
    open_page, demo_password, tmp_path
):
    resident, resident_problems = open_page(**PHONE)
    member, member_problems = open_page(**WIDE)
    sign_in(resident, "donghu-resident16", demo_password, ZH)
    sign_in(member, "donghu-resident01", demo_password, ZH)
    _open_stage(resident, "consultation")
    member.goto(resident.url)
    _live(resident)
    _live(member)

    tag = uuid.uuid4().hex[:6]
    question = f"北段的路灯什么时候换？{tag}"
    resident.get_by_label("您的留言").fill(question)
    resident.get_by_role("button", name="发表", exact=True).click()
    on_member = member.locator("article.thread-message", has_text=question)
    expect(on_member).to_have_count(1)

    on_member.get_by_role("link", name="回复").click()
    replying = member.locator(".replying")
    expect(replying).to_be_visible()
    expect(replying).to_contain_text("回复")
    expect(replying).to_contain_text(question[:10])
    box = member.get_by_label("您的留言")
    expect(box).to_be_focused()
    box.fill("下周三")
    box.select_text()
    member.get_by_role("toolbar", name="文字格式").get_by_role("button", name="加粗").click()
    expect(box).to_have_value("**下周三**")
    box.press("End")
    box.press_sequentially(f"开工。{tag}")
    member.get_by_role("button", name="发表", exact=True).click()

    message_id = on_member.get_attribute("data-message-id")
    nested = resident.locator(f"#message-{message_id}-replies article.thread-message")
    expect(nested).to_have_count(1)
    expect(nested).to_contain_text(f"下周三开工。{tag}")
    expect(nested.locator("strong", has_text="下周三")).to_have_count(1)
    expect(resident.locator(".thread-messages").get_by_text("**")).to_have_count(0)
    expect(member.locator(f"#message-{message_id}-replies article.thread-message")).to_have_count(1)
    expect(replying).to_be_hidden()  # the composer starts afresh after the reply

    # The toolbar's buttons and the 「回复」 buttons are big enough for a finger.
    for button in resident.locator(".writing-toolbar button, .reply-link").all()[:6]:
        size = button.bounding_box()
        assert size["height"] >= 44 and size["width"] >= 44, size

    shots = _shots(tmp_path)
    nested.scroll_into_view_if_needed()
    resident.screenshot(path=shots / "reply-390.png")
    member.locator(f"#message-{message_id}").scroll_into_view_if_needed()
    member.screenshot(path=shots / "reply-1366.png")
    assert resident_problems.all() == [], resident_problems
    assert member_problems.all() == [], member_problems


def test_the_share_box_copies_the_link_of_a_proposal_gathering_co_signs(
    open_page, demo_password, tmp_path
):
    for name, options in (("390", PHONE), ("1366", WIDE)):
        page, problems = open_page(**options)
        page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        _open_stage(page, "submitted")
        share = page.locator("section.share")
        expect(share.locator("svg")).to_be_visible()
        # The clipboard answers only the focused page: bring this one to the front, as the
        # person holding the phone has it.
        page.bring_to_front()
        share.get_by_role("button", name="复制链接").click()
        # The clipboard answers asynchronously (slowly on a loaded machine).
        expect(share.get_by_role("status")).to_contain_text("已复制", timeout=15_000)
        url = page.evaluate("navigator.clipboard.readText()")
        assert url == page.url, (url, page.url)
        share.scroll_into_view_if_needed()
        page.screenshot(path=_shots(tmp_path) / f"share-{name}.png")
        assert problems.all() == [], problems


def test_the_share_box_still_copies_when_the_phone_s_clipboard_never_answers(open_page):
    # Some phones leave the Clipboard API's promise hanging (a busy phone, a window that lost
    # focus): the tap must still copy the link, the older way, and say so.
    page, problems = open_page(**PHONE)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.add_init_script(
        "navigator.clipboard.writeText = function () { return new Promise(function () {}); };"
    )
    _open_stage(page, "submitted")
    share = page.locator("section.share")
    page.bring_to_front()
    share.get_by_role("button", name="复制链接").click()
    expect(share.get_by_role("status")).to_contain_text("已复制", timeout=15_000)
    # The link is selected in its box, so a person who doubts it can copy it again by hand.
    selected = page.evaluate("window.getSelection().toString() || document.activeElement.value")
    assert selected == page.url, (selected, page.url)
    assert page.evaluate("navigator.clipboard.readText()") == page.url
    assert problems.all() == [], problems
