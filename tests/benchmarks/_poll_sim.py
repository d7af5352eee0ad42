"""Simulated clock for the polling benchmarks: jobs of known length, checked by a per-job
``PollSchedule`` (how the client polled before the poller) or by the real, sans-I/O
``PollerCore`` (the client-wide poller), with every request counted.

Nothing sleeps: time jumps from one event (a submission, a check) to the next, so 180 s jobs
cost microseconds. A check's answer arrives ``rtt`` seconds after it is sent; a job is
*noticed* when an answer reports it finished, and its lateness is that moment minus its
finish.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_acedata_images import PollSchedule
from langchain_acedata_images.durations import DurationEstimator, DurationKey
from langchain_acedata_images.poller import Check, PollCadence, PollerCore

KEY: DurationKey = ("gpt-image-1", "auto", "1K")
MAX_WAIT = 1800.0


@dataclass(frozen=True)
class Job:
    start: float
    duration: float
    key: DurationKey = KEY

    @property
    def finish(self) -> float:
        return self.start + self.duration


@dataclass
class Outcome:
    """Lateness of every job (same order as the jobs) and the status requests made."""

    lateness: list[float]
    requests: int
    span: float
    ids_checked: int = 0

    @property
    def rate(self) -> float:
        return self.requests / self.span if self.span > 0 else 0.0


def per_job(schedule: PollSchedule, jobs: Sequence[Job], rtt: float = 0.0) -> Outcome:
    """Each job polls on its own ``schedule`` (one ``retrieve`` per poll)."""
    lateness, requests, end = [], 0, 0.0
    for job in jobs:
        elapsed, polls = 0.0, 0
        while True:
            elapsed += schedule.interval(polls)
            polls += 1
            if job.start + elapsed >= job.finish:
                break
        requests += polls
        noticed = job.start + elapsed + rtt
        lateness.append(noticed - job.finish)
        end = max(end, noticed)
    return Outcome(lateness, requests, end - min(job.start for job in jobs))


@dataclass
class _Server:
    jobs: dict[str, Job]

    def record(self, task_id: str, at: float) -> dict[str, Any]:
        job = self.jobs[task_id]
        record: dict[str, Any] = {"id": task_id, "created_at": job.start}
        if at >= job.finish:
            record.update(finished_at=job.finish, response={"data": [{"url": "u"}]})
        return record

    def answer(self, check: Check, at: float) -> dict[str, Any]:
        if check.batch:
            items = [self.record(task_id, at) for task_id in check.task_ids]
            return {"items": items, "count": len(items)}
        return self.record(check.task_ids[0], at)


@dataclass
class PollerSim:
    """Runs jobs through one ``PollerCore`` on a simulated clock."""

    cadence: PollCadence = field(default_factory=PollCadence)
    estimator: DurationEstimator | None = field(default_factory=DurationEstimator)
    rtt: float = 0.0
    batch_size: int = 500

    def run(self, jobs: Sequence[Job]) -> Outcome:
        core = PollerCore(self.cadence, self.estimator, batch_size=self.batch_size)
        server = _Server({f"t{i}": job for i, job in enumerate(jobs)})
        arrivals = sorted((job.start, f"t{i}") for i, job in enumerate(jobs))
        heapq.heapify(arrivals)
        noticed: dict[str, float] = {}
        owner: dict[int, str] = {}
        now, requests, ids = arrivals[0][0], 0, 0
        while arrivals or not core.idle:
            wake = core.wake_at()
            candidates = [a[0] for a in arrivals[:1]] + ([wake] if wake is not None else [])
            now = max(now, min(candidates))
            while arrivals and arrivals[0][0] <= now:
                _, task_id = heapq.heappop(arrivals)
                job = server.jobs[task_id]
                waiter = core.watch(
                    task_id, origin=job.start, deadline=job.start + MAX_WAIT, now=now, key=job.key
                )
                owner[waiter] = task_id
            for delivery in core.expire(now):
                raise AssertionError(f"simulated job timed out: {delivery}")
            check = core.plan(now)
            if check is None:
                continue
            requests += 1
            ids += len(check.task_ids)
            answered = now + self.rtt
            for delivery in core.on_answer(check, server.answer(check, now), answered):
                if delivery.kind == "finished":
                    noticed[owner[delivery.waiter]] = answered
        lateness = [noticed[f"t{i}"] - job.finish for i, job in enumerate(jobs)]
        span = max(noticed.values()) - min(job.start for job in jobs)
        return Outcome(lateness, requests, span, ids)


def jittered(length: float, count: int, rng: random.Random, spread: float = 0.1) -> list[float]:
    """``count`` durations uniformly within ``length`` ± ``spread`` (a fraction)."""
    return [length * rng.uniform(1 - spread, 1 + spread) for _ in range(count)]


def learned(durations: Sequence[float], key: DurationKey = KEY) -> DurationEstimator:
    """An estimator that has already seen ``durations`` for ``key`` (a warm client)."""
    estimator = DurationEstimator()
    for seconds in durations:
        estimator.observe(key, seconds)
    return estimator


def cold() -> None:
    """No estimator (learning off): the cadence alone decides."""
    return None
