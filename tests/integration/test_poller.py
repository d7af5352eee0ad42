"""The client-wide poller against the emulator: one batch per tick for every waiting call,
sync and async, cancellation of one wait, and no thread or task left behind."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from langchain_acedata_images import AceDataImagesClient, ImageGenerationResult, TaskTimeoutError
from langchain_acedata_images.emulator import RunningEmulator
from tests.emulator_fixtures import TOKEN

pytestmark = pytest.mark.integration

SMALL = {"prompt": "a fox", "model": "dall-e-2", "size": "256x256"}


def status_bodies(emulator: RunningEmulator) -> list[dict[str, Any]]:
    return [e for e in emulator.state.log() if e["path"] == "/openai/tasks"]


def poller_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "acedata-images-poller"]


async def test_concurrent_async_calls_share_each_status_request(
    emulator: RunningEmulator,
) -> None:
    async with AceDataImagesClient(TOKEN, base_url=emulator.base_url) as client:
        results = await asyncio.gather(*(client.agenerate(**SMALL) for _ in range(20)))
        assert all(isinstance(r, ImageGenerationResult) for r in results)
        # The jobs take 0.06 s; the first tick (0.5 s) finds them all finished.
        assert len(status_bodies(emulator)) == 1
        assert not client._pollers.running


def test_concurrent_sync_calls_share_one_thread_and_leave_none(emulator: RunningEmulator) -> None:
    with AceDataImagesClient(TOKEN, base_url=emulator.base_url) as client:
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda _: client.generate(**SMALL), range(8)))
        assert all(isinstance(r, ImageGenerationResult) for r in results)
        assert len(status_bodies(emulator)) <= 2  # submissions straddling one tick
        assert not poller_threads()


async def test_cancelling_one_wait_leaves_the_others_alone(emulator: RunningEmulator) -> None:
    emulator.set_faults(never_finish_rate=0.0)
    async with AceDataImagesClient(TOKEN, base_url=emulator.base_url) as client:
        doomed = asyncio.create_task(client.agenerate(**SMALL, max_wait=30))
        others = [asyncio.create_task(client.agenerate(**SMALL)) for _ in range(3)]
        await asyncio.sleep(0.1)  # all submitted and watched
        doomed.cancel()
        with pytest.raises(asyncio.CancelledError):
            await doomed
        results = await asyncio.gather(*others)
        assert all(isinstance(r, ImageGenerationResult) for r in results)
        for _ in range(100):
            if not client._pollers.running:
                break
            await asyncio.sleep(0.01)
        assert not client._pollers.running


def test_each_call_keeps_its_own_max_wait(emulator: RunningEmulator) -> None:
    with AceDataImagesClient(TOKEN, base_url=emulator.base_url) as client:
        emulator.set_faults(never_finish_rate=1.0)
        stuck = client.generate(**SMALL, wait=False)
        emulator.set_faults(never_finish_rate=0.0)
        outcome: dict[str, Any] = {}

        def wait_stuck() -> None:
            try:
                client.wait_for_task(stuck.task_id, max_wait=0.8)
            except TaskTimeoutError as exc:
                outcome["timeout"] = exc

        waiter = threading.Thread(target=wait_stuck)
        waiter.start()
        result = client.generate(**SMALL)  # waits alongside the stuck one, unaffected
        waiter.join(10)
        assert isinstance(result, ImageGenerationResult)
        assert outcome["timeout"].task_id == stuck.task_id
        batches = [e for e in status_bodies(emulator) if e["task_id"] is None]
        assert batches  # shared retrieve_batch ticks (a retrieve names its task in the log)
    assert not poller_threads()


def test_closing_the_client_ends_a_wait_in_another_thread(emulator: RunningEmulator) -> None:
    client = AceDataImagesClient(TOKEN, base_url=emulator.base_url)
    emulator.set_faults(never_finish_rate=1.0)
    handle = client.generate(**SMALL, wait=False)
    outcome: dict[str, Any] = {}

    def wait() -> None:
        try:
            client.wait_for_task(handle.task_id)
        except Exception as exc:
            outcome["error"] = exc

    waiter = threading.Thread(target=wait)
    waiter.start()
    while not client._pollers.running:
        threading.Event().wait(0.01)
    client.close()
    waiter.join(10)
    assert "client was closed" in str(outcome["error"])
    assert not poller_threads()
