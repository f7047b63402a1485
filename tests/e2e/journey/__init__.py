"""The whole journey of one micro-project, in one browser test, in Chinese (issue 7).

The journey is written in two parts that share a ``Journey`` record:

- ``part1.run(site, journey)``: a resident signs up and staff confirm; they propose; five
  neighbours co-sign; staff find it admissible; an expert and residents debate live while
  staff watch; the proposer revises; staff open a ballot at a meeting; members vote on their
  phones while the meeting board updates; the clerk closes the ballot (approved).
- ``part2.run(site, journey)``: the decision is drafted and published; a resident objects in
  the publicity period and staff answer; the PDF downloads and its text is right; progress is
  posted; completion is recorded; residents evaluate; the result is published; an anonymous
  visitor follows the whole story, the feed and the open data, and the evidence log verifies.

``tests/e2e/test_journey.py`` runs both against a server of its own (``journey_site``), whose
clock can be moved forward (publicity periods and evaluation windows last days).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from playwright.sync_api import Page

from ..conftest import BrowserProblems


@dataclass
class Site:
    """A running server of the journey's own, and what a test may do with it."""

    base_url: str
    # A fresh browser context (own cookies) and its page: open_page(locale="zh-CN", **options).
    open_page: Callable[..., tuple[Page, BrowserProblems]]
    # Runs `manage.py ARGS` with the server's environment (same database, same clock); returns
    # stdout, fails the test on a non-zero exit.
    manage: Callable[..., str]
    # Moves the clock of the server and of every later `manage` call forward by a timedelta.
    advance_clock: Callable[[dt.timedelta], None]
    password: str = "weishi-demo-2026"


@dataclass
class Journey:
    """What part 1 leaves for part 2 (URLs are paths, e.g. "/proposals/12/")."""

    community: str = "donghu"
    staff_username: str = "donghu-staff1"
    expert_username: str = "donghu-expert1"
    title: str = ""
    proposal_url: str = ""
    proposer_username: str = ""
    proposer_password: str = ""
    meeting_url: str = ""
    ballot_url: str = ""
    # Usernames of the neighbours who co-signed (residents of the community who may evaluate).
    cosigners: list[str] = field(default_factory=list)
    # Seconds per step, printed at the end of the test.
    timings: dict[str, float] = field(default_factory=dict)

    def step(self, name: str):
        """Context manager timing one step: `with journey.step("co-sign"): ...`."""
        journey = self

        class _Step:
            def __enter__(self):
                self.start = time.monotonic()

            def __exit__(self, *exc):
                journey.timings[name] = time.monotonic() - self.start
                return False

        return _Step()
