"""A thread page in a real browser while Redis goes away and comes back: the page says live
updates are paused, reconnects with a growing delay (not in a loop), posting still saves the
message, and once Redis is back the page is live again.

The server is a daphne of this module's own, on SQLite, with a Redis of its own that the test
stops and starts (tests/redis_server.py).
"""

from __future__ import annotations

import re
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.load.servers import manage, shell_json
from tests.load.test_limits import _daphne, _environment
from tests.redis_server import RedisServer

from .conftest import sign_in

pytestmark = pytest.mark.e2e

PASSWORD = "a-long-enough-password-42"  # the test world's residents' (tests/conftest.py)
# A community with people in every role and a proposal in consultation, with its thread.
WORLD = """\
import json
from proposals.models import Stage
from tests.conftest import World
from tests.proposals.conftest import ProposalMaker
world = World()
proposal = ProposalMaker(world).make(Stage.CONSULTATION)
print(json.dumps({"page": f"/c/{world.a.slug}/proposals/{proposal.pk}/"}))
"""


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[str, str, RedisServer]]:
    redis = RedisServer()
    redis.start()
    tmp = Path(tempfile.mkdtemp(prefix="weishi-e2e-redis-"))
    try:
        env = _environment(tmp, SQLITE_PATH=str(tmp / "db.sqlite3"), REDIS_URL=redis.url)
        env.update(DEBUG="1")  # static files from the apps' folders, as `make run` serves them
        manage(env, "migrate", "--no-input", "-v0")
        page = shell_json(env, WORLD)["page"]
        with _daphne(env, tmp) as (port, _log):
            yield f"http://127.0.0.1:{port}", page, redis
    finally:
        redis.close()


def test_a_thread_page_rides_out_a_redis_outage(browser, site):
    base_url, path, redis = site
    context = browser.new_context(base_url=base_url, locale="en-US")
    context.set_default_timeout(20_000)
    page = context.new_page()
    sockets, frames = [], []

    def on_socket(socket):
        sockets.append(socket.url)
        socket.on("framereceived", lambda payload: frames.append(payload))

    page.on("websocket", on_socket)
    # The close codes the page's sockets get (Playwright's WebSocket does not say).
    page.add_init_script(
        "document.addEventListener('htmx:wsClose', e => "
        "(window.wsCloses = window.wsCloses || []).push(e.detail.event.code))"
    )
    try:
        sign_in(page, "a_resident", PASSWORD)
        page.goto(path)
        thread = page.locator("[data-thread]")
        for _ in range(200):  # the server answers on the socket (presence) within 20 s
            if frames:
                break
            page.wait_for_timeout(100)
        assert frames, "the thread's socket never answered"

        redis.stop()
        # The open socket is told, and closed with 4013.
        expect(page.locator("[data-code='unavailable']")).to_contain_text("Live updates are paused")
        expect(thread).not_to_have_attribute("data-live", "")
        # "Try again later" as daphne can send it (1013 would reach the browser as a crash,
        # 1011), and the page's script reconnects after it.
        assert 4013 in page.evaluate("window.wsCloses"), page.evaluate("window.wsCloses")
        # The delay between attempts grows, whatever htmx's own count says (it restarts at
        # every successful open, and a server that accepts and closes at once opens each time).
        # (Asked eight more times here, with htmx's count at 0: the last is 30 to 60 s.)
        delays = page.evaluate("[0, 0, 0, 0, 0, 0, 0, 0].map(n => htmx.config.wsReconnectDelay(n))")
        assert delays[0] >= 500 and 30_000 <= delays[-1] <= 60_000, delays

        # Posting still works: with no live socket the composer sends the plain form.
        text = f"停电时发的留言 {uuid.uuid4().hex[:8]}"
        page.get_by_label("Your message").fill(text)
        page.get_by_role("button", name="Post", exact=True).click()
        expect(page.locator("article[data-message-id]").filter(has_text=text)).to_be_visible()
        expect(page.locator(".messages")).to_contain_text("Your message is posted.")

        # Back: the page (reloaded by the plain post) reconnects and is live again.
        redis.start()
        expect(thread).to_have_attribute("data-live", "", timeout=60_000)
        assert all(re.search(r"/ws/threads/\d+/$", url) for url in sockets)
    finally:
        context.close()
