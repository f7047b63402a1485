"""Part 1 of the journey (issue 7), in Chinese: from a resident's sign-up to the council's
approval at a meeting.

Every person has a browser context of their own (own cookies); residents and council members
use phones. Elements are found by what a person sees: Chinese labels, roles and names (the
texts are those of ``locale/zh_Hans/LC_MESSAGES/django.po``).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import uuid
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from ..conftest import BrowserProblems, banner
from . import Journey, Site

ZH = "zh-CN"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
PROJECTOR = {"viewport": {"width": 1600, "height": 900}}
SHANGHAI = ZoneInfo("Asia/Shanghai")
LIVE = 15_000  # ms: how long a live update (WebSocket) may take to show

# Demo residents of 东湖社区 (council/demo.py): resident01–15 hold council seats, 16–22 are
# confirmed residents without a seat (they co-sign and can evaluate the project later), 23–24
# await confirmation.
NEIGHBOURS = [f"donghu-resident{n:02d}" for n in range(16, 21)]
MEMBERS = [f"donghu-resident{n:02d}" for n in range(1, 16)]


class _People:
    """The browser contexts opened during part 1, and what each saw go wrong."""

    def __init__(self, site: Site):
        self.site = site
        self.problems: list[tuple[str, BrowserProblems]] = []

    def open(self, who: str, **options) -> Page:
        page, problems = self.site.open_page(locale=ZH, **options)
        self.problems.append((who, problems))
        return page

    def assert_no_problems(self) -> None:
        seen = {who: problems.all() for who, problems in self.problems if problems.all()}
        assert not seen, f"console errors or CSP violations: {seen}"


def _field(scope, label: str):
    """The form field labelled exactly ``label`` (Django adds a full-width colon)."""
    return scope.get_by_label(re.compile("^" + re.escape(label) + "[:：]?$"))


def _crumbs(page: Page):
    return page.get_by_role("navigation", name="当前位置")


def _main(page: Page):
    return page.get_by_role("main")


def _path(page: Page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url).split("#")[0].split("?")[0]


def _sign_in(page: Page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    _field(page, "用户名或手机号").fill(username)
    _field(page, "密码").fill(password)
    _follow(page, _main(page).get_by_role("button", name="登录"))
    expect(banner(page).get_by_role("button", name="退出登录")).to_be_visible()


def _follow(page: Page, target) -> None:
    """Click a link or a button that loads a new page, and wait until it has loaded (its
    scripts have run: htmx is ready for the next click)."""
    with page.expect_navigation():
        target.click()


def _display_name(page: Page) -> str:
    """The signed-in person's display name, as the header shows it (已登录：NAME)."""
    text = banner(page).get_by_text(re.compile("^已登录：")).inner_text()
    return text.split("：", 1)[1].strip()


def _message(page: Page):
    """The flash messages under the header (role status, polite)."""
    return page.locator(".messages")


def _stage(page: Page):
    return page.locator(".proposal-head .tag.stage")


def _go_live(page: Page, url: str, socket_path: str) -> None:
    """Open ``url`` and wait until the server has answered on its socket (``socket_path``)."""
    frames: list = []

    def on_socket(socket):
        if socket_path in socket.url:
            socket.on("framereceived", lambda payload: frames.append(payload))

    page.on("websocket", on_socket)
    page.goto(url)
    for _ in range(150):  # at most 15 s
        if frames:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"the socket {socket_path} of {url} never answered")


def _post_in_thread(page: Page, text: str) -> None:
    _field(page, "您的留言").fill(text)
    page.locator("form.composer").get_by_role("button", name="发表").click()
    expect(page.locator("article.thread-message", has_text=text)).to_have_count(1, timeout=LIVE)
    expect(_field(page, "您的留言")).to_have_value("")


def run(site: Site, journey: Journey) -> None:
    # Pages answer more slowly when the machine runs several browsers and servers at once.
    expect.set_options(timeout=10_000)
    try:
        _run(site, journey)
    finally:
        expect.set_options(timeout=5_000)  # Playwright's default, for whatever runs next


