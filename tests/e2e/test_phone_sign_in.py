"""In a real browser: a grid worker registers a resident who is not online, finds her by her
mobile number and gives her a password on paper; she signs in on her phone (390 px) by typing
`+86 139 1111 2222`, and chooses her own password."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from .axe import require_axe, run_axe
from .conftest import _demo_server, _open_page, banner, sign_in

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
WIDE = {"viewport": {"width": 1366, "height": 900}}
# Screenshots to look at: kept when E2E_SCREENSHOTS names a folder, else in pytest's tmp_path.
SHOTS = os.environ.get("E2E_SCREENSHOTS")


@pytest.fixture(scope="module")
def site(demo_template: Path) -> Iterator[str]:
    """A demo server of this module's own: it registers a resident, which no other test expects."""
    with _demo_server("weishi-e2e-phone-", demo_template) as server:
        yield server.base_url


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(SHOTS) if SHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def no_sideways_scroll(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"


def test_a_resident_registered_offline_signs_in_with_her_phone_number_at_390_px(
    browser: Browser, site: str, demo_password: str, shots: Path
):
    worker, worker_problems = _open_page(browser, site, "en-US", bypass_csp=True, **WIDE)
    sign_in(worker, "donghu-grid1", demo_password)

    # Registered on paper by her grid worker, with her number as she says it.
    worker.goto("/c/donghu/residents/")
    worker.get_by_role("link", name="Register a resident who is not online").click()
    worker.get_by_label("Display name").fill("王阿姨")
    worker.get_by_label("Grid").select_option(index=1)
    worker.get_by_label("Mobile phone").fill("139 1111 2222")
    worker.get_by_label("Address").fill("东湖社区桂园街3号")
    worker.get_by_label("Household status").select_option("registered")
    worker.get_by_role("main").get_by_role("button", name="Register").click()
    expect(worker.get_by_role("heading", level=1)).to_have_text("王阿姨")

    # A second time with the number written another way: refused on the field, nothing saved.
    worker.goto("/c/donghu/residents/new/")
    worker.get_by_label("Display name").fill("王阿姨的邻居")
    worker.get_by_label("Grid").select_option(index=1)
    worker.get_by_label("Mobile phone").fill("+86 139-1111-2222")
    worker.get_by_label("Address").fill("东湖社区桂园街5号")
    worker.get_by_label("Household status").select_option("registered")
    worker.get_by_role("main").get_by_role("button", name="Register").click()
    expect(worker.locator(".field.has-error")).to_contain_text(
        "already on file for another resident of this district"
    )
    worker.screenshot(path=shots / "register-taken-1366.png", full_page=True)

    # Found by her number, written yet another way; a new password on paper.
    worker.goto("/c/donghu/residents/")
    worker.get_by_role("link", name="Find a resident by mobile number").click()
    worker.get_by_label("The resident's mobile phone").fill("+86 139-1111-2222")
    worker.get_by_role("main").get_by_role("button", name="Find").click()
    expect(worker.get_by_role("heading", level=2)).to_have_text("王阿姨")
    worker.screenshot(path=shots / "find-1366.png", full_page=True)
    no_serious_axe_violation(worker)
    worker.set_viewport_size(PHONE["viewport"])
    no_sideways_scroll(worker)
    worker.screenshot(path=shots / "find-390.png", full_page=True)
    worker.set_viewport_size(WIDE["viewport"])
    worker.get_by_label("I have checked that it is the resident who asks").check()
    worker.get_by_role("button", name="Reset password").click()
    password = worker.locator("code.temporary-password").inner_text().strip()
    assert re.fullmatch(r"[a-z2-9]{10}", password), password
    worker.screenshot(path=shots / "password-1366.png", full_page=True)

    # A number outside her grid worker's grid: "not found", and the number is not shown back.
    worker.goto("/c/donghu/residents/find/")
    worker.get_by_label("The resident's mobile phone").fill("13800000000")
    worker.get_by_role("main").get_by_role("button", name="Find").click()
    expect(worker.get_by_role("main").get_by_role("status")).to_contain_text(
        "None of the residents you look after has this mobile number"
    )
    expect(worker.get_by_label("The resident's mobile phone")).to_have_value("")
    assert worker_problems.all() == [], worker_problems

    # She signs in on her phone, in Chinese, with her number as she writes it.
    resident, problems = _open_page(browser, site, "zh-CN", **PHONE)
    resident.goto("/accounts/login/")
    # The label exactly (Django adds a full-width colon), as the journey finds it.
    resident.get_by_label(re.compile(r"^用户名或手机号[:：]?$")).fill("+86 139 1111 2222")
    resident.get_by_label("密码").fill(password)
    no_sideways_scroll(resident)
    resident.screenshot(path=shots / "sign-in-390.png", full_page=True)
    resident.get_by_role("main").get_by_role("button", name="登录").click()
    # The password her grid worker read is replaced first.
    expect(resident).to_have_url(re.compile(r"/accounts/password_change/$"))
    resident.get_by_label("旧密码").fill(password)
    resident.get_by_label(re.compile(r"^新密码[：:]?$")).fill("Gui-Yuan-Jie-2031")
    resident.get_by_label("再次填写新密码").fill("Gui-Yuan-Jie-2031")
    resident.get_by_role("main").get_by_role("button").click()
    expect(banner(resident).get_by_role("button", name="退出登录")).to_be_visible()

    # Next time, her number in full-width digits and her own password.
    banner(resident).get_by_role("button", name="退出登录").click()
    resident.goto("/accounts/login/")
    resident.get_by_label("用户名或手机号").fill("１３９ １１１１ ２２２２")
    resident.get_by_label("密码").fill("Gui-Yuan-Jie-2031")
    resident.get_by_role("main").get_by_role("button", name="登录").click()
    expect(banner(resident).get_by_role("button", name="退出登录")).to_be_visible()
    assert problems.all() == [], problems


def no_serious_axe_violation(page: Page) -> None:
    result = run_axe(page)
    assert not result.blocking(), f"{page.url}:\n{result.describe(result.blocking())}"


def test_the_new_pages_fit_a_390_px_phone(browser: Browser, site: str, demo_password, shots):
    require_axe()
    # axe is injected as a script, which the pages' Content-Security-Policy would refuse.
    page, problems = _open_page(browser, site, "zh-CN", bypass_csp=True, **PHONE)
    page.goto("/accounts/login/")
    no_serious_axe_violation(page)
    page.goto("/accounts/signup/")
    expect(page.get_by_text("登录时也可以用手机号代替用户名。")).to_be_visible()
    no_sideways_scroll(page)
    page.screenshot(path=shots / "signup-390.png", full_page=True)
    sign_in(
        page,
        "donghu-grid1",
        demo_password,
        {"username": "用户名", "password": "密码", "sign_in": "登录", "sign_out": "退出"},
    )
    page.goto("/c/donghu/residents/find/")
    page.get_by_label("居民的手机号码").fill("138-0000-0000")
    page.get_by_role("main").get_by_role("button", name="查找").click()
    expect(page.get_by_role("main").get_by_role("status")).to_contain_text("在您负责的居民中")
    no_sideways_scroll(page)
    no_serious_axe_violation(page)
    page.screenshot(path=shots / "not-found-390.png", full_page=True)
    page.goto("/c/donghu/residents/")
    no_sideways_scroll(page)
    page.screenshot(path=shots / "residents-390.png", full_page=True)
    assert problems.all() == [], problems
