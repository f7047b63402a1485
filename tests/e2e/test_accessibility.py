"""Accessibility of the key pages: axe-core finds nothing serious or critical, each page reads
at 360 px without sideways scrolling, and a person can take part using the keyboard alone.

Each page is reached the way a person gets there (signed in where it needs to be). The axe
figures of every page (violated rules by impact) are printed at the end (`pytest -s`) and
written to ``axe-summary.json`` in pytest's temporary directory.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.axe import IMPACTS, require_axe, run_axe

from .conftest import banner, sign_in

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
LABELS = {
    "zh-CN": {
        "sign_in": "登录",
        "sign_out": "退出登录",
        "username": "用户名",
        "password": "密码",
        "awaiting": "待我表决",
        "message": "您的留言",
        "post": "发表",
        "propose": "提出项目",
        "show": "筛选",
        "vote": "投票",
        "pdf": "正式 PDF 文件",
    },
    "en-US": {
        "sign_in": "Sign in",
        "sign_out": "Sign out",
        "username": "Username",
        "password": "Password",
        "awaiting": "Awaiting my vote",
        "message": "Your message",
        "post": "Post",
        "propose": "Propose a project",
        "show": "Show",
        "vote": "Vote",
        "pdf": "Official PDF",
    },
}
PROPOSAL = r"/c/donghu/proposals/\d+/"
MEETING = r"/c/donghu/meetings/\d+/"


# --- getting to each page, as a person does --------------------------------------------------


def _wait_for_socket(page: Page, path: str, go: Callable[[], object]) -> None:
    """Run ``go`` (a navigation) and wait until the server has answered on the page's socket."""
    frames: list = []

    def on_socket(socket) -> None:
        if path in socket.url:
            socket.on("framereceived", lambda payload: frames.append(payload))

    page.on("websocket", on_socket)
    go()
    for _ in range(150):  # at most 15 s
        if frames:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"the page's {path} socket never answered")


def _first_href(page: Page, scope: str, pattern: str) -> str:
    hrefs = page.locator(f"{scope} a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    href = next((h for h in hrefs if h and re.fullmatch(pattern, h)), None)
    assert href, f"no link matching {pattern} on {page.url}"
    return href


# Each returns what a person must see on a phone besides the page's h1: its primary actions.


def go_home(page: Page, words: dict[str, str], password: str) -> list[Locator]:
    page.goto("/")
    return [page.locator('main a[href="/c/donghu/proposals/"]')]


def go_proposal_list(page: Page, words: dict[str, str], password: str) -> list[Locator]:
    page.goto("/")
    page.locator('main a[href="/c/donghu/proposals/"]').click()
    expect(page).to_have_url(re.compile(r"/c/donghu/proposals/$"))
    main = page.get_by_role("main")
    return [
        main.get_by_role("link", name=words["propose"], exact=True),
        main.get_by_role("button", name=words["show"], exact=True),
    ]


def go_proposal_thread(page: Page, words: dict[str, str], password: str) -> list[Locator]:
    """A resident opens a proposal in consultation from the list; its live thread connects."""
    sign_in(page, "donghu-resident16", password, words)
    page.goto("/c/donghu/proposals/?stage=consultation")
    link = page.locator(f'main a[href="{_first_href(page, "main", PROPOSAL)}"]').first
    _wait_for_socket(page, "/ws/threads/", link.click)
    expect(page).to_have_url(re.compile(PROPOSAL + "$"))
    return [
        page.get_by_label(words["message"]),
        page.get_by_role("main").get_by_role("button", name=words["post"], exact=True),
    ]


def go_ballot(page: Page, words: dict[str, str], password: str) -> list[Locator]:
    """A council member opens the open ballot from "Awaiting my vote" (or, if another test
    of this session has closed it already, the meeting's ballot from the meeting's page)."""
    sign_in(page, "donghu-resident01", password, words)
    banner(page).get_by_role("link", name=words["awaiting"]).click()
    links = page.get_by_role("main").locator('a[href*="/ballots/"]')
    if links.count() == 0:
        page.goto("/c/donghu/council/")
        page.goto(_first_href(page, "main", MEETING))
        links = page.get_by_role("main").locator('a[href*="/ballots/"]')
    links.first.click()
    expect(page).to_have_url(re.compile(r"/c/donghu/ballots/\d+/$"))
    vote = page.get_by_role("main").get_by_role("button", name=words["vote"], exact=True)
    return [vote] if vote.count() else []


def go_meeting_board(page: Page, words: dict[str, str], password: str) -> list[Locator]:
    """The projector's live board of the demo meeting (anonymous); its socket connects."""
    page.goto("/c/donghu/council/")
    meeting = _first_href(page, "main", MEETING)
    _wait_for_socket(page, "/ws/meetings/", lambda: page.goto(meeting + "board/"))
    return [page.locator("#board")]


def go_disclosure(kind: str, showing: str = "") -> Callable[[Page, dict, str], list[Locator]]:
    """The newest published disclosure of a kind (decision, implementation, result), from
    the disclosures page; with ``showing``, the newest of them whose page has that element."""

    def go(page: Page, words: dict[str, str], password: str) -> list[Locator]:
        page.goto("/")
        page.get_by_role("contentinfo").locator('a[href="/disclosures/"]').click()
        expect(page).to_have_url(re.compile(r"/disclosures/$"))
        hrefs = page.locator(f"main li.kind-{kind} h2 a").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
        )
        assert hrefs, f"no {kind} disclosure on {page.url}"
        page.locator(f'main a[href="{hrefs[0]}"]').click()
        expect(page).to_have_url(re.compile(re.escape(hrefs[0]) + "$"))
        page.wait_for_load_state()
        for href in hrefs[1:]:
            if not showing or page.locator(showing).count():
                break
            page.goto(href)
        assert not showing or page.locator(showing).count(), f"no {kind} disclosure shows {showing}"
        return [page.get_by_role("main").get_by_role("link", name=words["pdf"], exact=True)]

    return go


