"""2. Concurrency: many generations at once take about as long as one.

The emulator holds every task ``latency`` seconds (1 s in the full run). The client keeps the
package's default :class:`PollSchedule`, so a single call takes ``latency`` plus the wait to
the next poll; N concurrent calls should take that long too. Paths: ``tool.abatch``,
``asyncio.gather`` of ``tool.ainvoke``, sync ``tool.batch`` on threads
(``max_concurrency=N``), and, for reference, raw ``httpx.AsyncClient`` calls on the same
schedule. All calls share one prompt, so the emulator draws the picture once (its renderer
caches) and measures the package, not Pillow. The emulator runs in a child process: in this
process it would share one GIL with the 64 clients and its own CPU time would count as theirs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from langchain_core.messages import ToolCall, ToolMessage

from langchain_acedata_images import AceDataImagesClient, OpenAIGenerateImageTool, PollSchedule

from ._common import (
    PROMPT,
    TOKEN,
    BenchResult,
    EmulatorProcess,
    Goal,
    Table,
    araw_generate,
    emulator_process,
    nodelay_async_client,
    tool_call,
)

GOAL_RATIO = 1.2


def _calls(count: int) -> list[str | dict[str, Any] | ToolCall]:
    return [tool_call({"prompt": PROMPT}, f"call-{index}") for index in range(count)]


def _succeeded(outputs: Sequence[object]) -> int:
    return sum(
        isinstance(out, ToolMessage) and out.status == "success" and bool(out.artifact.images)
        for out in outputs
    )


Phase = tuple[float, int, int]
"""Wall seconds, successful calls and emulator requests of one run."""

RAW = "raw httpx AsyncClient, gather (reference)"


def _phase(emulator: EmulatorProcess, run: Callable[[], Sequence[object]]) -> Phase:
    emulator.reset()
    start = time.perf_counter()
    outputs = run()
    wall = time.perf_counter() - start
    return wall, _succeeded(outputs), emulator.stats()["requests"]


async def _aphase(
    emulator: EmulatorProcess, run: Callable[[], Awaitable[Sequence[object]]], raw: bool = False
) -> Phase:
    emulator.reset()
    start = time.perf_counter()
    outputs = await run()
    wall = time.perf_counter() - start
    done = len(outputs) if raw else _succeeded(outputs)
    return wall, done, emulator.stats()["requests"]


def _middle(runs: list[Phase]) -> Phase:
    """The run with the median wall time."""
    return sorted(runs)[len(runs) // 2]


async def _gather(awaitables: Sequence[Awaitable[Any]]) -> list[Any]:
    return list(await asyncio.gather(*awaitables))


def _measure(
    emulator: EmulatorProcess, count: int, repeats: int
) -> tuple[dict[str, list[Phase]], dict[str, list[Phase]]]:
    """Single calls and concurrent runs of every path, repeats interleaved across paths."""
    schedule = PollSchedule()
    client = AceDataImagesClient(TOKEN, base_url=emulator.base_url, poll_schedule=schedule)
    tool = OpenAIGenerateImageTool(client=client)
    calls = _calls(count)
    singles: dict[str, list[Phase]] = {"sync": [], "async": []}
    runs: dict[str, list[Phase]] = {}
    tool.invoke(calls[0])  # warm up: connection, imports, the emulator's picture cache
    batch = f"tool.batch, threads, max_concurrency={count}"
    for _ in range(repeats):
        singles["sync"].append(_phase(emulator, lambda: [tool.invoke(calls[0])]))
        run = _phase(emulator, lambda: tool.batch(calls, config={"max_concurrency": count}))
        runs.setdefault(batch, []).append(run)

    async def measure_async() -> None:
        await tool.ainvoke(calls[0])
        async with nodelay_async_client() as http:
            paths = {
                "tool.abatch": lambda: tool.abatch(calls),
                "asyncio.gather(tool.ainvoke)": lambda: _gather([tool.ainvoke(c) for c in calls]),
                RAW: lambda: _gather(
                    [araw_generate(http, emulator.base_url, schedule) for _ in calls]
                ),
            }
            for _ in range(repeats):
                singles["async"].append(
                    await _aphase(emulator, lambda: _gather([tool.ainvoke(calls[0])]))
                )
                for name, path in paths.items():
                    runs.setdefault(name, []).append(await _aphase(emulator, path, raw=name == RAW))
        await client.aclose()

    asyncio.run(measure_async())
    client.close()
    return singles, runs


def run(quick: bool) -> BenchResult:
    count, latency, repeats = (64, 0.4, 1) if quick else (64, 1.0, 3)
    result = BenchResult("concurrency", f"2. Concurrency: {count} generations at once", quick)
    with emulator_process(latency=latency, queue_delay=0.0) as emulator:
        singles, runs = _measure(emulator, count, repeats)

    single = {kind: _middle(phases)[0] for kind, phases in singles.items()}
    raw_wall = _middle(runs[RAW])[0]
    table = Table(
        f"{count} calls, server latency {latency:g} s, default PollSchedule, "
        f"median of {repeats} run(s)",
        ["path", "calls ok", "wall s", "× single call", "× raw reference", "requests"],
    )
    table.add("single tool.invoke", 1, single["sync"], 1.0, None, _middle(singles["sync"])[2])
    table.add("single tool.ainvoke", 1, single["async"], 1.0, None, _middle(singles["async"])[2])
    figures: dict[str, Any] = {"count": count, "latency_s": latency, "single_s": single}
    for name, phases in runs.items():
        wall, done, requests = _middle(phases)
        ratio = wall / single["sync" if name.startswith("tool.batch") else "async"]
        table.add(name, done, wall, ratio, wall / raw_wall, requests)
        figures[name] = {
            "wall_s": wall,
            "walls_s": [phase[0] for phase in phases],
            "ok": done,
            "ratio": ratio,
            "ratio_to_raw": wall / raw_wall,
            "requests": requests,
        }
        if name != RAW:
            result.goals.append(Goal(f"{name}: wall vs a single call", ratio, GOAL_RATIO, "×"))
    result.tables.append(table)
    result.notes += [
        "× single call: tool.batch against the single sync call, the async paths against the "
        "single async call",
        "× raw reference: against raw httpx doing the same requests on the same schedule; the "
        "reference's own × single call is the floor the emulator sets",
    ]
    result.figures = figures
    return result
