"""On a 390 px phone, the selects a city's hundreds of communities and grids would fill: signing
up lists only the chosen community's grids (htmx swaps the select in; without JavaScript a
button lists them), and the disclosure index groups its communities by district and street."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .axe import require_axe, run_axe

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
# Set to a folder to keep the screenshots a person looks at.
SHOTS = os.environ.get("WEISHI_SCREENSHOTS", "")


def _shot(page: Page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def _field(scope, label: str):
    """The form field labelled exactly ``label`` (Django adds a full-width colon)."""
    return scope.get_by_label(re.compile("^" + re.escape(label) + "[:：]?$"))


def _fits(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"
    result = run_axe(page)
    assert not result.blocking(), result.describe(result.blocking())


def _options(select) -> list[str]:
    return select.locator("option").all_inner_texts()


def test_signing_up_lists_only_the_chosen_communitys_grids(open_page):
    require_axe()
    page, problems = open_page(locale="zh-CN", bypass_csp=True, **PHONE)
    page.goto("/accounts/signup/")
    form = page.get_by_role("main")
    community, grid = _field(form, "所在社区"), _field(form, "所在网格（如知道请选择）")
    assert community.locator("optgroup").count() >= 1  # by district and street
    expect(community.locator("optgroup").first).to_have_attribute("label", re.compile(" · "))
    assert _options(grid) == ["（不确定／暂无）"]
    expect(form.get_by_role("button", name="列出该社区的网格")).to_have_count(0)  # JS is on

    community.select_option(label="东湖社区")
    expect(grid.locator("option")).not_to_have_count(1)
    listed = _options(grid)
    assert listed[0] == "（不确定／暂无）" and "第二网格" in listed
    assert not [name for name in listed if "社区" in name]  # its own grids, by their names
    grid.select_option(label="第二网格")
    _fits(page)
    _shot(page, "signup-grids-390")

    community.select_option(index=2)  # another community: the list follows
    expect(grid).not_to_have_value(re.compile(r"\d"))
    assert _options(grid) != listed
    assert problems.all() == [], problems


def test_without_javascript_a_button_lists_the_grids(open_page):
    page, problems = open_page(locale="zh-CN", java_script_enabled=False, **PHONE)
    page.goto("/accounts/signup/")
    form = page.get_by_role("main")
    _field(form, "显示名称").fill("不用脚本的居民")
    _field(form, "所在社区").select_option(label="东湖社区")
    with page.expect_navigation():
        form.get_by_role("button", name="列出该社区的网格").click()
    grid = _field(form, "所在网格（如知道请选择）")
    assert "第二网格" in _options(grid)
    expect(_field(form, "显示名称")).to_have_value("不用脚本的居民")
    expect(form.locator(".error")).to_have_count(0)
    _shot(page, "signup-no-js-390")
    # Enter in a field still signs up (here: refused, the passwords missing), never lists again.
    with page.expect_navigation():
        _field(form, "显示名称").press("Enter")
    expect(_field(form, "密码").locator("xpath=..").locator(".error")).to_have_count(1)
    assert problems.all() == [], problems


def test_the_disclosure_index_groups_its_communities(open_page):
    require_axe()
    page, problems = open_page(locale="zh-CN", bypass_csp=True, **PHONE)
    page.goto("/disclosures/")
    select = page.get_by_role("main").locator('select[name="community"]')
    groups = select.locator("optgroup")
    assert groups.count() >= 1
    expect(groups.first).to_have_attribute("label", re.compile(" · "))
    expect(groups.locator("option", has_text="东湖社区")).to_have_count(1)
    _fits(page)
    _shot(page, "disclosures-390")
    if SHOTS:  # the select's list as a phone would show it, opened (a list box, to be seen)
        select.evaluate("s => { s.size = 12; s.style.height = 'auto'; }")
        select.screenshot(path=str(Path(SHOTS) / "disclosures-communities-390.png"))
    assert problems.all() == [], problems