def go_statistics(page: Page, words: dict[str, str], password: str) -> list[Locator]:
    page.goto("/")
    page.get_by_role("contentinfo").locator('a[href="/statistics/"]').click()
    expect(page).to_have_url(re.compile(r"/statistics/$"))
    return [page.get_by_role("main").locator('a[href="/c/donghu/statistics/"]')]


def go_community_statistics(page: Page, words: dict[str, str], password: str) -> list[Locator]:
    page.goto("/statistics/")
    page.get_by_role("main").locator('a[href="/c/donghu/statistics/"]').click()
    expect(page).to_have_url(re.compile(r"/c/donghu/statistics/$"))
    return [page.get_by_role("main").locator('a[href="/open-data/"]')]


def go_evidence(page: Page, words: dict[str, str], password: str) -> list[Locator]:
    """The evidence log: each entry's object in words, a link to its page."""
    page.goto("/")
    page.get_by_role("contentinfo").locator('a[href="/evidence/"]').click()
    expect(page).to_have_url(re.compile(r"/evidence/$"))
    return [page.get_by_role("main").locator("td.object a").first]


@dataclass(frozen=True)
class KeyPage:
    name: str
    go: Callable[[Page, dict[str, str], str], list[Locator]]


KEY_PAGES = [
    KeyPage("home", go_home),
    KeyPage("proposal list", go_proposal_list),
    KeyPage("proposal with live thread", go_proposal_thread),
    KeyPage("ballot", go_ballot),
    KeyPage("meeting board", go_meeting_board),
    KeyPage("decision disclosure", go_disclosure("decision")),
    KeyPage("decision disclosure with a tally", go_disclosure("decision", "#dc-tally")),
    KeyPage("implementation disclosure", go_disclosure("implementation")),
    KeyPage("result disclosure", go_disclosure("result")),
    KeyPage("statistics", go_statistics),
    KeyPage("community statistics", go_community_statistics),
    KeyPage("evidence log", go_evidence),
]
LOCALES = ["zh-CN", "en-US"]


@pytest.fixture(scope="module")
def axe_summary(tmp_path_factory):
    """Collects each page's counts; prints the table and writes the JSON at the end."""
    rows: dict[str, dict] = {}
    yield rows
    if not rows:
        return
    out = tmp_path_factory.mktemp("axe") / "axe-summary.json"
    out.write_text(json.dumps(rows, ensure_ascii=False, indent=2, sort_keys=True))
    width = max(len(key) for key in rows)
    lines = [
        "",
        f"axe-core {next(iter(rows.values()))['axe']}: violated rules by impact",
        f"{'page':{width}}  " + "  ".join(f"{impact:>8}" for impact in IMPACTS) + "  rules",
    ]
    for key, row in sorted(rows.items()):
        counts = "  ".join(f"{row['counts'][impact]:>8}" for impact in IMPACTS)
        lines.append(f"{key:{width}}  {counts}  {', '.join(row['rules']) or '-'}")
    lines.append(f"written to {out}")
    print("\n".join(lines))