def _run(site: Site, journey: Journey) -> None:  # noqa: PLR0915 (one story, told in order)
    people = _People(site)
    run_id = uuid.uuid4().hex[:6]
    journey.title = f"东湖路口休闲座椅与遮阳棚 {run_id}"

    staff = people.open("staff")
    _sign_in(staff, journey.staff_username, site.password)
    staff_name = _display_name(staff)

    # --- 1. A new resident signs up; staff confirm them -----------------------------------
    with journey.step("sign-up, confirmed by staff"):
        resident = people.open("proposer", **PHONE)
        password = f"Wei-{secrets.token_urlsafe(12)}"
        display_name = f"新居民{run_id}"
        resident.goto("/")
        _follow(resident, banner(resident).get_by_role("link", name="注册"))
        expect(resident.get_by_role("heading", level=1)).to_have_text("注册成为居民")
        form = _main(resident)
        _field(form, "显示名称").fill(display_name)
        _field(form, "所在社区").select_option(label="东湖社区")
        _field(form, "所在网格（如知道请选择）").select_option(label="第二网格")
        _field(form, "手机号码").fill("13912345678")
        _field(form, "住址").fill("东湖社区东湖路18号3栋502")
        _field(form, "户籍状况").select_option(label="户籍居民")
        _field(form, "密码").fill(password)
        _field(form, "再次填写密码").fill(password)
        form.get_by_role("checkbox", name=re.compile("^我同意")).check()
        _follow(resident, form.get_by_role("button", name="注册"))
        # The username is given by the system (signing up never tells whether a name is
        # taken): the welcome page shows it, to write down.
        expect(resident).to_have_url(re.compile(r"/accounts/welcome/$"))
        expect(_message(resident)).to_contain_text(f"欢迎您，{display_name}")
        welcome = _main(resident).get_by_role("region", name="您的用户名")
        username = welcome.locator("code").inner_text().strip()
        assert re.fullmatch(r"[2-9]\d{7}", username), username
        _follow(resident, _main(resident).get_by_role("link", name="进入东湖社区"))
        expect(resident).to_have_url(re.compile(r"/c/donghu/$"))

        # Staff see the sign-up in their work queue and confirm it on the residents' page.
        _follow(staff, banner(staff).get_by_role("link", name="待办事项"))
        signups = _main(staff).get_by_role("region", name=re.compile("待确认的注册申请"))
        expect(signups.get_by_role("link", name=display_name)).to_be_visible()
        _follow(staff, _crumbs(staff).get_by_role("link", name="东湖社区"))
        _follow(staff, _main(staff).get_by_role("link", name="居民与注册申请"))
        row = staff.locator("tbody tr").filter(has_text=display_name)
        expect(row.locator("td").nth(1)).to_have_text("第二网格")
        expect(row.locator("td").nth(2)).to_have_text("待确认")
        row.get_by_role("button", name="确认").click()
        expect(row.locator("td").nth(2)).to_have_text("有效")
        expect(row.get_by_role("status")).to_contain_text("已确认为居民")
        journey.proposer_username, journey.proposer_password = username, password

    # --- 2. The resident proposes a project and submits it ----------------------------------
    with journey.step("proposal written and submitted"):
        resident.reload()
        _follow(resident, _main(resident).get_by_role("link", name="提出项目"))
        form = _main(resident)
        _field(form, "标题").fill(journey.title)
        _field(form, "摘要").fill(
            "在东湖路口公交站旁安装四张休闲座椅和一座遮阳棚，方便老人候车歇脚。"
        )
        _field(form, "详细描述").fill(
            "## 问题\n\n"
            "东湖路口公交站**没有座椅**，老人候车只能站着，夏天暴晒。\n\n"
            "## 建议\n\n"
            "- 安装四张防腐木休闲座椅\n"
            "- 搭建一座遮阳棚\n"
        )
        _field(form, "项目类型").select_option(label="工程类")
        _field(form, "细类").select_option(label="公共设施")
        _field(form, "社区内的位置").fill("东湖路口公交站旁")
        _field(form, "受益人群").fill("候车的老人和带孩子的家长")
        _field(form, "预估费用（元）").fill("48000")
        _follow(resident, form.get_by_role("button", name="提交", exact=True))
        expect(resident).to_have_url(re.compile(r"/c/donghu/proposals/\d+/$"))
        expect(resident.get_by_role("heading", level=1)).to_have_text(journey.title)
        expect(_stage(resident)).to_have_text("征集附议中")
        # The Markdown description is rendered: a heading and a list.
        description = resident.locator(".proposal .user-text").first
        expect(description.get_by_role("heading", name="建议")).to_be_visible()
        expect(description.get_by_role("listitem")).to_have_count(2)
        expect(description.locator("strong")).to_have_text("没有座椅")
        journey.proposal_url = _path(resident)

    # --- 3. Five neighbours co-sign on their phones ------------------------------------------
    with journey.step("five neighbours co-sign on phones"):
        neighbours: dict[str, Page] = {}
        threshold = len(NEIGHBOURS)
        for n, username in enumerate(NEIGHBOURS, start=1):
            phone = people.open(username, **PHONE)
            _sign_in(phone, username, site.password)
            phone.goto(journey.proposal_url)
            box = phone.get_by_role("region", name="附议")
            box.get_by_role("button", name="附议").click()
            if n < threshold:
                expect(box.locator(".message[role=status]")).to_have_text("感谢您附议该提议。")
                expect(box.locator(".cosign-count")).to_have_text(f"{n} / {threshold}")
            else:
                # The fifth co-sign moves it to review: the page reloads with the news.
                expect(_message(phone)).to_contain_text("该提议已获得足够支持")
                expect(_stage(phone)).to_have_text("审核中")
                expect(box).to_contain_text(f"{threshold} 位居民已附议")
            journey.cosigners.append(username)
            neighbours[username] = phone
        resident.reload()
        expect(_stage(resident)).to_have_text("审核中")
        for username in journey.cosigners[1:]:  # one neighbour stays for the debate
            neighbours.pop(username).context.close()

    # --- 4. Staff find it admissible: consultation opens with a live thread -----------------
    with journey.step("found admissible, consultation opens"):
        _follow(staff, banner(staff).get_by_role("link", name="待办事项"))
        to_review = _main(staff).get_by_role("region", name=re.compile("待审核的提议"))
        _follow(staff, to_review.get_by_role("link", name=journey.title))
        expect(_stage(staff)).to_have_text("审核中")
        for check in (
            "属于民生微实事范围",
            "未超过该项目类型的费用上限",
            "不属于物业管理职责",
            "不与政府项目重复",
            "位于本社区",
        ):
            _field(staff, check).check()
        _field(staff, "备注").fill("公交站旁为社区公共区域，不属于物业管理范围。")
        _follow(staff, _main(staff).get_by_role("button", name="记录受理审查清单"))
        expect(_message(staff)).to_contain_text("清单已记录：各项均符合")
        _follow(staff, _main(staff).get_by_role("button", name="予以受理：开始商议"))
        expect(_stage(staff)).to_have_text("商议中")
        expect(staff.get_by_role("heading", name="讨论区")).to_be_visible()

    # --- 5. The expert and two residents debate live while staff watch -----------------------
    with journey.step("live debate with the expert, feasibility"):
        expert = people.open("expert")
        _sign_in(expert, journey.expert_username, site.password)
        expert_name = _display_name(expert)
        # Staff invite the expert into the consultation.
        _field(_main(staff), "专家").select_option(label=expert_name)
        _follow(staff, _main(staff).get_by_role("button", name="邀请"))
        experts = staff.get_by_role("region", name="商议")
        expect(experts.locator("ul.experts")).to_contain_text(expert_name)

        # Staff keep the page open; nobody reloads it from here on.
        _go_live(staff, journey.proposal_url, "/ws/threads/")
        staff.evaluate("window.__marker = 1")
        neighbour = neighbours[journey.cosigners[0]]
        for page in (expert, resident, neighbour):
            _go_live(page, journey.proposal_url, "/ws/threads/")
        # Those in the thread see who is there: staff among them.
        expect(expert.locator(".presence")).to_contain_text(staff_name, timeout=LIVE)

        said = [
            (
                expert,
                f"从结构安全看，遮阳棚需做混凝土基础，座椅建议选防腐木，预算可控。{run_id}",
            ),
            (resident, f"谢谢专家！能否把座椅从四张减到三张，省下的钱加一个垃圾桶？{run_id}"),
            (neighbour, f"我每天在这里等车，支持！遮阳棚请朝西多伸出一点。{run_id}"),
        ]
        for page, text in said:
            _post_in_thread(page, text)
            on_staff = staff.locator("article.thread-message", has_text=text)
            expect(on_staff).to_have_count(1, timeout=LIVE)
        expert_message = staff.locator("article.thread-message", has_text=said[0][1])
        expect(expert_message.locator(".expert-badge")).to_have_text("专家")
        for _page, text in said[1:]:
            message = staff.locator("article.thread-message", has_text=text)
            expect(message.locator(".expert-badge")).to_have_count(0)
        assert staff.evaluate("window.__marker") == 1, "the staff page was reloaded"

        # The expert records a formal opinion; it shows in the thread, marked, live.
        opinion = f"建议实施。遮阳棚基础按当地风荷载设计。{run_id}"
        recommendation = _field(expert, "建议")
        expect(recommendation.locator("option").first).to_have_text("请选择…")
        recommendation.select_option(label="支持")
        _field(expert, "具体意见").fill(opinion)
        _follow(expert, _main(expert).get_by_role("button", name="发布我的意见"))
        expect(_message(expert)).to_contain_text("专家意见")
        opinion_live = staff.locator("article.thread-message", has_text=opinion)
        expect(opinion_live).to_have_count(1, timeout=LIVE)
        expect(opinion_live.locator(".expert-badge")).to_have_text("专家")
        assert staff.evaluate("window.__marker") == 1, "the staff page was reloaded"
        expert.context.close()
        neighbour.context.close()

        # Staff record feasibility and the cost estimate that counts from now on.
        staff.reload()
        _main(staff).get_by_text("记录可行性评估").click()
        _field(staff, "可行").check()
        _field(staff, "费用估算（元）").fill("45000")
        _field(staff, "实施方案").fill(
            "1. 浇筑遮阳棚基础\n2. 安装三张防腐木座椅和一个垃圾桶\n3. 验收后交付使用"
        )
        _follow(staff, _main(staff).get_by_role("button", name="记录", exact=True))
        expect(_message(staff)).to_contain_text("可行性评估")
        review = staff.locator("article.review").first
        expect(review).to_contain_text("45,000")

    # --- 6. The proposer revises the text -----------------------------------------------------
    with journey.step("proposer revises, diff shown"):
        resident.goto(journey.proposal_url)
        _follow(resident, _main(resident).get_by_role("link", name="修订内容"))
        body = _field(resident, "详细描述")
        body.fill(
            body.input_value().replace("四张防腐木休闲座椅", "三张防腐木休闲座椅和一个垃圾桶")
        )
        _field(resident, "修改说明").fill("按专家和邻居的意见调整")
        _follow(resident, _main(resident).get_by_role("button", name="保存修订版本"))
        expect(_message(resident)).to_contain_text("第 2 版已保存")
        revisions = resident.get_by_role("region", name="修订版本")
        expect(revisions).to_contain_text("按专家和邻居的意见调整")
        _follow(resident, revisions.get_by_role("link", name="修改内容"))
        diff = resident.get_by_role("region", name="详细描述")
        expect(diff.locator("ins").first).to_be_visible()
        expect(diff.locator("ins")).to_contain_text(["三"])
        expect(diff.locator("del").first).to_be_visible()

    # --- 7. Staff put it to the council: meeting, agenda, ballot, session --------------------
    with journey.step("meeting scheduled, ballot opened"):
        staff.goto(journey.proposal_url)
        _follow(staff, _main(staff).get_by_role("button", name="提交居民议事会表决"))
        expect(_stage(staff)).to_have_text("表决中")

        _follow(staff, _crumbs(staff).get_by_role("link", name="东湖社区"))
        _follow(staff, _main(staff).get_by_role("link", name="议事会的会议、表决和年度集中表决"))
        _follow(staff, _main(staff).get_by_role("link", name="安排会议"))
        starts = dt.datetime.now(SHANGHAI) + dt.timedelta(hours=1)
        form = _main(staff)
        _field(form, "标题").fill(f"东湖社区居民议事会临时会议 {run_id}")
        _field(form, "开始时间").fill(starts.strftime("%Y-%m-%dT%H:%M"))
        _field(form, "地点").fill("社区党群服务中心二楼会议室")
        form.get_by_role("checkbox", name=re.compile(re.escape(journey.title))).check()
        _follow(staff, form.get_by_role("button", name="安排会议"))
        expect(staff).to_have_url(re.compile(r"/c/donghu/meetings/\d+/$"))
        journey.meeting_url = _path(staff)
        item = staff.locator("li.agenda-item", has_text=journey.title)
        _follow(staff, item.get_by_role("link", name="发起表决"))
        meeting = _field(staff, "所属会议（选填）")
        expect(meeting).not_to_have_value("")  # the meeting it was opened from
        expect(meeting.locator("option").first).to_have_text("请选择…")
        _follow(staff, _main(staff).get_by_role("button", name="发起表决"))
        expect(staff).to_have_url(re.compile(r"/c/donghu/ballots/\d+/$"))
        journey.ballot_url = _path(staff)
        quorum = staff.locator("dt", has_text="法定人数").locator("xpath=..").locator("dd")
        needed = int(re.search(r"至少须 (\d+) 人参加", quorum.inner_text()).group(1))

        staff.goto(journey.meeting_url)
        _follow(staff, staff.get_by_role("button", name="宣布开会"))
        item = staff.locator("li.agenda-item", has_text=journey.title)
        item.get_by_role("button", name="开始讨论").click()
        expect(item.get_by_role("button", name="停止讨论")).to_be_visible()

    # --- 8. The board on the projector; members vote on their phones ------------------------
    with journey.step("members vote on phones, board live"):
        board = people.open("board", **PROJECTOR)
        _go_live(board, journey.meeting_url + "board/", "/ws/meetings/")
        expect(board.locator(".board-item")).to_have_text(journey.title)
        count = board.locator(".board-count .board-big")
        expect(count).to_have_text("0")
        base = int(board.locator(".board-count .board-of").inner_text().strip(" /"))
        # Quorum: `needed` members take part; threshold: more than half of the members.
        voters = max(needed, base // 2 + 1)
        assert voters <= len(MEMBERS), (voters, base)
        for n, username in enumerate(MEMBERS[:voters], start=1):
            member = people.open(username, **PHONE)
            _sign_in(member, username, site.password)
            _follow(member, banner(member).get_by_role("link", name="待我表决"))
            _follow(member, _main(member).get_by_role("link", name=journey.title))
            expect(member).to_have_url(re.compile(re.escape(journey.ballot_url) + "$"))
            member.get_by_role("radio", name="赞成", exact=True).check()
            member.get_by_role("button", name="投票", exact=True).click()
            expect(member.locator("#vote-box")).to_contain_text("您的投票已记录")
            expect(count).to_have_text(str(n), timeout=LIVE)
            member.context.close()

    # --- 9. The clerk closes the ballot: approved, on the board too --------------------------
    with journey.step("ballot closed early: approved"):
        staff.goto(journey.ballot_url)
        _main(staff).get_by_text("提前结束表决").click()
        _field(staff, "提前结束的理由（将予以公开）").fill("会议现场表决完毕，出席成员均已投票。")
        _follow(staff, _main(staff).get_by_role("button", name="立即结束"))
        expect(_message(staff)).to_contain_text("表决已结束：通过")
        expect(board.locator(".board-ballot.closed")).to_be_visible(timeout=LIVE)
        expect(board.locator(".board-outcome")).to_have_text("通过")
        expect(board.locator(".board-result .yes dd")).to_have_text(str(voters))
        staff.goto(journey.proposal_url)
        expect(_stage(staff)).to_have_text("已立项")

    people.assert_no_problems()
