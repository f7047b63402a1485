"""Part 2 of the journey: the three disclosures (三公开), in Chinese.

Starts where part 1 stops: the proposal at ``journey.proposal_url`` has just been approved by
a ballot the clerk closed. The minute job drafts the decision disclosure and staff publish it
from their work queue; a resident objects in the publicity period and staff answer in public;
the official PDF downloads and says the right things; the publicity period ends and the
project starts; staff post progress (with a photo) and record completion; residents evaluate
on their phones; the evaluation window closes and staff publish the result; an anonymous
visitor follows the whole story, the Atom feed, the open data and the evidence log; the
evidence chain verifies.

Everything a person does goes through the browser, located by the Chinese a person reads;
only the clock and the minute job (cron in production) run as commands.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

from playwright.sync_api import Page, expect

from ..conftest import ROOT, SIGN_IN_WORDS, banner, sign_in
from . import Journey, Site

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
ATOM = "{http://www.w3.org/2005/Atom}"
PUBLICITY_DAYS = 5  # the councils' default publicity period (公示期)
EVALUATION_DAYS = 14  # disclosure.services.results.EVALUATION_DAYS

OBJECTION = "施工时间请避开居民午休时段（12:00—14:30），并提前在楼道张贴施工告示。"
ANSWER = "已要求施工方仅在工作日 9:00—12:00、14:30—18:00 施工，并提前三天张贴告示。"
PROGRESS = "完成现场勘查和材料进场，开始第一阶段施工。"
ACCEPTANCE = "社区工作站会同居民代表现场验收，项目已按方案完成，验收合格。"
COMMENTS = ["效果很好，谢谢社区！", "基本满意，希望后续加强维护。", ""]
RATINGS = ["满意", "满意", "基本满意"]


# --- Helpers --------------------------------------------------------------------------------


def _status(page: Page):
    return page.get_by_role("status").first


def _yuan(text: str) -> Decimal:
    """¥12,345.60 → Decimal("12345.60")."""
    match = re.search(r"¥\s*([\d,]+\.\d{2})", text)
    assert match, f"no amount in {text!r}"
    return Decimal(match.group(1).replace(",", ""))


def _path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def _fmt_yuan(amount: Decimal) -> str:
    return f"¥{amount:,.2f}"


def _publish_from_queue(staff: Page, community: str, title: str, kind: str) -> str:
    """Staff open their work queue, pick the draft of ``title``'s ``kind`` disclosure and
    publish it; returns the disclosure's path."""
    banner(staff).get_by_role("link", name="待办事项").click()
    expect(staff).to_have_url(re.compile(rf"/c/{community}/queue/$"))
    drafts = staff.get_by_role("region", name=re.compile("待发布的公开信息"))
    drafts.get_by_role("link", name=f"{title} · {kind}").click()
    expect(staff.get_by_role("heading", level=1)).to_have_text(f"{title} · {kind}")
    staff.get_by_role("button", name="发布", exact=True).click()
    expect(_status(staff)).to_contain_text("已发布")
    path = _path(staff.url)
    assert re.fullmatch(r"/disclosures/\d+/", path), path
    return path


def _pdf_text(path: Path) -> str:
    result = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout


def _private_data(site: Site) -> list[str]:
    """Every phone number, ID number and address on the staff side (to look for in public)."""
    out = site.manage(
        "shell",
        "-c",
        "import json\n"
        "from council.models import PrivateData\n"
        "print(json.dumps([v for row in PrivateData.objects.values_list("
        "'phone', 'id_number', 'address') for v in row if v]))",
    )
    values = json.loads(out.strip().splitlines()[-1])
    assert values, "the demo has residents' private data"
    return values


# --- The journey ------------------------------------------------------------------------------


