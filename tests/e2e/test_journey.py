"""The whole journey of one micro-project in one browser test, in Chinese (issue 7).

Part 1 (tests/e2e/journey/part1.py): sign-up → proposal → co-signs → review → live
consultation → revision → meeting and ballot → approval. Part 2 (part2.py): the three
disclosures, evaluation and the anonymous visitor's view. Both run against ``journey_site``,
a server of the module's own whose clock can move forward.
"""

from __future__ import annotations

import time

import pytest

from .journey import Journey, part1, part2

pytestmark = pytest.mark.e2e


def test_a_project_from_sign_up_to_published_result_in_chinese(journey_site):
    journey = Journey()
    start = time.monotonic()
    try:
        part1.run(journey_site, journey)
        part2.run(journey_site, journey)
    finally:
        print(f"\nThe journey of “{journey.title}” ({journey.proposal_url}):")
        for name, seconds in journey.timings.items():
            print(f"  {name:<40} {seconds:6.1f} s")
        print(f"  {'total':<40} {time.monotonic() - start:6.1f} s")
