"""A council meeting in three browsers: the clerk runs it, a member votes on a phone, and the
projector's board follows every step live."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import sign_in

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def _board_frames(page):
    frames = []

    def on_socket(socket):
        if "/ws/meetings/" in socket.url:
            socket.on("framereceived", lambda payload: frames.append(payload))

    page.on("websocket", on_socket)
    return frames


def test_a_member_votes_on_a_phone_and_the_board_updates_live(open_page, demo_password):
    clerk, clerk_problems = open_page(locale="en-US")
    member, member_problems = open_page(locale="en-US", **PHONE)
    board, board_problems = open_page(locale="en-US")

    # The clerk finds the demo meeting from the council page and opens the session.
    sign_in(clerk, "donghu-staff1", demo_password)
    clerk.goto("/c/donghu/council/")
    clerk.get_by_role("region", name="Meetings").get_by_role("link").first.click()
    expect(clerk).to_have_url(re.compile(r"/c/donghu/meetings/\d+/$"))
    meeting_url = clerk.url
    clerk.get_by_role("button", name="Open the session").click()
    clerk.get_by_role("button", name="Discuss now").first.click()
    expect(clerk.get_by_role("button", name="Stop discussing")).to_be_visible()

    # The projector shows the live board (anonymous).
    frames = _board_frames(board)
    board.goto(meeting_url + "board/")
    for _ in range(150):
        if frames:
            break
        board.wait_for_timeout(100)
    assert frames, "the board's socket never answered"
    count = board.locator(".board-count .board-big")
    before = int(count.inner_text())
    base = int(board.locator(".board-count .board-of").inner_text().strip(" /"))
    assert 0 <= before < base

    # A member, on a phone, finds the ballot under "Awaiting my vote" and votes.
    sign_in(member, "donghu-resident01", demo_password)
    member.get_by_role("link", name="Awaiting my vote").click()
    member.get_by_role("main").get_by_role("link").first.click()
    expect(member).to_have_url(re.compile(r"/c/donghu/ballots/\d+/$"))
    ballot_url = member.url
    member.get_by_label("Yes").check()
    member.get_by_role("button", name="Vote", exact=True).click()
    expect(member.locator("#vote-box")).to_contain_text("Your vote is recorded")
    expect(count).to_have_text(str(before + 1))

    # The member changes their mind: the count stays, the vote box says so.
    member.get_by_label("No", exact=True).check()
    member.get_by_role("button", name="Change my vote").click()
    expect(member.locator("#vote-box")).to_contain_text("Your vote is recorded")
    expect(count).to_have_text(str(before + 1))

    # The clerk closes the ballot at the end of the item; the board shows the result.
    clerk.goto(ballot_url)
    clerk.get_by_text("Close the ballot early").click()
    clerk.get_by_label("Why close it early (published)").fill("The meeting voted on this item.")
    clerk.get_by_role("button", name="Close now").click()
    expect(clerk.get_by_role("status").first).to_contain_text("The ballot is closed")
    expect(board.locator(".board-sentence")).to_contain_text("members voted")
    expect(board.locator(".board-ballot.closed")).to_be_visible()

    for problems in (clerk_problems, member_problems, board_problems):
        assert problems.all() == []
