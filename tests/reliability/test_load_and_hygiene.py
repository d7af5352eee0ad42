"""Load with injected faults (nothing lost, nothing billed twice, nothing hung) and resource
hygiene (no sockets or threads left behind)."""

from __future__ import annotations

import asyncio
import gc
import os
import statistics
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from langchain_core.messages import ToolMessage

from langchain_acedata_images import (
    AceDataImagesClient,
    AceDataImagesToolkit,
    ImageGenerationResult,
    OpenAIGenerateImageTool,
    PollSchedule,
    RetryPolicy,
)
from langchain_acedata_images.emulator import (
    EmulatorConfig,
    FaultConfig,
    RunningEmulator,
    run_emulator,
)
from tests.emulator_fixtures import TOKEN

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings("error::ResourceWarning")]

CALLS = 500
CONCURRENCY = 64
TIME_LIMIT = 150.0
# 10 % of requests (submissions and polls) hit a transient fault.
TRANSIENT_FAULTS = FaultConfig(
    error_rates={500: 0.02, 502: 0.02, 503: 0.02, 429: 0.02},
    retry_after=0.05,
    drop_after_accept_rate=0.01,
    malformed_json_rate=0.01,
)


@pytest.fixture(scope="module")
def faulty() -> Iterator[RunningEmulator]:
    config = EmulatorConfig(latency=0.1, queue_delay=0.02, seed=99, faults=TRANSIENT_FAULTS)
    with run_emulator(config) as running:
        yield running


def load_client(base_url: str) -> AceDataImagesClient:
    return AceDataImagesClient(
        TOKEN,
        base_url=base_url,
        poll_schedule=PollSchedule(first_delay=0.05, factor=1.5, max_interval=0.3),
        retry_policy=RetryPolicy(max_retries=3, base_delay=0.02, max_delay=0.2, settle_time=0.5),
        max_wait=30.0,
        timeout=httpx.Timeout(10.0, connect=5.0),
    )


@pytest.mark.slow
async def test_500_tool_calls_with_transient_faults(faulty: RunningEmulator) -> None:
    outcomes: Counter[str] = Counter()
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    gate = asyncio.Semaphore(CONCURRENCY)
    async with load_client(faulty.base_url) as client:
        tool = OpenAIGenerateImageTool(client=client)

        async def one(number: int) -> None:
            call = {"type": "tool_call", "id": f"c{number}", "name": tool.name,
                    "args": {"prompt": f"load {number}"}}  # fmt: skip
            async with gate:
                started = time.monotonic()
                try:
                    message = await asyncio.wait_for(tool.ainvoke(call), 60)
                except asyncio.TimeoutError:
                    outcomes["hung"] += 1
                    return
                except Exception as exc:  # a tool must never raise on API trouble
                    outcomes["lost"] += 1
                    errors[repr(exc)[:80]] += 1
                    return
                latencies.append(time.monotonic() - started)
            assert isinstance(message, ToolMessage)
            if message.status != "error" and isinstance(message.artifact, ImageGenerationResult):
                outcomes["succeeded"] += 1
            elif message.status == "error" and message.content:
                outcomes["failed with a clear error"] += 1
                errors[str(message.content)[:80]] += 1
            else:
                outcomes["lost"] += 1

        started = time.monotonic()
        await asyncio.wait_for(asyncio.gather(*(one(n) for n in range(CALLS))), TIME_LIMIT)
        wall = time.monotonic() - started
    stats = faulty.stats()
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    header = (
        "| calls | concurrency | succeeded | failed (clear error) | lost | duplicates | hung "
        "| p50 s | p99 s | wall s | faults injected |"
    )
    print(
        f"\n{header}\n|---|---|---|---|---|---|---|---|---|---|---|\n"
        f"| {CALLS} | {CONCURRENCY} | {outcomes['succeeded']} | "
        f"{outcomes['failed with a clear error']} | {outcomes['lost']} | "
        f"{len(stats['duplicate_trace_ids'])} | {outcomes['hung']} | {p50:.3f} | {p99:.3f} | "
        f"{wall:.1f} | {sum(stats['faults'].values())} {dict(stats['faults'])} |"
    )
    for text, count in errors.most_common(5):
        print(f"  {count} x {text}")
    assert outcomes["lost"] == 0
    assert outcomes["hung"] == 0
    assert stats["duplicate_trace_ids"] == []
    assert outcomes["succeeded"] + outcomes["failed with a clear error"] == CALLS
    assert outcomes["succeeded"] >= CALLS * 0.95  # transient faults are mostly absorbed
    assert stats["submissions"] <= CALLS


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
