"""Load: 500 concurrent tool calls against an emulator that injects 10 % transient faults.

Every call must end, within its time limit, in either images or a typed, explained error;
no job may be submitted twice. Run with ``pytest -s`` to see the table of figures.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from langchain_core.messages import ToolMessage
from pydantic import Field

from langchain_acedata_images import (
    AceDataImagesError,
    ImageGenerationResult,
    OpenAIGenerateImageTool,
    PollSchedule,
    RetryPolicy,
)
from langchain_acedata_images._text import tool_error_text
from langchain_acedata_images.emulator import EmulatorConfig, FaultConfig, run_emulator
from langchain_acedata_images.tools import ToolOutput
from tests.emulator_fixtures import emulator_client

pytestmark = [pytest.mark.slow, pytest.mark.integration]

CALLS = 500
CONCURRENCY = 64
OVERALL_LIMIT = 120.0
PER_CALL_LIMIT = 60.0
#: 10 % of answers on the fault paths (submissions and task look-ups) go wrong.
FAULTS = FaultConfig(
    error_rates={500: 0.02, 502: 0.02, 503: 0.02, 429: 0.02},
    drop_after_accept_rate=0.01,
    malformed_json_rate=0.01,
)
#: Tasks queue 0.05 s and run 0.1 s: 0.15 s from submission to result.
CONFIG = EmulatorConfig(latency=0.1, queue_delay=0.05, seed=20261125, faults=FAULTS)
# Cheap images, so the emulator's renderer is not what is measured.
SHAPES = [
    {"model": "dall-e-2", "size": "256x256"},
    {"model": "nano-banana", "size": "192x128"},
    {"model": "gpt-image-2", "size": "256x256", "response_format": "b64_json"},
]


class RecordingTool(OpenAIGenerateImageTool):
    """The generate tool, remembering every typed error it turned into a tool answer."""

    typed_errors: list[AceDataImagesError] = Field(default_factory=list, exclude=True)

    def _handle(self, error: AceDataImagesError) -> ToolOutput:
        self.typed_errors.append(error)
        return super()._handle(error)


@dataclass
class Tally:
    succeeded: int = 0
    failed_typed: int = 0
    lost: list[str] = field(default_factory=list)
    hung: int = 0
    latencies: list[float] = field(default_factory=list)
    error_texts: list[str] = field(default_factory=list)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _table(tally: Tally, stats: dict[str, Any], wall: float, error_kinds: Counter[str]) -> str:
    faults = stats["faults"]
    rows = [
        ("tool calls", f"{CALLS} (concurrency {CONCURRENCY})"),
        ("succeeded", str(tally.succeeded)),
        ("failed, typed error", f"{tally.failed_typed} {dict(error_kinds) or ''}".strip()),
        ("lost (neither)", str(len(tally.lost))),
        ("hung", str(tally.hung)),
        ("duplicate submissions", str(len(stats["duplicate_trace_ids"]))),
        ("accepted submissions", str(stats["submissions"])),
        ("HTTP requests", f"{stats['requests']} {stats['by_path']}"),
        ("faults injected", f"{sum(faults.values())} {faults}"),
        ("latency p50", f"{statistics.median(tally.latencies):.3f} s"),
        ("latency p99", f"{_percentile(tally.latencies, 0.99):.3f} s"),
        ("latency max", f"{max(tally.latencies):.3f} s"),
        ("wall time", f"{wall:.2f} s ({CALLS / wall:.0f} calls/s)"),
    ]
    width = max(len(name) for name, _ in rows)
    lines = [f"{name:<{width}}  {value}" for name, value in rows]
    rule = "-" * max(len(line) for line in lines)
    return "\n".join(
        ["", "Load test against the emulator, 10 % transient faults", rule, *lines, rule]
    )


@pytest.mark.timeout(OVERALL_LIMIT + 60)
async def test_500_concurrent_tool_calls_under_transient_faults() -> None:
    with run_emulator(CONFIG) as emulator:
        client = emulator_client(
            emulator.base_url,
            poll_schedule=PollSchedule(first_delay=0.05, factor=1.5, max_interval=0.5),
            retry_policy=RetryPolicy(
                max_retries=3, base_delay=0.02, max_delay=0.2, settle_time=0.5
            ),
            max_wait=30.0,
            max_connections=CONCURRENCY,
        )
        tool = RecordingTool(client=client, emit_progress=False)
        gate = asyncio.Semaphore(CONCURRENCY)
        tally = Tally()

        async def one(index: int) -> None:
            args = {"prompt": f"load test image {index}", **SHAPES[index % len(SHAPES)]}
            call = {"type": "tool_call", "id": f"call-{index}", "name": tool.name, "args": args}
            async with gate:
                started = time.perf_counter()
                try:
                    message = await asyncio.wait_for(tool.ainvoke(call), PER_CALL_LIMIT)
                except asyncio.TimeoutError:
                    tally.hung += 1
                    return
                except Exception as exc:  # an untyped error escaped the tool: lost
                    tally.lost.append(f"call {index}: {exc!r}")
                    return
                finally:
                    tally.latencies.append(time.perf_counter() - started)
            if not isinstance(message, ToolMessage):
                tally.lost.append(f"call {index}: returned {message!r}")
            elif message.status == "success" and isinstance(
                message.artifact, ImageGenerationResult
            ):
                assert len(message.artifact.images) == 1
                tally.succeeded += 1
            elif message.status == "error" and message.artifact is None:
                tally.failed_typed += 1
                tally.error_texts.append(str(message.content))
            else:
                tally.lost.append(f"call {index}: {message.status} {message.content!r}")

        started = time.perf_counter()
        try:
            await asyncio.wait_for(
                asyncio.gather(*(one(index) for index in range(CALLS))), OVERALL_LIMIT
            )
        finally:
            wall = time.perf_counter() - started
            await client.aclose()
        stats = emulator.stats()

    error_kinds = Counter(type(error).__name__ for error in tool.typed_errors)
    print(_table(tally, stats, wall, error_kinds))
    assert tally.lost == []
    assert tally.hung == 0
    assert stats["duplicate_trace_ids"] == []
    assert tally.succeeded + tally.failed_typed == CALLS
    # Every failure came from a typed error and says what to do about it.
    assert len(tool.typed_errors) == tally.failed_typed
    assert sorted(tally.error_texts) == sorted(tool_error_text(e) for e in tool.typed_errors)
    # The faults really happened, at about the configured rate, and retries absorbed most.
    # A 5xx answering a submission (6 % here) is never resent, since the job may exist: those
    # calls end as maybe-submitted errors, the others succeed.
    assert sum(stats["faults"].values()) >= 0.05 * stats["requests"]
    assert tally.succeeded >= 0.90 * CALLS
    # Nothing was billed without being either returned or reported as maybe-submitted.
    assert stats["submissions"] >= tally.succeeded
