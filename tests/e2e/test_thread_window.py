"""A long thread on a phone: the page opens on the newest messages, and 「显示更早的留言」
puts the earlier ones above them in place, without leaving the page."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import SIGN_IN_WORDS, sign_in
from .test_replies import PHONE, _open_stage, _shots
from .test_thread import _live

pytestmark = pytest.mark.e2e

# Through the services, in the site's own database: 36 messages in the consultation thread,
# by residents taking turns (the rate limit allows five each in 30 seconds).
POST_MANY = """
from council import threads
from council.models import User
from proposals.models import Proposal
here = Proposal.objects.filter(community__slug="donghu", stage="consultation")
proposal = here.order_by("pk").first()
authors = list(User.objects.filter(username__startswith="donghu-resident").order_by("pk")[:8])
for n in range(36):
    author = authors[n % len(authors)]
    threads.message_post(actor=author, thread=proposal.thread, body=f"长讨论第{n}条")
print(proposal.pk)
"""


@pytest.fixture(scope="module")
def long_thread(journey_site):
    journey_site.manage("shell", "-c", POST_MANY)
    return journey_site


def test_earlier_messages_load_above_the_newest_on_a_phone(long_thread, tmp_path):
    journey_site = long_thread
    page, problems = journey_site.open_page(locale="zh-CN", **PHONE)
    _open_stage(page, "consultation")
    url = page.url
    newest = page.locator("article.thread-message", has_text="长讨论第35条")
    expect(newest).to_have_count(1)
    expect(page.locator("article.thread-message", has_text="长讨论第0条")).to_have_count(0)
    earlier = page.get_by_role("link", name="显示更早的留言")
    earlier.scroll_into_view_if_needed()
    page.screenshot(path=str(_shots(tmp_path) / "thread-window-390.png"), full_page=False)
    earlier.click()
    first = page.locator("article.thread-message", has_text="长讨论第0条")
    expect(first).to_have_count(1, timeout=10_000)
    assert page.url == url, "the page stayed where it was"
    # The earlier messages sit above the newest, in order.
    texts = page.locator("article.thread-message .user-text").all_inner_texts()
    order = [int(m.group(1)) for t in texts if (m := re.search(r"长讨论第(\d+)条", t))]
    assert order == sorted(order) and order[0] == 0 and order[-1] == 35
    page.screenshot(path=str(_shots(tmp_path) / "thread-window-390-earlier.png"), full_page=False)
    assert problems.all() == [], problems


def test_a_reply_to_a_message_another_reader_does_not_show_is_no_error_there(long_thread, tmp_path):
    journey_site = long_thread
    reader, reader_problems = journey_site.open_page(locale="zh-CN", **PHONE)
    writer, writer_problems = journey_site.open_page(locale="zh-CN", **PHONE)
    sign_in(writer, "donghu-resident16", journey_site.password, SIGN_IN_WORDS["zh"])
    _open_stage(writer, "consultation")
    reader.goto(writer.url)
    _live(reader)
    _live(writer)
    writer.get_by_role("link", name="显示更早的留言").click()
    oldest = writer.locator("article.thread-message", has_text="长讨论第0条")
    expect(oldest).to_have_count(1, timeout=10_000)
    oldest.get_by_role("link", name="回复").click()
    writer.get_by_label("您的留言").fill("回复最早的一条")
    writer.get_by_role("button", name="发表", exact=True).click()
    expect(writer.locator("article.thread-message", has_text="回复最早的一条")).to_have_count(
        1, timeout=15_000
    )
    # The reader shows only the newest messages: the reply has nowhere to go there, and the
    # page says nothing of it (no error), while its socket keeps working.
    reader.wait_for_timeout(1500)
    expect(reader.locator("article.thread-message", has_text="回复最早的一条")).to_have_count(0)
    assert reader_problems.all() == [], reader_problems
    assert writer_problems.all() == [], writer_problems
