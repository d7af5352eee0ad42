"""8. A rate-limited API: 429s shared by one client, against the emulator limited to N/s.

The emulator sits behind a limiter that admits N submissions per second (a token bucket holding
one second's worth) and answers the others 429 with the exact ``Retry-After``. Many jobs at high
concurrency through one client should finish with no failure and no duplicate job, in a wall
time close to the limit's ideal (``(jobs - N) / N`` plus one job's run time). The client that shares
a 429's pause among all its submissions is compared with one where each submission waits out
only its own 429s.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn

from langchain_acedata_images import AceDataImagesClient, PollSchedule, RetryPolicy
from langchain_acedata_images.emulator import EmulatorConfig, EmulatorState, create_app

from ._common import TOKEN, BenchResult, Goal, Table

LATENCY = 0.05
SUBMISSIONS = frozenset({"/openai/images/generations", "/openai/images/edits"})
GOAL_RATIO = 1.2

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class _Limiter:
    """ASGI wrapper: ``rate`` submissions per second (a token bucket holding one second's worth,
    as GCRA), 429 + the exact ``Retry-After`` otherwise."""

    def __init__(self, app: Any, rate: float) -> None:
        self.app, self.interval = app, 1.0 / rate
        self.tolerance = 1.0 - self.interval  # a burst of up to ``rate`` submissions
        self.tat = 0.0  # theoretical arrival time of the next submission
        self.refused = 0
        self.lock = threading.Lock()

    def _wait(self) -> float:
        """0 when a submission may pass now (and takes its token), else the seconds to wait."""
        now = time.monotonic()
        with self.lock:
            tat = max(self.tat, now)
            if tat - now <= self.tolerance:
                self.tat = tat + self.interval
                return 0.0
            self.refused += 1
            return tat - now - self.tolerance

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        limited = scope["type"] == "http" and scope["path"] in SUBMISSIONS
        wait = self._wait() if limited else 0.0
        if not wait:
            await self.app(scope, receive, send)
            return
        body = json.dumps({"error": {"code": "too_many_requests", "message": "slow down"}})
        headers = [
            (b"content-type", b"application/json"),
            (b"retry-after", f"{wait:.3f}".encode()),
        ]
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body.encode()})


@contextmanager
def _limited_emulator(rate: float) -> Iterator[tuple[str, EmulatorState, _Limiter]]:
    app = create_app(EmulatorConfig(latency=LATENCY, queue_delay=0.0, seed=3))
    limiter = _Limiter(app, rate)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(limiter, log_level="warning", access_log=False, backlog=2048)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.005)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", app.state.emulator, limiter
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


class _OwnPauseOnly(AceDataImagesClient):
    """Each submission waits out only the 429s it got itself (no shared pause)."""

    def _pause_submissions(self, seconds: float) -> None:
        return None


@dataclass
class _Run:
    wall: float
    ok: int
    failures: int
    submissions: int
    duplicates: int
    refused: int


async def _run(client_type: type[AceDataImagesClient], jobs: int, rate: float, width: int) -> _Run:
    with _limited_emulator(rate) as (base_url, state, limiter):
        client = client_type(
            TOKEN,
            base_url=base_url,
            max_connections=width,
            max_wait=600.0,
            poll_schedule=PollSchedule(0.05, 1.5, 0.5),
            retry_policy=RetryPolicy(max_retries=2, base_delay=0.05, max_delay=2.0),
        )
        gate = asyncio.Semaphore(width)

        async def one(index: int) -> bool:
            async with gate:
                try:
                    await client.agenerate(prompt=f"fox {index}", model="dall-e-2", size="256x256")
                except Exception:
                    return False
                return True

        start = time.perf_counter()
        results = await asyncio.gather(*(one(index) for index in range(jobs)))
        wall = time.perf_counter() - start
        await client.aclose()
        stats = state.stats()
    return _Run(
        wall,
        sum(results),
        jobs - sum(results),
        stats["submissions"],
        len(stats["duplicate_trace_ids"]),
        limiter.refused,
    )


def run(quick: bool) -> BenchResult:
    jobs, rate, width, repeats = (120, 40.0, 64, 2) if quick else (500, 40.0, 64, 3)
    # The bucket starts full: ``rate`` submissions pass at once, the rest at ``rate`` per second.
    ideal = max(0.0, jobs - rate) / rate + LATENCY
    result = BenchResult("rate_limit", "8. Shared 429 pause under a rate limit", quick)
    table = Table(
        f"{jobs} jobs at concurrency {width}, submissions limited to {rate:.0f}/s "
        f"(ideal {ideal:.2f} s), {repeats} runs each",
        ["client", "wall s (min–max)", "× ideal (median)", "failed", "jobs", "dup", "429s"],
    )
    figures: dict[str, Any] = {"jobs": jobs, "rate": rate, "concurrency": width, "ideal_s": ideal}
    for name, client_type in (
        ("shared pause", AceDataImagesClient),
        ("own 429s only", _OwnPauseOnly),
    ):
        runs = [asyncio.run(_run(client_type, jobs, rate, width)) for _ in range(repeats)]
        walls = sorted(r.wall for r in runs)
        median = walls[len(walls) // 2]
        table.add(
            name,
            f"{walls[0]:.2f}–{walls[-1]:.2f}",
            median / ideal,
            sum(r.failures for r in runs),
            "/".join(str(r.submissions) for r in runs),
            sum(r.duplicates for r in runs),
            "/".join(str(r.refused) for r in runs),
        )
        figures[name] = {
            "walls_s": walls,
            "ratio_median": median / ideal,
            "failures": sum(r.failures for r in runs),
            "duplicates": sum(r.duplicates for r in runs),
            "submissions": [r.submissions for r in runs],
            "refused": [r.refused for r in runs],
        }
        if name == "shared pause":
            result.goals.append(
                Goal("wall / ideal, shared 429 pause", median / ideal, GOAL_RATIO, "×")
            )
    result.tables.append(table)
    result.notes.append(
        "ideal = (jobs − rate) / rate + one job's run time (the bucket starts full); "
        "`429s` = submissions the limiter refused"
    )
    result.figures = figures
    return result
