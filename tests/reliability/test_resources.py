"""Resource hygiene: no sockets or threads left behind, every pool closed."""

from __future__ import annotations

import asyncio
import gc
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from langchain_acedata_images import (
    AceDataImagesClient,
    AceDataImagesToolkit,
    PollSchedule,
    RetryPolicy,
)
from langchain_acedata_images.emulator import (
    EmulatorConfig,
    RunningEmulator,
    run_emulator,
)
from tests.emulator_fixtures import TOKEN

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings("error::ResourceWarning")]


def load_client(base_url: str) -> AceDataImagesClient:
    return AceDataImagesClient(
        TOKEN,
        base_url=base_url,
        poll_schedule=PollSchedule(first_delay=0.05, factor=1.5, max_interval=0.3),
        retry_policy=RetryPolicy(max_retries=3, base_delay=0.02, max_delay=0.2, settle_time=0.5),
        max_wait=30.0,
        timeout=httpx.Timeout(10.0, connect=5.0),
    )


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def package_threads() -> int:
    """Threads that are not the emulator's (its server and its image-rendering workers)."""
    return sum(
        not thread.name.startswith(("AnyIO worker", "acedata-emulator"))
        for thread in threading.enumerate()
    )


@pytest.fixture(scope="module")
def instant() -> Iterator[RunningEmulator]:
    with run_emulator(EmulatorConfig(latency=0.0, queue_delay=0.0)) as running:
        yield running


@pytest.mark.slow
def test_no_sockets_or_threads_leak_over_1000_calls(instant: RunningEmulator) -> None:
    with load_client(instant.base_url) as warmup:
        warmup.generate(prompt="warm up")
    gc.collect()
    fds, threads = open_fds(), package_threads()
    with AceDataImagesToolkit(api_token=TOKEN, base_url=instant.base_url) as kit:
        assert kit.client is not None
        kit.client.poll_schedule = PollSchedule(first_delay=0.01, factor=1.0, max_interval=0.01)
        generate = kit.get_tools()[0]
        for _ in range(300):
            generate.invoke({"prompt": "hygiene"})  # one picture: the cache keeps it cheap

        async def many() -> None:
            await asyncio.gather(*(generate.ainvoke({"prompt": "hygiene"}) for _ in range(700)))

        asyncio.run(many())
        during = open_fds()
    gc.collect()
    # The emulator runs in this process: give its side a moment to notice the closed sockets.
    deadline = time.monotonic() + 3
    while open_fds() > fds + 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    leaked_fds = open_fds() - fds
    leaked_threads = package_threads() - threads
    print(
        f"\nfds before/during/after: {fds}/{during}/{fds + leaked_fds}; threads +{leaked_threads}"
    )
    assert leaked_fds <= 2
    assert leaked_threads <= 0
    assert instant.stats()["submissions"] == 1001


async def test_closing_closes_every_pool(emulator: RunningEmulator) -> None:
    client = load_client(emulator.base_url)
    await client.agenerate(prompt="a")
    await asyncio.to_thread(client.generate, prompt="b")
    sync_pool, async_pool = client.http_client, client.http_async_client
    await client.aclose()
    assert sync_pool.is_closed
    assert async_pool.is_closed


def test_pools_are_closed_when_their_loop_ends(emulator: RunningEmulator) -> None:
    client = load_client(emulator.base_url)
    pools: list[Any] = []

    async def call() -> None:
        await client.agenerate(prompt="x")
        pools.append(client.http_async_client)

    for _ in range(3):
        asyncio.run(call())  # no aclose(): asyncio.run's shutdown closes the pool
    assert all(pool.is_closed for pool in pools)
    assert len({id(pool) for pool in pools}) == 3
    client.close()
