"""Cancelled calls never wedge the async pool, and a cancelled job that exists is reported."""

from __future__ import annotations

import asyncio
import logging
import random

import httpx
import pytest

from langchain_acedata_images import PollSchedule, ProgressEvent
from langchain_acedata_images.emulator import RunningEmulator
from tests.emulator_fixtures import emulator_client

pytestmark = pytest.mark.integration

SMALL = {"model": "dall-e-2", "size": "256x256"}


async def test_400_random_cancellations_leave_a_working_pool_and_report_what_exists(
    emulator: RunningEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    client = emulator_client(
        emulator.base_url,
        max_connections=2,
        poll_schedule=PollSchedule(0.005, 1.5, 0.05),
        # A wedged pool shows up as PoolTimeout after 2 s instead of hanging.
        timeout=httpx.Timeout(5.0, connect=2.0, pool=2.0),
    )
    dice = random.Random(20261126)
    reported: list[ProgressEvent] = []
    started: list[str] = []
    finished: set[str] = set()

    async def on_progress(event: ProgressEvent) -> None:
        if event.kind == "cancelled":
            reported.append(event)

    caplog.set_level(logging.WARNING, "langchain_acedata_images")
    async with client:
        for index in range(400):
            trace_id = f"lcai-cancel-{index}"
            started.append(trace_id)
            call = client.agenerate(
                prompt=f"fox {index}", trace_id=trace_id, on_progress=on_progress, **SMALL
            )
            try:
                await asyncio.wait_for(call, dice.uniform(0.001, 0.060))
                finished.add(trace_id)
            except asyncio.TimeoutError:
                pass
        cancelled = len(started) - len(finished)
        assert cancelled > 100  # the run really exercised cancellation
        after = await asyncio.wait_for(client.agenerate(prompt="after", **SMALL), 30)
        assert after.urls
        await asyncio.sleep(0.2)  # let work finishing in the background land
    accepted = {t for t, n in emulator.state.accepted_by_trace_id().items() if n and t}
    events = {event.trace_id for event in reported}
    # Every cancelled call whose job exists was reported, with its trace_id, once.
    assert accepted - finished - {after.trace_id} <= events
    assert len(events) == len(reported)
    warned = [r for r in caplog.records if "cancelled after it was submitted" in r.getMessage()]
    assert {t for t in events if any(t in r.getMessage() for r in warned)} == events
    assert emulator.stats()["duplicate_trace_ids"] == []
