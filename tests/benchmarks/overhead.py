"""1. Per-call overhead of the tool against raw ``httpx`` doing the same requests.

Every path makes the same two requests per call against the same emulator (``latency=0``,
``queue_delay=0``, the default ``async: true`` + poll path): the submission, then one
``retrieve`` that finds the task finished. All paths poll on
``PollSchedule(first_delay=FIRST_POLL, factor=1, max_interval=FIRST_POLL)``. With no wait at
all the first ``retrieve`` often beats the emulator's threaded finishing step and a path makes
a third or fourth request, so every path waits the same ``FIRST_POLL`` first; the
``requests/call`` column, counted by the emulator, shows that the paths matched. The wait is
part of every path's time: *extra ms* does not depend on it, *ratio* is diluted by it.

HTTP clients use TCP_NODELAY (the tool's client gets such pools through ``http_client`` /
``http_async_client``), so the figures measure work, not Nagle/delayed-ACK stalls; the last
two rows of each block use httpx's default transport -- the tool as shipped and raw httpx --
to show those stalls. Paths are timed round-robin, in rotating order, so drift hits them alike.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx

from langchain_acedata_images import AceDataImagesClient, OpenAIGenerateImageTool, PollSchedule
from langchain_acedata_images.emulator import EmulatorConfig, RunningEmulator

from ._common import (
    PROMPT,
    TOKEN,
    BenchResult,
    Goal,
    Table,
    araw_generate,
    loopback_emulator,
    loopback_rtt_ms,
    ms,
    nodelay_async_client,
    nodelay_client,
    percentile,
    raw_generate,
    submission_body,
    tool_call,
)

FIRST_POLL = 0.003
SCHEDULE = PollSchedule(first_delay=FIRST_POLL, factor=1.0, max_interval=FIRST_POLL)
GOAL_EXTRA_MS = 1.0
GOAL_RATIO = 1.3

TOOL, CLIENT, RAW, FRESH = (
    "tool.{}(ToolCall)",
    "client.{}",
    "raw httpx, pooled",
    "raw httpx, new client per call",
)
SHIPPED_TOOL = "tool.{}, default pool (no TCP_NODELAY)"
SHIPPED_RAW = "raw httpx, pooled, default transport (no TCP_NODELAY)"

T = TypeVar("T")
SyncCall = Callable[[], object]
AsyncCall = Callable[[], Awaitable[object]]


def _tools(base: str, **pools: object) -> tuple[AceDataImagesClient, OpenAIGenerateImageTool]:
    client = AceDataImagesClient(TOKEN, base_url=base, poll_schedule=SCHEDULE, **pools)  # type: ignore[arg-type]
    return client, OpenAIGenerateImageTool(client=client)


def _prompt(index: int) -> str:
    """Each path submits its own prompt, so the emulator's tasks tell the paths apart."""
    return f"{PROMPT} #{index}"


def _sync_paths(
    base: str,
    tool: OpenAIGenerateImageTool,
    client: AceDataImagesClient,
    shipped: OpenAIGenerateImageTool,
    pooled: httpx.Client,
    plain: httpx.Client,
) -> dict[str, SyncCall]:
    def fresh() -> object:
        with nodelay_client() as http:
            return raw_generate(http, base, SCHEDULE, submission_body(_prompt(3)))

    return {
        TOOL.format("invoke"): lambda: tool.invoke(tool_call({"prompt": _prompt(0)})),
        CLIENT.format("generate"): lambda: client.generate(prompt=_prompt(1)),
        RAW: lambda: raw_generate(pooled, base, SCHEDULE, submission_body(_prompt(2))),
        FRESH: fresh,
        SHIPPED_TOOL.format("invoke"): lambda: shipped.invoke(tool_call({"prompt": _prompt(4)})),
        SHIPPED_RAW: lambda: raw_generate(plain, base, SCHEDULE, submission_body(_prompt(5))),
    }


def _async_paths(
    base: str,
    tool: OpenAIGenerateImageTool,
    client: AceDataImagesClient,
    shipped: OpenAIGenerateImageTool,
    pooled: httpx.AsyncClient,
    plain: httpx.AsyncClient,
) -> dict[str, AsyncCall]:
    async def fresh() -> object:
        async with nodelay_async_client() as http:
            return await araw_generate(http, base, SCHEDULE, submission_body(_prompt(3)))

    return {
        TOOL.format("ainvoke"): lambda: tool.ainvoke(tool_call({"prompt": _prompt(0)})),
        CLIENT.format("agenerate"): lambda: client.agenerate(prompt=_prompt(1)),
        RAW: lambda: araw_generate(pooled, base, SCHEDULE, submission_body(_prompt(2))),
        FRESH: fresh,
        SHIPPED_TOOL.format("ainvoke"): lambda: shipped.ainvoke(tool_call({"prompt": _prompt(4)})),
        SHIPPED_RAW: lambda: araw_generate(plain, base, SCHEDULE, submission_body(_prompt(5))),
    }


def _rotations(names: list[str], rounds: int) -> list[list[str]]:
    return [names[i % len(names) :] + names[: i % len(names)] for i in range(rounds)]


