"""我的 in a real browser on a phone: a demo resident signs in, lands on their own page, and
follows one of their proposals to its page, which opens with the same stepper."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .axe import require_axe, run_axe
from .conftest import SIGN_IN_WORDS, banner, sign_in

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
# Set to a folder to keep the screenshots a person looks at (390 and 1366 px wide).
SHOTS = os.environ.get("WEISHI_SCREENSHOTS", "")


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def _no_serious_axe_violation(page) -> None:
    result = run_axe(page)
    assert not result.blocking(), result.describe(result.blocking())


def test_a_resident_sees_their_page_and_a_proposals_stepper_on_a_phone(open_page, demo_password):
    require_axe()
    page, problems = open_page(locale="zh-CN", bypass_csp=True, **PHONE)
    sign_in(page, "donghu-resident16", demo_password, SIGN_IN_WORDS["zh"])
    page.goto("/")
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", level=1)).to_contain_text("我的")
    mine = main.get_by_role("region", name="我的提议")
    expect(mine).to_be_visible()
    steppers = mine.locator("ol.stepper-steps")
    expect(steppers.first).to_be_visible()
    # Each proposal's stepper marks one step as the current one, and says what comes next.
    for i in range(steppers.count()):
        expect(steppers.nth(i).locator('[aria-current="step"]')).to_have_count(1)
    expect(mine.get_by_text("下一步").first).to_be_visible()
    expect(main.get_by_role("region", name="我关注的讨论")).to_be_visible()
    expect(main.get_by_role("region", name="通知")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"我的 is {width}px wide on a 390px phone"
    _shot(page, "mine-390")
    _no_serious_axe_violation(page)

    # The proposal in consultation: its page opens with the same stepper, at the same step.
    now = page.locator('[aria-current="step"]', has_text="商议中")
    item = mine.locator("li.mine-proposal").filter(has=now).first
    item.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(r"/c/donghu/proposals/\d+/$"))
    stepper = page.locator(".proposal-stepper")
    expect(stepper.locator('[aria-current="step"] .stepper-name')).to_have_text("商议中（当前）")
    expect(stepper.get_by_text("由谁办理")).to_be_visible()
    expect(stepper.get_by_text("社区工作人员", exact=True)).to_be_visible()
    # The long log is folded behind the stepper, closed.
    log = page.locator("details.timeline-log")
    expect(log).not_to_have_attribute("open", "")
    expect(log.locator("summary")).to_have_text(re.compile(r"^查看全部进程记录（\d+ 条）$"))
    expect(log.locator("ol.timeline")).not_to_be_visible()
    log.locator("summary").tap()
    expect(log.locator("ol.timeline")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the proposal page is {width}px wide on a 390px phone"
    _shot(page, "proposal-390")
    _no_serious_axe_violation(page)
    assert problems.all() == [], problems


def test_on_a_wide_screen_every_step_is_named(open_page, demo_password):
    page, problems = open_page(locale="zh-CN", viewport={"width": 1366, "height": 900})
    sign_in(page, "donghu-resident16", demo_password, SIGN_IN_WORDS["zh"])
    page.goto("/")
    mine = page.get_by_role("main").get_by_role("region", name="我的提议")
    names = mine.locator(".stepper-step .stepper-name")
    expect(names.first).to_be_visible()
    expect(names.nth(8)).to_be_visible()
    _shot(page, "mine-1366")
    mine.locator("li.mine-proposal h3 a").last.click()
    steps = page.locator(".proposal-stepper .stepper-name")
    expect(steps.first).to_be_visible()
    expect(steps.last).to_be_visible()
    _shot(page, "proposal-1366")
    assert problems.all() == [], problems


def _field(scope, label: str):
    """The form field labelled exactly ``label`` (Django adds a full-width colon)."""
    return scope.get_by_label(re.compile("^" + re.escape(label) + "[:：]?$"))


def test_a_new_sign_up_is_told_who_confirms_it_and_offered_no_co_sign(open_page):
    page, problems = open_page(locale="zh-CN", **PHONE)
    page.goto("/accounts/signup/")
    form = page.get_by_role("main")
    _field(form, "显示名称").fill("新来的居民")
    _field(form, "所在社区").select_option(label="东湖社区")
    _field(form, "所在网格（如知道请选择）").select_option(label="第二网格")
    _field(form, "手机号码").fill("13912345679")
    _field(form, "住址").fill("东湖社区东湖路20号1栋101")
    _field(form, "户籍状况").select_option(label="户籍居民")
    _field(form, "密码").fill("Wei-a-long-enough-password-7")
    _field(form, "再次填写密码").fill("Wei-a-long-enough-password-7")
    form.get_by_role("checkbox", name=re.compile("^我同意")).check()
    with page.expect_navigation():
        form.get_by_role("button", name="注册").click()

    banner(page).get_by_role("link", name="我的", exact=True).click()
    pending = page.locator(".pending-banner")
    expect(pending).to_contain_text("您在东湖社区的居民身份正在等待确认")
    expect(pending).to_contain_text("第二网格")
    expect(pending).not_to_contain_text("13912345679")
    _shot(page, "pending-390")

    page.goto("/c/donghu/proposals/?stage=submitted")
    page.locator("main .proposal-title a").first.click()
    expect(page).to_have_url(re.compile(r"/c/donghu/proposals/\d+/$"))
    box = page.locator("#cosign-box")
    expect(box.get_by_text("您的居民身份确认后即可附议。")).to_be_visible()
    expect(box.get_by_role("button", name="附议", exact=True)).to_have_count(0)
    _shot(page, "pending-proposal-390")
    assert problems.all() == [], problems
