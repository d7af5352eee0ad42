"""The polling benchmark's real runs: jobs of a known length on the emulator (a child process,
``latency = length``, no queue delay) through ONE client, side by side.

Lateness is the moment a call returned minus the task's ``finished_at`` (the emulator runs on
this machine, so both are the same wall clock); status requests are counted by the emulator
(``/openai/tasks`` only: the submissions are the same for every strategy).
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from typing import Any

from langchain_acedata_images import AceDataImagesClient
from langchain_acedata_images.durations import DurationEstimate

from ._common import PROMPT, TOKEN, EmulatorProcess, emulator_process

TASKS = "/openai/tasks"
SMALL = {"model": "dall-e-2", "size": "256x256"}


@dataclass
class EmulatedRun:
    """One batch of concurrent jobs through one client."""

    jobs: int
    lateness: list[float]
    status_requests: int
    span: float

    @property
    def rate(self) -> float:
        return self.status_requests / self.span


def _status_requests(emulator: EmulatorProcess) -> int:
    count: int = emulator.stats()["by_path"].get(TASKS, 0)
    return count


async def _run_jobs(
    client: AceDataImagesClient, emulator: EmulatorProcess, jobs: int, stagger: float, seed: int
) -> EmulatedRun:
    rng = random.Random(seed)
    returned: dict[str, float] = {}

    async def one() -> None:
        await asyncio.sleep(rng.uniform(0.0, stagger))
        result = await client.agenerate(prompt=PROMPT, **SMALL)
        assert result.task_id is not None
        returned[result.task_id] = time.time()

    before = _status_requests(emulator)
    started = time.time()
    await asyncio.gather(*(one() for _ in range(jobs)))
    span = time.time() - started
    requests = _status_requests(emulator) - before
    lateness = []
    for task_id, at in returned.items():  # looked up after counting: not part of the figures
        record = await client.aget_task(task_id)
        assert record is not None
        assert record.finished_at is not None
        lateness.append(at - record.finished_at)
    return EmulatedRun(jobs, lateness, requests, span)


async def _session(
    base_url: str, plan: list[tuple[int, float, int]], learn_first: int, **client_options: Any
) -> tuple[list[EmulatedRun], dict[str, DurationEstimate]]:
    """Runs ``plan`` ((jobs, stagger, seed) each) through one client; ``learn_first`` jobs
    run before (concurrently, unmeasured), so the client has learned the duration."""
    runs = []
    emulator = EmulatorProcess(base_url)
    options = {"learn_durations": bool(learn_first), **client_options}
    async with AceDataImagesClient(TOKEN, base_url=base_url, **options) as client:
        await client.aget_task(trace_id="warm-up")
        await asyncio.gather(
            *(client.agenerate(prompt=PROMPT, **SMALL) for _ in range(learn_first))
        )
        for jobs, stagger, seed in plan:
            runs.append(await _run_jobs(client, emulator, jobs, stagger, seed))
        durations = client.durations.snapshot() if client.durations else {}
        learned = {"/".join(key): value for key, value in durations.items()}
    return runs, learned


@dataclass
class LengthRuns:
    """Everything measured on one emulator whose jobs take ``length`` seconds."""

    length: float
    cold: list[EmulatedRun]
    learned: list[EmulatedRun]
    estimates: dict[str, DurationEstimate]
    bursts: dict[int, list[EmulatedRun]]


def measure(
    length: float, repeats: int, jobs: int, stagger: float, concurrency: tuple[int, ...]
) -> LengthRuns:
    """On one emulator (``latency = length``): ``repeats`` batches of ``jobs`` jobs submitted
    over ``stagger`` s by a cold client and by one that learned from 4 jobs; then ``repeats``
    bursts of each ``concurrency`` (submitted within 0.5 s) through one cold client."""
    with emulator_process(latency=length, queue_delay=0.0) as emulator:
        plan = [(jobs, stagger, seed) for seed in range(repeats)]
        cold, _ = asyncio.run(_session(emulator.base_url, plan, 0))
        learned, estimates = asyncio.run(_session(emulator.base_url, plan, 4))
        bursts = [(count, 0.5, seed) for count in concurrency for seed in range(repeats)]
        runs, _ = asyncio.run(_session(emulator.base_url, bursts, 0, max_connections=100))
    by_count = {count: [run for run in runs if run.jobs == count] for count in concurrency}
    return LengthRuns(length, cold, learned, estimates, by_count)
