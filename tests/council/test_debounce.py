"""council.realtime.Debounce: a burst of calls runs the action once, after the delay."""

import asyncio

from council.realtime import Debounce


async def test_a_burst_runs_the_action_once_after_the_delay_and_sees_the_last_value():
    seen = []
    state = {"value": 0}

    async def action():
        seen.append(state["value"])

    debounce = Debounce(0.05, action)
    for value in (1, 2, 3):
        state["value"] = value
        debounce.poke()
    assert seen == []
    await asyncio.sleep(0.15)
    assert seen == [3]
    debounce.poke()  # a new burst after the run: one more run
    await asyncio.sleep(0.15)
    assert seen == [3, 3]


async def test_a_cancelled_burst_never_runs():
    seen = []

    async def action():
        seen.append(1)

    debounce = Debounce(0.05, action)
    debounce.poke()
    debounce.cancel()
    await asyncio.sleep(0.15)
    assert seen == [] and not debounce.pending