def _requests_per_call(emulator: RunningEmulator, paths: list[str]) -> dict[str, float]:
    """Requests per call of each path, from the emulator's task list and request log."""
    path_of_prompt = {_prompt(index): name for index, name in enumerate(paths)}
    path_of_task = {task.id: path_of_prompt[task.job.prompt] for task in emulator.state.tasks()}
    calls = Counter(path_of_task.values())
    requests = Counter(path_of_task.get(entry["task_id"]) for entry in emulator.state.log())
    return {name: requests[name] / calls[name] for name in paths}


def _measure_sync(
    emulator: RunningEmulator, paths: dict[str, SyncCall], warmup: int, rounds: int
) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Round-robin timings per path, and the requests per call the emulator saw."""
    for _ in range(warmup):
        for run in paths.values():
            run()
    gc.collect()
    emulator.reset()
    samples: dict[str, list[float]] = {name: [] for name in paths}
    for order in _rotations(list(paths), rounds):
        for name in order:
            start = time.perf_counter()
            paths[name]()
            samples[name].append(time.perf_counter() - start)
    return samples, _requests_per_call(emulator, list(paths))


async def _measure_async(
    emulator: RunningEmulator, paths: dict[str, AsyncCall], warmup: int, rounds: int
) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Async :func:`_measure_sync`."""
    for _ in range(warmup):
        for run in paths.values():
            await run()
    gc.collect()
    emulator.reset()
    samples: dict[str, list[float]] = {name: [] for name in paths}
    for order in _rotations(list(paths), rounds):
        for name in order:
            start = time.perf_counter()
            await paths[name]()
            samples[name].append(time.perf_counter() - start)
    return samples, _requests_per_call(emulator, list(paths))


def _table(title: str, samples: dict[str, list[float]], requests: dict[str, float]) -> Table:
    table = Table(
        title, ["path", "p50 ms", "p90 ms", "extra p50 ms", "p50 ratio ×", "requests/call"]
    )
    base_p50 = percentile(samples[RAW], 50)
    for name, values in samples.items():
        p50 = percentile(values, 50)
        table.add(
            name,
            ms(p50),
            ms(percentile(values, 90)),
            ms(p50 - base_p50),
            p50 / base_p50,
            requests[name],
        )
    return table


def _goals(method: str, samples: dict[str, list[float]]) -> list[Goal]:
    tool_p50 = percentile(samples[TOOL.format(method)], 50)
    raw_p50 = percentile(samples[RAW], 50)
    return [
        Goal(
            f"tool.{method} extra p50 over raw pooled httpx",
            ms(tool_p50 - raw_p50),
            GOAL_EXTRA_MS,
            " ms",
        ),
        Goal(f"tool.{method} p50 ratio to raw pooled httpx", tool_p50 / raw_p50, GOAL_RATIO, "×"),
    ]


def _figures(
    samples: dict[str, list[float]], requests: dict[str, float]
) -> dict[str, dict[str, float]]:
    return {
        name: {
            "p50_ms": ms(percentile(values, 50)),
            "p90_ms": ms(percentile(values, 90)),
            "p99_ms": ms(percentile(values, 99)),
            "calls": float(len(values)),
            "requests_per_call": requests[name],
        }
        for name, values in samples.items()
    }


def run(quick: bool) -> BenchResult:
    warmup, rounds = (5, 40) if quick else (30, 300)
    result = BenchResult("overhead", "1. Per-call overhead: tool vs raw httpx", quick)
    with loopback_emulator(EmulatorConfig(latency=0.0, queue_delay=0.0)) as emulator:
        base = emulator.base_url
        pools = {"http_client": nodelay_client(), "http_async_client": nodelay_async_client()}
        client, tool = _tools(base, **pools)
        shipped_client, shipped = _tools(base)
        with nodelay_client() as pooled, httpx.Client() as plain:
            paths = _sync_paths(base, tool, client, shipped, pooled, plain)
            sync_samples, sync_requests = _measure_sync(emulator, paths, warmup, rounds)

        async def measure_async() -> tuple[dict[str, list[float]], dict[str, float]]:
            async with nodelay_async_client() as pooled, httpx.AsyncClient() as plain:
                paths = _async_paths(base, tool, client, shipped, pooled, plain)
                measured = await _measure_async(emulator, paths, warmup, rounds)
            await pools["http_async_client"].aclose()
            await shipped_client.aclose()
            return measured

        async_samples, async_requests = asyncio.run(measure_async())
        pools["http_client"].close()
        rtt = loopback_rtt_ms(base)

    result.tables += [
        _table(f"Sync, {rounds} calls per path", sync_samples, sync_requests),
        _table(f"Async, {rounds} calls per path", async_samples, async_requests),
    ]
    result.goals += _goals("invoke", sync_samples) + _goals("ainvoke", async_samples)
    result.notes += [
        f"extra/ratio are against `{RAW}` of the same block; every path includes the "
        f"{ms(FIRST_POLL):.0f} ms first-poll wait (see module docstring)",
        f"loopback GET round trip (TCP_NODELAY): {rtt:.2f} ms",
    ]
    result.figures = {
        "first_poll_ms": ms(FIRST_POLL),
        "sync": _figures(sync_samples, sync_requests),
        "async": _figures(async_samples, async_requests),
        "loopback_rtt_ms": rtt,
    }
    return result
