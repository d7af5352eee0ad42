"""1. Per-call overhead of the tool against raw ``httpx`` doing the same requests.

Every path makes the same two requests per call against the same emulator (the default
``async: true`` + poll path): the submission, then one status check that finds the task
finished. The emulator runs ``finish_before_answer``: each job takes ``JOB_SECONDS`` (3 ms) and
is done before its submission is answered, so no path waits before its check (all poll on
``PollSchedule(first_delay=0)``; the clients do not learn job durations) and no path can gain by
checking earlier. The ``requests/call`` column, counted by the emulator, shows that the paths
matched. The job's 3 ms are part of every path's time: *extra ms* does not depend on them, the
*ratio* is diluted by them as by any server's work (earlier versions of this benchmark had every
path wait 3 ms before its first check instead).

HTTP clients use TCP_NODELAY (the tool's client gets such pools through ``http_client`` /
``http_async_client``), so the figures measure work, not Nagle/delayed-ACK stalls; the last
two rows of each block use httpx's default transport -- the tool as shipped and raw httpx --
to show those stalls. Two rows split the tool's cost: the tool with ``emit_progress=False``,
and LangChain's floor, a minimal ``BaseTool`` with the same ``args_schema`` whose ``_run`` just
calls ``client.generate`` (what any LangChain tool with this schema pays).

Paths are timed round-robin, in a shuffled order each round, so drift and the after-effects of
one path on the next hit them alike. The new-client-per-call path, whose connection set-up and
teardown slow whatever runs next, is timed on its own afterwards.
"""

from __future__ import annotations

import asyncio
import gc
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

import httpx
from langchain_core.messages import ToolCall
from langchain_core.tools import BaseTool
from pydantic import BaseModel

from langchain_acedata_images import (
    AceDataImagesClient,
    GenerateImageInput,
    OpenAIGenerateImageTool,
    PollSchedule,
)
from langchain_acedata_images.emulator import EmulatorConfig, RunningEmulator

