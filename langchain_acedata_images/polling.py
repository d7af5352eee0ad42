"""Polling and retry timing as pure functions, shared by the sync and async clients."""

from __future__ import annotations

import math
import random as _random
from collections.abc import Callable
from dataclasses import dataclass, field


def _uniform() -> float:
    """A draw from the process's generator; a function, so a copied or unpickled policy draws
    there too instead of replaying a copy of the same sequence."""
    return _random.random()


@dataclass(frozen=True)
class PollSchedule:
    """When to ask ``/openai/tasks`` again while a job runs.

    The first poll comes after ``first_delay``; each later wait grows by ``factor`` up to
    ``max_interval``. A ``Retry-After`` from the server lengthens the next wait, and no wait
    runs past the deadline.

    The default (1.25 s, x1.35, cap 30 s) polls at 1.25, 2.9, 5.2, 8.2, 12.4, ... s: a job done
    in 1 s or 5 s is noticed within 0.25 s, and a 120 s job costs 12 polls (measured in
    ``tests/benchmarks/polling.py``). The price: long jobs are noticed later (a 30 s job
    ~5.8 s late). Pass ``PollSchedule(0.5, 1.5, 5)`` for quicker pick-up of long jobs.
    """

    first_delay: float = 1.25
    factor: float = 1.35
    max_interval: float = 30.0

    def __post_init__(self) -> None:
        values = (self.first_delay, self.factor, self.max_interval)
        if (
            not all(math.isfinite(value) for value in values)
            or self.first_delay < 0
            or self.max_interval < 0
            or self.factor < 1
        ):
            raise ValueError(
                "PollSchedule needs finite first_delay >= 0, max_interval >= 0, factor >= 1"
            )

    def interval(self, polls_done: int) -> float:
        """Seconds to wait before poll number ``polls_done + 1``."""
        # Exponent is bounded so huge poll counts never overflow a float.
        growth = float(self.factor ** min(polls_done, 64))
        return min(self.first_delay * growth, self.max_interval)

    def next_wait(
        self, polls_done: int, *, remaining: float, retry_after: float | None = None
    ) -> float:
        """The wait before the next poll, honouring ``retry_after`` and the time left."""
        wait = self.interval(polls_done)
        if retry_after is not None:
            wait = max(wait, retry_after)
        return max(0.0, min(wait, remaining))

    def times(self, horizon: float) -> list[float]:
        """Poll instants (seconds after submission) up to ``horizon``; for docs and benchmarks."""
        if self.max_interval <= 0 or self.first_delay <= 0:
            raise ValueError("times() needs positive waits; this schedule polls continuously")
        instants: list[float] = []
        now = 0.0
        while True:
            now += self.interval(len(instants))
            if now > horizon:
                return instants
            instants.append(now)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries of requests that are safe to repeat.

    Applies to task look-ups (idempotent) and to submissions only when they provably never
    created a job: connect errors and 429 answers. The backoff doubles from ``base_delay`` up to
    ``max_delay``, less a random share of up to ``jitter`` of it, so clients that failed
    together (a server restart, a burst of 429s) do not all come back at the same instant.
    """

    max_retries: int = 2
    base_delay: float = 0.5
    max_delay: float = 8.0
    settle_time: float = 30.0
    """After an ambiguous submission (timeout, any 5xx or gateway page, dropped connection),
    keep looking the job up by ``trace_id`` this long: the server may still be creating it, or
    show it to look-ups only later. Not found by then: the error says it may exist."""
    dedupes_trace_ids: bool = False
    """Set only if the API is known to drop a submission whose trace_id it already has: then
    a job not found after an ambiguous failure is sent again (up to ``max_retries``)."""
    jitter: float = 0.5
    """The largest share of a backoff taken off at random (0: exact delays, 1: "full jitter")."""
    random: Callable[[], float] = field(default=_uniform, repr=False, compare=False)
    """The random source: a float in [0, 1) per delay (inject a fixed one to test)."""

    def __post_init__(self) -> None:
        times = (self.base_delay, self.max_delay, self.settle_time)
        if (
            self.max_retries < 0
            or not all(math.isfinite(t) and t >= 0 for t in times)
            or not 0 <= self.jitter <= 1
        ):
            raise ValueError(
                "RetryPolicy needs max_retries >= 0, finite delays and settle_time >= 0, "
                "and 0 <= jitter <= 1"
            )

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Backoff before retry number ``attempt`` (1-based), jittered; never above
        ``max_delay`` unless the server's ``retry_after`` asks for longer, which is then the
        wait (a server's ``Retry-After`` is honoured as given, never shortened)."""
        backoff = min(self.base_delay * 2.0 ** min(attempt - 1, 32), self.max_delay)
        draw = min(max(self.random(), 0.0), 1.0)  # a bad source must not stretch the wait
        return max(backoff * (1.0 - self.jitter * draw), retry_after or 0.0)