def _check_axe(page: Page, summary: dict, name: str, where: str) -> None:
    """Run axe on the page, record its counts, and fail on anything serious or critical."""
    result = run_axe(page)
    summary[f"{name} [{where}]"] = {
        "url": "/" + page.url.split("//", 1)[1].split("/", 1)[1],
        "axe": result.version,
        "counts": result.counts(),
        "rules": sorted(f"{v['id']}:{v['impact']}" for v in result.violations),
    }
    blocking = result.blocking()
    assert not blocking, (
        f"axe-core finds serious or critical violations on the {name} page "
        f"({where}, {page.url}):\n{result.describe(blocking)}"
    )


def _ids(value) -> str:
    return value.name.replace(" ", "-") if isinstance(value, KeyPage) else str(value)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("key_page", KEY_PAGES, ids=_ids)
def test_no_serious_or_critical_axe_violation(
    open_page, demo_password, axe_summary, key_page, locale
):
    require_axe()
    page, problems = open_page(locale=locale, bypass_csp=True)
    key_page.go(page, LABELS[locale], demo_password)
    page.wait_for_load_state()
    _check_axe(page, axe_summary, key_page.name, locale)
    assert problems.all() == [], problems


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("key_page", KEY_PAGES, ids=_ids)
def test_reads_on_a_360px_phone(open_page, demo_password, axe_summary, key_page, locale, tmp_path):
    """No sideways scrolling; the h1 and the primary actions are on screen; and axe again, at
    this width (a table that scrolls inside its box must be reachable by keyboard)."""
    require_axe()
    page, problems = open_page(locale=locale, bypass_csp=True, **PHONE)
    actions = key_page.go(page, LABELS[locale], demo_password)
    page.wait_for_load_state()
    # (A phone zooms out to fit a page wider than its screen: innerWidth then grows too.)
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    if scroll_width > 360:
        page.screenshot(path=tmp_path / "wide.png", full_page=True)
    assert scroll_width <= 360, (
        f"the {key_page.name} page is {scroll_width}px wide on a 360px phone "
        f"({page.url}; screenshot: {tmp_path / 'wide.png'})"
    )
    assert page.evaluate("window.innerWidth") == 360
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_count(1)
    for locator in [heading, *actions]:
        expect(locator.first).to_be_visible()
        _within_width(locator.first)
    _check_axe(page, axe_summary, key_page.name, f"{locale}, 360px")
    assert problems.all() == [], problems


def _within_width(locator: Locator) -> None:
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    assert box, locator
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360 + 0.5, (locator, box)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_communities_menu_opens_on_screen_on_a_phone(open_page, locale):
    page, problems = open_page(locale=locale, **PHONE)
    page.goto("/")
    menu = banner(page).locator("details.menu")
    menu.locator("summary").tap()
    links = menu.get_by_role("link")
    expect(links.first).to_be_visible()
    for n in range(links.count()):
        _within_width(links.nth(n))
    assert problems.all() == [], problems


# --- by keyboard alone -----------------------------------------------------------------------


def _focused(page: Page) -> dict:
    return page.evaluate(
        """() => {
          const el = document.activeElement;
          const style = getComputedStyle(el);
          return {
            tag: el.tagName.toLowerCase(), id: el.id, name: el.getAttribute("name"),
            text: (el.innerText || el.value || "").trim().slice(0, 80),
            href: el.getAttribute("href"),
            outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0,
            shadow: style.boxShadow !== "none",
            visible: !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length),
          };
        }"""
    )