from ._common import (
    PROMPT,
    TASKS,
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

SCHEDULE = PollSchedule(first_delay=0.0, factor=1.0, max_interval=0.0)
JOB_SECONDS = 0.003
GOAL_EXTRA_MS = 1.0
GOAL_RATIO = 1.3

TOOL, CLIENT, RAW, FRESH = (
    "tool.{}(ToolCall)",
    "client.{}",
    "raw httpx, pooled",
    "raw httpx, new client per call",
)
QUIET = "tool.{}, emit_progress=False"
FLOOR = "minimal BaseTool(args_schema=GenerateImageInput) → client.{} (LangChain floor)"
SHIPPED_TOOL = "tool.{}, default pool (no TCP_NODELAY)"
UNKEYED = "tool.{}, exactly_once=False (no look-up before submitting)"
SHIPPED_RAW = "raw httpx, pooled, default transport (no TCP_NODELAY)"

SyncCall = Callable[[], object]
AsyncCall = Callable[[], Awaitable[object]]


def _prompt(index: int) -> str:
    """Each path submits its own prompt, so the emulator's tasks tell the paths apart."""
    return f"{PROMPT} #{index}"


def _call(index: int) -> ToolCall:
    return tool_call({"prompt": _prompt(index)})


class _FloorTool(BaseTool):
    """LangChain's own cost: the same ``args_schema``, and ``_run`` just calls the client."""

    name: str = "openai_generate_image"
    description: str = "Generate an image."
    args_schema: type[BaseModel] = GenerateImageInput
    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"
    client: AceDataImagesClient

    def _run(self, **kwargs: Any) -> tuple[str, object]:
        return "done", self.client.generate(**kwargs)

    async def _arun(self, **kwargs: Any) -> tuple[str, object]:
        return "done", await self.client.agenerate(**kwargs)


@dataclass
class _Subjects:
    """The tools and clients under test; all but ``shipped`` use TCP_NODELAY pools."""

    base: str
    client: AceDataImagesClient
    tool: OpenAIGenerateImageTool
    quiet: OpenAIGenerateImageTool
    floor: _FloorTool
    shipped_client: AceDataImagesClient
    shipped: OpenAIGenerateImageTool
    unkeyed: OpenAIGenerateImageTool

    @classmethod
    def build(cls, base: str, sync_pool: httpx.Client, async_pool: httpx.AsyncClient) -> _Subjects:
        client = AceDataImagesClient(
            TOKEN,
            base_url=base,
            poll_schedule=SCHEDULE,
            http_client=sync_pool,
            http_async_client=async_pool,
            learn_durations=False,
        )
        shipped_client = AceDataImagesClient(
            TOKEN, base_url=base, poll_schedule=SCHEDULE, learn_durations=False
        )
        return cls(
            base,
            client,
            OpenAIGenerateImageTool(client=client),
            OpenAIGenerateImageTool(client=client, emit_progress=False),
            _FloorTool(client=client),
            shipped_client,
            OpenAIGenerateImageTool(client=shipped_client),
            OpenAIGenerateImageTool(client=client, exactly_once=False),
        )


def _sync_paths(at: _Subjects, pooled: httpx.Client, plain: httpx.Client) -> dict[str, SyncCall]:
    def fresh() -> object:
        with nodelay_client() as http:
            return raw_generate(http, at.base, SCHEDULE, submission_body(_prompt(3)))

    return {
        TOOL.format("invoke"): lambda: at.tool.invoke(_call(0)),
        CLIENT.format("generate"): lambda: at.client.generate(prompt=_prompt(1)),
        RAW: lambda: raw_generate(pooled, at.base, SCHEDULE, submission_body(_prompt(2))),
        FRESH: fresh,
        QUIET.format("invoke"): lambda: at.quiet.invoke(_call(4)),
        FLOOR.format("generate"): lambda: at.floor.invoke(_call(5)),
        SHIPPED_TOOL.format("invoke"): lambda: at.shipped.invoke(_call(6)),
        SHIPPED_RAW: lambda: raw_generate(plain, at.base, SCHEDULE, submission_body(_prompt(7))),
        UNKEYED.format("invoke"): lambda: at.unkeyed.invoke(_call(8)),
    }


def _async_paths(
    at: _Subjects, pooled: httpx.AsyncClient, plain: httpx.AsyncClient
) -> dict[str, AsyncCall]:
    async def fresh() -> object:
        async with nodelay_async_client() as http:
            return await araw_generate(http, at.base, SCHEDULE, submission_body(_prompt(3)))

    return {
        TOOL.format("ainvoke"): lambda: at.tool.ainvoke(_call(0)),
        CLIENT.format("agenerate"): lambda: at.client.agenerate(prompt=_prompt(1)),
        RAW: lambda: araw_generate(pooled, at.base, SCHEDULE, submission_body(_prompt(2))),
        FRESH: fresh,
        QUIET.format("ainvoke"): lambda: at.quiet.ainvoke(_call(4)),
        FLOOR.format("agenerate"): lambda: at.floor.ainvoke(_call(5)),
        SHIPPED_TOOL.format("ainvoke"): lambda: at.shipped.ainvoke(_call(6)),
        SHIPPED_RAW: lambda: araw_generate(plain, at.base, SCHEDULE, submission_body(_prompt(7))),
        UNKEYED.format("ainvoke"): lambda: at.unkeyed.ainvoke(_call(8)),
    }


def _orders(names: list[str], rounds: int) -> list[list[str]]:
    """A shuffled order of the interleaved paths per round (fixed seed), then the new-client
    path alone."""
    dice = random.Random(6)
    mixed = [name for name in names if name != FRESH]
    orders = [dice.sample(mixed, len(mixed)) for _ in range(rounds)]
    return orders + [[FRESH]] * rounds


def _is_lookup(entry: dict[str, Any]) -> bool:
    """An exactly-once look-up: a task request by ``trace_ids`` or a time window, not by id."""
    return entry["path"] == TASKS and not {"id", "ids"} & set(entry["filters"])


def _requests_per_call(emulator: RunningEmulator, paths: list[str]) -> dict[str, float]:
    """Requests per call of each path, from the emulator's task list and request log.

    A keyed tool call's look-up before submitting names no task, so it is not in these counts;
    :func:`_lookups_per_keyed_call` counts it."""
    path_of_prompt = {_prompt(index): name for index, name in enumerate(paths)}
    path_of_task = {task.id: path_of_prompt[task.job.prompt] for task in emulator.state.tasks()}
    calls = Counter(path_of_task.values())
    requests: Counter[str | None] = Counter()
    current: str | None = None
    for entry in emulator.state.log():
        if _is_lookup(entry):
            continue
        # A retrieve_batch by ids names no single task: calls run one at a time, so it belongs
        # to the call whose submission came last.
        current = path_of_task.get(entry["task_id"], current if entry["task_id"] is None else None)
        requests[current] += 1
    return {name: requests[name] / calls[name] for name in paths}


def _lookups_per_keyed_call(emulator: RunningEmulator, rounds: int) -> float:
    """Exactly-once look-ups per call of the keyed tool paths (every ``tool.*`` path but the
    ``exactly_once=False`` one)."""
    return sum(1 for entry in emulator.state.log() if _is_lookup(entry)) / (3 * rounds)


@dataclass
class _Block:
    """One block's timings per path, requests per call, and look-ups per keyed call."""

    samples: dict[str, list[float]]
    requests: dict[str, float]
    lookups: float


def _measure_sync(
    emulator: RunningEmulator, paths: dict[str, SyncCall], warmup: int, rounds: int
) -> _Block:
    """Timings per path, and the requests per call the emulator saw."""
    for _ in range(warmup):
        for run in paths.values():
            run()
    gc.collect()
    emulator.reset()
    samples: dict[str, list[float]] = {name: [] for name in paths}
    for order in _orders(list(paths), rounds):
        for name in order:
            start = time.perf_counter()
            paths[name]()
            samples[name].append(time.perf_counter() - start)
    requests = _requests_per_call(emulator, list(paths))
    return _Block(samples, requests, _lookups_per_keyed_call(emulator, rounds))


async def _measure_async(
    emulator: RunningEmulator, paths: dict[str, AsyncCall], warmup: int, rounds: int
) -> _Block:
    """Async :func:`_measure_sync`."""
    for _ in range(warmup):
        for run in paths.values():
            await run()
    gc.collect()
    emulator.reset()
    samples: dict[str, list[float]] = {name: [] for name in paths}
    for order in _orders(list(paths), rounds):
        for name in order:
            start = time.perf_counter()
            await paths[name]()
            samples[name].append(time.perf_counter() - start)
    requests = _requests_per_call(emulator, list(paths))
    return _Block(samples, requests, _lookups_per_keyed_call(emulator, rounds))


def _table(title: str, block: _Block) -> Table:
    table = Table(
        title,
        [
            "path",
            "p50 ms",
            "p90 ms",
            "extra p50 ms",
            "p50 ratio ×",
            "requests/call",
        ],
    )
    base_p50 = percentile(block.samples[RAW], 50)
    for name, values in block.samples.items():
        p50 = percentile(values, 50)
        table.add(
            name,
            ms(p50),
            ms(percentile(values, 90)),
            ms(p50 - base_p50),
            p50 / base_p50,
            block.requests[name],
        )
    return table


def _goals(method: str, block: _Block) -> list[Goal]:
    """The tool doing the same requests as raw httpx: ``exactly_once=False``, as the keyed
    tool's look-up is a request raw httpx does not make (reported on its own in the notes)."""
    tool_p50 = percentile(block.samples[UNKEYED.format(method)], 50)
    raw_p50 = percentile(block.samples[RAW], 50)
    subject = f"tool.{method} without the look-up"
    return [
        Goal(
            f"{subject}: extra p50 over raw pooled httpx",
            ms(tool_p50 - raw_p50),
            GOAL_EXTRA_MS,
            " ms",
        ),
        Goal(f"{subject}: p50 ratio to raw pooled httpx", tool_p50 / raw_p50, GOAL_RATIO, "×"),
    ]


def _figures(block: _Block) -> dict[str, Any]:
    paths = {
        name: {
            "p50_ms": ms(percentile(values, 50)),
            "p90_ms": ms(percentile(values, 90)),
            "p99_ms": ms(percentile(values, 99)),
            "calls": float(len(values)),
            "requests_per_call": block.requests[name],
        }
        for name, values in block.samples.items()
    }
    return {
        "paths": paths,
        "lookups_per_keyed_call": block.lookups,
    }


def _lookup_ms(block: _Block, method: str) -> float:
    keyed = percentile(block.samples[TOOL.format(method)], 50)
    return ms(keyed - percentile(block.samples[UNKEYED.format(method)], 50))


def run(quick: bool) -> BenchResult:
    warmup, rounds = (5, 40) if quick else (30, 300)
    result = BenchResult("overhead", "1. Per-call overhead: tool vs raw httpx", quick)
    config = EmulatorConfig(latency=JOB_SECONDS, queue_delay=0.0, finish_before_answer=True)
    with loopback_emulator(config) as emulator:
        sync_pool, async_pool = nodelay_client(), nodelay_async_client()
        at = _Subjects.build(emulator.base_url, sync_pool, async_pool)
        with nodelay_client() as pooled, httpx.Client() as plain:
            paths = _sync_paths(at, pooled, plain)
            sync = _measure_sync(emulator, paths, warmup, rounds)

        async def measure_async() -> _Block:
            async with nodelay_async_client() as pooled, httpx.AsyncClient() as plain:
                paths = _async_paths(at, pooled, plain)
                measured = await _measure_async(emulator, paths, warmup, rounds)
            await async_pool.aclose()
            await at.shipped_client.aclose()
            return measured

        asynchronous = asyncio.run(measure_async())
        sync_pool.close()
        rtt = loopback_rtt_ms(emulator.base_url)

    result.tables += [
        _table(f"Sync, {rounds} calls per path", sync),
        _table(f"Async, {rounds} calls per path", asynchronous),
    ]
    result.goals += _goals("invoke", sync) + _goals("ainvoke", asynchronous)
    result.notes += [
        f"extra and ratios are against `{RAW}` of the same block, every job taking "
        f"{ms(JOB_SECONDS):.0f} ms on the server; the goals judge "
        f"`{UNKEYED.format('invoke')}` (and its async twin), which makes the same requests",
        f"loopback GET round trip (TCP_NODELAY): {rtt:.2f} ms",
        "exactly-once costs two look-ups (`retrieve_batch`, before submitting and after it) per "
        "tool call, not in *requests/call*: "
        f"{sync.lookups:.2f} sync / {asynchronous.lookups:.2f} async per keyed call; its time is "
        f"`{TOOL.format('invoke')}` minus `{UNKEYED.format('invoke')}`: "
        f"{_lookup_ms(sync, 'invoke'):+.2f} ms sync, "
        f"{_lookup_ms(asynchronous, 'ainvoke'):+.2f} ms async (p50)",
    ]
    result.figures = {
        "job_ms": ms(JOB_SECONDS),
        "sync": _figures(sync),
        "async": _figures(asynchronous),
        "loopback_rtt_ms": rtt,
    }
    return result
