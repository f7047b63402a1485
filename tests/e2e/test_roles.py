"""Every role on a 390 px phone, in the normal look and in 长辈版 (large text).

Each role's demo sign-in opens the home page, finds there what is theirs (a visitor: the
programme; a resident: their proposals; a member: the ballots awaiting their vote; staff: the
work queue; ...) and does their main task by tapping through, as a person does. Every page on
the way reads without sideways scrolling and with nothing serious or critical for axe; in
长辈版 its body text is at least 20 px.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from .axe import require_axe, run_axe
from .conftest import SIGN_IN_WORDS, _demo_server, _open_page, banner, sign_in

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
PROPOSAL = re.compile(r"/c/donghu/proposals/\d+/$")

# Each role's demo sign-in (seed_demo prints the list; None: a visitor).
ROLES = {
    "visitor": None,
    "resident": "donghu-resident16",
    "pending-resident": "donghu-resident24",
    "council-member": "donghu-resident01",
    "staff": "donghu-staff1",
    "grid-worker": "donghu-grid1",
    "district-admin": "admin",
    "expert": "donghu-expert1",
}

MEASURE = """() => ({
  scrollWidth: document.documentElement.scrollWidth,
  bodyFont: parseFloat(getComputedStyle(document.body).fontSize),
  large: document.documentElement.classList.contains("large-text"),
})"""


def _switch(page: Page):
    return page.get_by_role("banner").locator(".large-text-switch button")


class Walk:
    """The pages one role visits, each checked as it is reached."""

    def __init__(self, page: Page, large: bool):
        self.page = page
        self.large = large
        self.seen: list[str] = []

    def check(self, name: str) -> None:
        page = self.page
        page.wait_for_load_state()
        m = page.evaluate(MEASURE)
        where = f"{name} ({page.url})"
        assert m["large"] == self.large, f"{where}: 长辈版 is {'off' if self.large else 'on'}"
        assert m["scrollWidth"] <= 390, f"{where} is {m['scrollWidth']} px wide at 390 px"
        if self.large:
            assert m["bodyFont"] >= 20, f"{where}: body text is {m['bodyFont']} px"
        result = run_axe(page)
        assert not result.blocking(), f"{where}:\n{result.describe(result.blocking())}"
        self.seen.append(name)


def _main(page: Page):
    return page.get_by_role("main")


def _open_first_proposal(walk: Walk) -> None:
    page = walk.page
    _main(page).locator("a.proposal-link, h2.proposal-title a").first.click()
    expect(page).to_have_url(PROPOSAL)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    walk.check("a proposal")


def visitor(walk: Walk) -> None:
    page, main = walk.page, _main(walk.page)
    expect(main.get_by_role("heading", level=1)).to_have_text("小项目，邻里公开决定")
    expect(main.get_by_role("heading", name="各社区概况")).to_be_visible()
    expect(main.get_by_role("link", name="东湖社区")).to_be_visible()
    walk.check("the programme overview")

    header = banner(page)
    header.get_by_role("searchbox", name="搜索提议和信息公开").fill("路灯")
    header.get_by_role("button", name="搜索", exact=True).click()
    expect(page).to_have_url(re.compile(r"/search/\?q="))
    expect(page.get_by_role("heading", level=1)).to_have_text("搜索提议和信息公开")
    result = _main(page).locator("h2.search-title a").first
    expect(result).to_contain_text("路灯")
    walk.check("the search results")
    result.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("路灯")
    walk.check("a search result")


def resident(walk: Walk) -> None:
    page, main = walk.page, _main(walk.page)
    expect(main.get_by_role("heading", level=1)).to_contain_text("我的")
    expect(main.get_by_role("region", name="我的提议")).to_be_visible()
    expect(main.get_by_role("link", name="提出项目")).to_be_visible()
    walk.check("我的")

    main.get_by_role("link", name="查看该社区的提议").first.click()
    expect(page).to_have_url(re.compile(r"/c/donghu/proposals/$"))
    walk.check("the proposal list")
    _open_first_proposal(walk)

    page.go_back()
    page.go_back()
    _main(page).get_by_role("link", name="提出项目").first.click()
    expect(page).to_have_url(re.compile(r"/c/donghu/proposals/new/$"))
    form = _main(page).locator("form")
    expect(form.get_by_role("textbox").first).to_be_visible()
    walk.check("the new-proposal form")


def pending_resident(walk: Walk) -> None:
    page, main = walk.page, _main(walk.page)
    expect(main.get_by_role("heading", level=1)).to_contain_text("我的")
    expect(main.locator(".pending-banner")).to_contain_text("正在等待确认")
    walk.check("我的, awaiting confirmation")

    main.get_by_role("link", name="查看该社区的提议").first.click()
    expect(page).to_have_url(re.compile(r"/c/donghu/proposals/$"))
    walk.check("the proposal list")
    _open_first_proposal(walk)


def council_member(walk: Walk) -> None:
    page, main = walk.page, _main(walk.page)
    awaiting = main.get_by_role("region", name="待我表决")
    expect(awaiting).to_be_visible()
    walk.check("我的, with ballots awaiting a vote")

    awaiting.locator(".mine-list a").first.click()
    expect(page).to_have_url(re.compile(r"/c/donghu/ballots/\d+/$"))
    expect(page.get_by_role("group", name="您的投票")).to_be_visible()
    expect(page.get_by_role("radio", name="弃权")).to_be_visible()
    walk.check("a ballot awaiting the vote")


def staff(walk: Walk) -> None:
    page, main = walk.page, _main(walk.page)
    queue = main.get_by_role("link", name="待办事项", exact=True)
    expect(queue).to_be_visible()
    walk.check("我的 of staff")

    queue.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("待办事项")
    walk.check("the work queue")
    item = _main(page).locator("li.queue-item > a").first
    title = item.inner_text().strip()
    item.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(title[:8])
    walk.check("a work queue item")


def grid_worker(walk: Walk) -> None:
    page, main = walk.page, _main(walk.page)
    residents = main.get_by_role("link", name="我网格的居民")
    expect(residents).to_be_visible()
    walk.check("我的 of a grid worker")

    residents.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("居民与注册申请")
    walk.check("the residents page")
    _main(page).get_by_role("link", name="按手机号码查找居民").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("按手机号码查找居民")
    expect(_main(page).get_by_role("textbox").first).to_be_visible()
    walk.check("the find-by-phone form")


def district_admin(walk: Walk) -> None:
    page, main = walk.page, _main(walk.page)
    dashboard = main.get_by_role("link", name="本区总览：各社区情况一览")
    expect(dashboard).to_be_visible()
    walk.check("the home page of a district admin")

    dashboard.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("各社区情况一览")
    walk.check("the district dashboard")
    _main(page).get_by_role("link", name="待办事项", exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("待办事项")
    walk.check("a community's work queue")


def expert(walk: Walk) -> None:
    page, main = walk.page, _main(walk.page)
    expect(main.get_by_role("heading", level=1)).to_contain_text("我的")
    walk.check("我的 of an expert")

    main.get_by_role("link", name="查看该社区的提议").first.click()
    expect(page).to_have_url(re.compile(r"/c/donghu/proposals/$"))
    walk.check("the proposal list")
    _open_first_proposal(walk)


TASKS: dict[str, Callable[[Walk], None]] = {
    "visitor": visitor,
    "resident": resident,
    "pending-resident": pending_resident,
    "council-member": council_member,
    "staff": staff,
    "grid-worker": grid_worker,
    "district-admin": district_admin,
    "expert": expert,
}


@pytest.fixture(scope="module")
def site(demo_template: Path) -> Iterator[str]:
    """A demo server of this module's own: the other browser tests vote, close ballots and
    sign people up on the shared one, and each role here needs the demo as seeded."""
    with _demo_server("weishi-e2e-roles-", demo_template) as server:
        yield server.base_url


@pytest.fixture
def phone_page(browser: Browser, site: str) -> Iterator[tuple[Page, object]]:
    page, problems = _open_page(browser, site, "zh-CN", bypass_csp=True, **PHONE)
    yield page, problems
    page.context.close()


@pytest.mark.parametrize("mode", ["normal", "large"])
@pytest.mark.parametrize("role", ROLES)
def test_each_role_walks_its_home_page_and_main_task_on_a_phone(
    phone_page, demo_password, role, mode
):
    require_axe()
    page, problems = phone_page
    username = ROLES[role]
    large = mode == "large"
    if username:
        sign_in(page, username, demo_password, SIGN_IN_WORDS["zh"])
    page.goto("/")
    try:
        if large:
            expect(_switch(page)).to_have_attribute("aria-pressed", "false")
            _switch(page).tap()
            expect(page.locator("html")).to_have_class(re.compile(r"\blarge-text\b"))
            expect(page).to_have_url(re.compile(r"/$"))
        TASKS[role](Walk(page, large))
    finally:
        if large and username:
            # Off again: the choice is kept on the account, shared with the other tests.
            page.goto("/")
            if page.evaluate(MEASURE)["large"]:
                _switch(page).tap()
            expect(page.locator("html")).not_to_have_class(re.compile(r"\blarge-text\b"))
    assert problems.all() == [], problems