def _tab_to(page: Page, matches: Callable[[dict], bool], what: str, limit: int = 80) -> dict:
    """Press Tab until the focused element matches; check the focus shows on the way."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = _focused(page)
        if focused["tag"] in ("a", "button", "input", "select", "textarea", "summary"):
            assert focused["outline"] or focused["shadow"], f"no visible focus on {focused}"
        if matches(focused):
            return focused
    raise AssertionError(f"{what} was never reached with Tab (last: {_focused(page)})")


@pytest.mark.parametrize("locale", LOCALES)
def test_a_resident_takes_part_by_keyboard_alone(open_page, demo_password, locale):
    words = LABELS[locale]
    page, problems = open_page(locale=locale)
    page.goto("/")

    # The skip link is off screen until the first Tab shows it; Enter moves the focus to the
    # main content, and the next Tab goes on from there.
    hidden = page.locator(".skip-link").bounding_box()
    assert hidden and hidden["x"] + hidden["width"] <= 0, f"the skip link shows unfocused: {hidden}"
    page.keyboard.press("Tab")
    skip = _focused(page)
    assert skip["href"] == "#main", skip
    assert skip["outline"] or skip["shadow"], skip
    box = page.locator(".skip-link").bounding_box()
    assert box and box["x"] >= 0 and box["y"] >= 0, f"the focused skip link is off screen: {box}"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)")

    # The communities menu opens with Enter, its links are reached with Tab, and Space on
    # its summary closes it again.
    page.reload()
    _tab_to(page, lambda f: f["tag"] == "summary", "the communities menu")
    page.keyboard.press("Enter")
    assert page.evaluate("document.querySelector('details.menu').open")
    community = _tab_to(page, lambda f: f["href"] == "/c/donghu/", "东湖社区 in the menu")
    assert community["visible"], community
    while _focused(page)["tag"] != "summary":
        page.keyboard.press("Shift+Tab")
    page.keyboard.press("Space")
    assert not page.evaluate("document.querySelector('details.menu').open")

    # Sign in: Tab to the link, Enter, type, Enter.
    _tab_to(page, lambda f: f["tag"] == "a" and f["text"] == words["sign_in"], "Sign in")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    _tab_to(page, lambda f: f["name"] == "username", "the username field")
    page.keyboard.type("donghu-resident16")
    page.keyboard.press("Tab")
    assert _focused(page)["name"] == "password"
    page.keyboard.type(demo_password)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(banner(page).get_by_role("button", name=words["sign_out"])).to_be_visible()

    # From the home page to the community's proposals, to those in consultation, to one.
    _tab_to(page, lambda f: f["href"] == "/c/donghu/proposals/", "See its proposals")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    stage = "/c/donghu/proposals/?stage=consultation"
    _tab_to(page, lambda f: f["href"] == stage, "the consultation stage link")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(re.escape(stage) + "$"))
    proposal = _tab_to(
        page,
        lambda f: bool(f["href"] and re.fullmatch(PROPOSAL, f["href"])),
        "a proposal in consultation",
    )
    _wait_for_socket(page, "/ws/threads/", lambda: page.keyboard.press("Enter"))
    expect(page).to_have_url(re.compile(re.escape(proposal["href"]) + "$"))

    # Post a message in its live thread; it appears without a page load.
    text = f"键盘留言 keyboard {uuid.uuid4().hex[:8]}"
    _tab_to(page, lambda f: f["tag"] == "textarea" and f["name"] == "body", "the message box")
    page.keyboard.type(text)
    _tab_to(page, lambda f: f["tag"] == "button" and f["text"] == words["post"], "Post")
    page.evaluate("window.__marker = 1")
    page.keyboard.press("Enter")
    expect(page.locator("article.thread-message", has_text=text)).to_have_count(1)
    expect(page.get_by_label(words["message"])).to_have_value("")
    assert page.evaluate("window.__marker") == 1, "posting reloaded the page"

    # The language switcher: Shift+Tab back up to it, pick the other language with an arrow
    # key, Tab to its button, Enter: the same page comes back in the other language.
    other = "en" if locale == "zh-CN" else "zh-hans"
    for _ in range(400):
        page.keyboard.press("Shift+Tab")
        if _focused(page)["id"] == "lang-select":
            break
    else:
        raise AssertionError("the language switcher was never reached with Shift+Tab")
    page.keyboard.press("ArrowDown" if other == "en" else "ArrowUp")
    assert page.evaluate("document.activeElement.value") == other
    page.keyboard.press("Tab")
    switch = _focused(page)
    assert switch["tag"] == "button" and (switch["outline"] or switch["shadow"]), switch
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("lang", "en" if other == "en" else "zh-CN")
    expect(page).to_have_url(re.compile(re.escape(proposal["href"]) + "$"))
    assert problems.all() == [], problems
