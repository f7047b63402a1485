"""A long thread on a phone: the page opens on the newest messages, and 「显示更早的留言」
puts the earlier ones above them in place, without leaving the page."""

import re

import pytest
from playwright.sync_api import expect

from .test_replies import PHONE, _open_stage, _shots

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


def test_earlier_messages_load_above_the_newest_on_a_phone(journey_site, tmp_path):
    journey_site.manage("shell", "-c", POST_MANY)
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