def run(site: Site, journey: Journey) -> None:
    assert journey.title and journey.proposal_url, "part 1 leaves the approved proposal"
    tmp = Path(tempfile.mkdtemp(prefix="weishi-journey-part2-"))
    try:
        _run(site, journey, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run(site: Site, journey: Journey, tmp: Path) -> None:  # noqa: PLR0915 (one story)
    community = journey.community
    title = journey.title
    problems = []

    def open_page(**options) -> Page:
        page, page_problems = site.open_page(locale="zh-CN", **options)
        problems.append(page_problems)
        return page

    residents = [u for u in journey.cosigners if u != journey.proposer_username]
    residents += [f"{community}-resident{n:02d}" for n in range(17, 21)]
    residents = list(dict.fromkeys(residents))

    # 1. The minute job drafts disclosure 1 from the closed ballot; staff publish it.
    with journey.step("decision drafted and published"):
        out = site.manage("minutely")
        assert re.search(r"decisions_drafted [1-9]", out), out
        staff = open_page()
        sign_in(staff, journey.staff_username, site.password, SIGN_IN_WORDS["zh"])
        decision_v1 = _publish_from_queue(staff, community, title, "决议结果公开")
        expect(staff.get_by_role("region", name="公示期", exact=True)).to_contain_text("前提出异议")

    # 2. A resident objects during the publicity period; staff answer it in public; the
    # decision's next version, with the objection and the answer, is published.
    with journey.step("objection lodged and answered"):
        resident = open_page()
        sign_in(resident, residents[0], site.password, SIGN_IN_WORDS["zh"])
        resident.goto(journey.proposal_url)
        panel = resident.get_by_role("region", name="三公开", exact=True)
        panel.get_by_role("link", name="决议结果公开").click()
        expect(resident).to_have_url(re.compile(re.escape(decision_v1) + "$"))
        resident.get_by_label("您的异议").fill(OBJECTION)
        resident.get_by_role("button", name="提交异议").click()
        expect(_status(resident)).to_contain_text("您的异议已提交")
        expect(resident.locator(".objection")).to_contain_text(OBJECTION)

        banner(staff).get_by_role("link", name="待办事项").click()
        objections = staff.get_by_role("region", name=re.compile("待答复的异议"))
        objections.get_by_role("link", name=title).click()
        objection = staff.locator(".objection", has_text=OBJECTION)
        objection.get_by_label("答复（将予以公开）").fill(ANSWER)
        objection.get_by_role("button", name="发布答复").click()
        expect(_status(staff)).to_contain_text("已答复")
        decision_v2 = _publish_from_queue(staff, community, title, "决议结果公开")
        assert decision_v2 != decision_v1
        body = staff.get_by_role("region", name="公开内容", exact=True)
        expect(body).to_contain_text(OBJECTION)
        expect(body).to_contain_text(ANSWER)

        # The answer is public: the resident (and anyone) reads it under their objection.
        resident.reload()
        answered = resident.locator(".objection", has_text=OBJECTION)
        expect(answered.locator(".answer")).to_contain_text(ANSWER)
        expect(resident.get_by_text("最新版本为第 2 版")).to_be_visible()

    # 3. The official PDF downloads and says the right things.
    with journey.step("decision PDF downloaded and checked"):
        visitor = open_page()
        visitor.goto(decision_v2)
        content_hash = (
            visitor.get_by_role("region", name="核验本公开信息", exact=True)
            .locator("dt", has_text="内容的 SHA-256 值")
            .locator("xpath=following-sibling::dd[1]")
            .inner_text()
            .strip()
        )
        assert re.fullmatch(r"[0-9a-f]{64}", content_hash), content_hash
        crumbs = visitor.get_by_role("navigation", name="当前位置")
        community_name = crumbs.get_by_role("link").nth(1).inner_text().strip()
        crumbs.get_by_role("link", name=title).click()
        project_url = _path(visitor.url)
        cost = _yuan(_fact(visitor, "费用"))
        visitor.goto(decision_v2)
        with visitor.expect_download() as download_info:
            visitor.get_by_role("link", name="正式 PDF 文件").click()
        pdf = tmp / "decision.pdf"
        download_info.value.save_as(pdf)
        assert pdf.read_bytes().startswith(b"%PDF")
        text = _pdf_text(pdf)
        flat = re.sub(r"\s+", "", text)
        for expected in (title, community_name, "决议结果公开", "通过", _fmt_yuan(cost)):
            assert re.sub(r"\s+", "", expected) in flat, f"{expected!r} not in the PDF:\n{text}"
        assert "第 1 页" in text, text
        assert content_hash in flat, f"the content hash is not in the PDF:\n{text}"
        for said in (OBJECTION, ANSWER):
            assert re.sub(r"\s+", "", said) in flat, f"{said!r} not in the PDF:\n{text}"

    # 3b. Anyone proves the PDF is in the public log, with the checker and with the page's
    # 「验证」: the scheduler's sequencer places the publication and signs a checkpoint first.
    with journey.step("decision PDF proved in the public log"):
        site.manage("minutely")
        log_key = site.manage("log_key").strip()
        done = subprocess.run(
            [sys.executable, "tools/weishi_verify.py", site.base_url, "--pdf", str(pdf)]
            + ["--log-key", log_key],
            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        assert "disclosure.published" in done.stdout, done.stdout
        visitor.goto(decision_v2)
        check = visitor.locator("[data-log-check]")
        check.get_by_role("button", name="验证").click()
        result = check.get_by_role("status")
        expect(result).to_contain_text("验证通过", timeout=30_000)
        expect(result).to_contain_text("本页内容的哈希值在存证记录第")
        expect(result).to_contain_text(log_key)

    # 4. The publicity period ends with every objection answered: the project starts.
    with journey.step("publicity period ends, project starts"):
        site.advance_clock(dt.timedelta(days=PUBLICITY_DAYS + 1))
        out = site.manage("minutely")
        assert re.search(r"implementations_started [1-9]", out), out
        assert "failed" not in out, out
        visitor.goto(project_url)
        expect(visitor.locator(".project-head .stage")).to_have_text("实施中")
        expect(
            visitor.get_by_role("listitem").filter(has=visitor.locator("#decision-title"))
        ).to_contain_text("公示期已于")

    # 5. Staff post a progress update with a photo, and publish disclosure 2.
    with journey.step("progress posted, disclosure 2 published"):
        photo = tmp / "施工现场.png"
        _make_photo(photo)
        staff.goto(journey.proposal_url)
        staff.get_by_role("region", name="三公开", exact=True).get_by_role(
            "link", name="跟踪项目：决议、进度和结果"
        ).click()
        assert _path(staff.url) == project_url
        project_type = _fact(staff, "项目类型")
        provider = "阳光社工服务中心" if "服务类" in project_type else "东湖建筑工程有限公司"
        staff.get_by_role("link", name="发布实施进度").click()
        # Dated today (the server's clock) unless staff change it.
        expect(staff.get_by_label("日期")).to_have_value(re.compile(r"^\d{4}-\d{2}-\d{2}$"))
        staff.get_by_label("实施内容").fill(PROGRESS)
        staff.get_by_label("完成进度（%）").fill("60")
        spent = (cost * Decimal("0.4")).quantize(Decimal("0.01"))
        staff.get_by_label("累计支出（元）").fill(str(spent))
        select = staff.get_by_label("实施单位")
        option = select.locator("option", has_text=provider).first.get_attribute("value")
        select.select_option(option)
        staff.get_by_label("照片（选填）").set_input_files(str(photo))
        staff.get_by_role("button", name="发布实施进度").click()
        expect(_status(staff)).to_contain_text("实施进度已发布")
        implementation = staff.get_by_role("listitem").filter(has=staff.locator("#progress-title"))
        expect(implementation).to_contain_text(PROGRESS)
        expect(implementation).to_contain_text(provider)
        expect(implementation).to_contain_text(_fmt_yuan(spent))
        expect(implementation.get_by_role("img")).to_have_count(1)
        implementation_v1 = _publish_from_queue(staff, community, title, "实施过程公开")

    # 6. Staff record completion; residents evaluate on their phones.
    with journey.step("completion; residents evaluate on phones"):
        staff.goto(project_url)
        staff.get_by_role("link", name="登记验收和决算").click()
        actual = (cost * Decimal("0.96")).quantize(Decimal("0.01"))
        staff.get_by_label("验收说明（将予以公开）").fill(ACCEPTANCE)
        staff.get_by_label("实际费用（决算，元）").fill(str(actual))
        select = staff.get_by_label("实施单位")
        select.select_option(
            select.locator("option", has_text=provider).first.get_attribute("value")
        )
        staff.get_by_role("button", name="登记验收").click()
        expect(_status(staff)).to_contain_text("验收已登记")

        evaluators = residents[:3]
        for username, rating, comment in zip(evaluators, RATINGS, COMMENTS, strict=True):
            phone = open_page(**PHONE)
            sign_in(phone, username, site.password, SIGN_IN_WORDS["zh"])
            banner(phone).get_by_role("link", name="待我评价").click()
            phone.get_by_role("main").get_by_role("link", name=title).click()
            phone.get_by_label(rating, exact=True).check()
            if comment:
                phone.get_by_label("留言（选填，公开时不显示您的姓名）").fill(comment)
            phone.get_by_role("button", name="提交我的评价").click()
            expect(_status(phone)).to_contain_text("感谢您的评价")
            banner(phone).get_by_role("link", name="待我评价").click()
            expect(phone.get_by_role("main").get_by_role("link", name=title)).to_have_count(0)
            phone.context.close()

        # Staff follow participation while the window runs (the counts wait for its close),
        # and find where paper evaluations are entered.
        staff.goto(project_url)
        evaluation = staff.get_by_role("listitem").filter(has=staff.locator("#evaluation-title"))
        expect(evaluation.locator(".participation")).to_contain_text("已有 3 人评价")
        expect(evaluation.locator(".verdict")).to_have_count(0)
        evaluation.get_by_role("link", name="录入纸质评价").click()
        expect(staff.locator("#paper-evaluation")).to_be_visible()

    # 7. The evaluation window closes; staff publish the result.
    with journey.step("window closes, disclosure 3 published"):
        site.advance_clock(dt.timedelta(days=EVALUATION_DAYS + 1))
        out = site.manage("minutely")
        assert re.search(r"evaluation_windows_closed [1-9]", out), out
        assert "failed" not in out, out
        result_v1 = _publish_from_queue(staff, community, title, "实施结果和评价公开")

    # 8. An anonymous visitor follows the whole story; the feed, the open data and the
    # evidence log have it; the chain verifies.
    with journey.step("visitor: story, feed, open data, log"):
        visitor = open_page()
        visitor.goto(journey.proposal_url)
        visitor.get_by_role("link", name="跟踪项目：决议、进度和结果").click()
        expect(visitor.get_by_role("heading", level=1)).to_have_text(title)
        expect(visitor.locator(".project-head .stage")).to_have_text("已评价")
        story = visitor.locator("ol.story")
        decision = story.get_by_role("listitem").filter(has=visitor.locator("#decision-title"))
        expect(decision).to_contain_text("通过")
        objection = decision.locator(".objection", has_text=OBJECTION)
        expect(objection.locator(".answer")).to_contain_text(ANSWER)
        expect(story).to_contain_text(PROGRESS)
        expect(story).to_contain_text(ACCEPTANCE)
        expect(story).to_contain_text(_fmt_yuan(actual))
        expect(story.locator(".verdict")).to_have_text("满意")
        expect(story).to_contain_text("3 人参与评价")
        # The objection and its answer, in the decision's latest version.
        visitor.get_by_role("region", name="三公开", exact=True).get_by_role(
            "link", name="第 2 版"
        ).first.click()
        expect(visitor).to_have_url(re.compile(re.escape(decision_v2) + "$"))
        expect(visitor.get_by_role("region", name="公开内容", exact=True)).to_contain_text(ANSWER)
        for path in (implementation_v1, result_v1):
            visitor.goto(path)
            expect(visitor.get_by_role("region", name="核验本公开信息", exact=True)).to_be_visible()

        # The Atom feed, found from the disclosures' index.
        visitor.get_by_role("contentinfo").get_by_role("link", name="信息公开").click()
        feed_href = visitor.get_by_role("link", name="Atom 订阅源").get_attribute("href")
        response = visitor.request.get(feed_href)
        assert response.ok and "atom" in response.headers["content-type"]
        feed = ET.fromstring(response.body())  # noqa: S314 (our own server's feed)
        entries = {
            e.find(f"{ATOM}link").get("href").split("://", 1)[-1].split("/", 1)[-1]: e
            for e in feed.findall(f"{ATOM}entry")
        }
        for path in (decision_v1, decision_v2, implementation_v1, result_v1):
            entry = entries.get(path.lstrip("/"))
            assert entry is not None, f"{path} is not in the feed"
            assert title in entry.find(f"{ATOM}title").text
            assert entry.find(f"{ATOM}author/{ATOM}name").text == community_name

        # Open data: the project's rows, with its amounts, and nobody's private data.
        private = _private_data(site)
        visitor.get_by_role("contentinfo").get_by_role("link", name="开放数据").click()
        files = {}
        for name in ("proposals", "spending", "evaluations"):
            for fmt in ("csv", "json", "jsonl"):
                with visitor.expect_download() as download_info:
                    visitor.get_by_role("link", name=f"下载 {name}.{fmt}", exact=True).click()
                path = tmp / f"{name}.{fmt}"
                download_info.value.save_as(path)
                files[name, fmt] = path.read_text(encoding="utf-8-sig")
        for (name, fmt), text in files.items():
            leaked = [v for v in private if v in text]
            assert not leaked, f"{name}.{fmt} holds private data: {leaked[:3]}"
            if fmt == "json":
                rows = json.loads(text)["rows"]
            elif fmt == "jsonl":
                rows = [json.loads(line) for line in text.splitlines()]
            else:
                rows = list(csv.DictReader(io.StringIO(text)))
            mine = [r for r in rows if str(r["proposal_id"]) == str(_project_pk(journey))]
            assert len(mine) == 1, (name, fmt, mine)
            row = mine[0]
            assert row["title"] == title
            if name == "proposals":
                assert row["stage"] == "evaluated"
                assert Decimal(row["cost"]) == cost
            if name == "spending":
                assert Decimal(row["budget"]) == cost
                assert Decimal(row["actual"]) == actual
                assert Decimal(row["spent_so_far"]) == actual
            if name == "evaluations":
                assert (int(row["satisfied"]), int(row["basic"]), int(row["total"])) == (2, 1, 3)
                assert row["verdict"] == "satisfied"

        # The public evidence log shows the steps, by role, never a resident's name.
        visitor.get_by_role("contentinfo").get_by_role("link", name="存证记录").click()
        checkpoint = visitor.get_by_role("region", name="最新检查点")
        expect(checkpoint).to_contain_text("根哈希值")
        log = visitor.get_by_role("table")
        for action in ("发布了公开信息", "提出了异议", "答复了异议", "发布了实施进度",
                       "登记了验收和决算", "评价了项目", "结束了评价期"):  # fmt: skip
            expect(log.get_by_role("cell", name=action, exact=True).first).to_be_visible()

        site.manage("minutely")  # everything placed in the tree, then the operator's check
        out = site.manage("verify_evidence")
        assert out.startswith("OK:"), out

    for page_problems in problems:
        assert page_problems.all() == []
        assert page_problems.failed_responses == []


def _fact(page: Page, term: str) -> str:
    """The value of one of the project page's facts (项目类型, 费用, ...)."""
    fact = page.locator("dl.facts > div", has=page.locator("dt", has_text=re.compile(f"^{term}$")))
    return fact.locator("dd").inner_text().strip()


def _project_pk(journey: Journey) -> int:
    match = re.search(r"/proposals/(\d+)/", journey.proposal_url)
    assert match, journey.proposal_url
    return int(match.group(1))


def _make_photo(path: Path) -> None:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (320, 240), (200, 220, 235))
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 120, 280, 220), fill=(150, 120, 90))
    draw.ellipse((230, 20, 290, 80), fill=(250, 210, 60))
    image.save(path, "PNG")
