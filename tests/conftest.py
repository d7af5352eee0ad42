"""Shared fixtures: a secret-looking token, a fake clock, clients wired to both, a mock API.

``api`` is a respx router on :data:`BASE_URL` (routes not called are fine) whose first route
answers keyed tool calls' pre-submit look-ups with "no such job"; tests add the routes they
need, or override ``api`` (test_idempotency.py does, to script those look-ups). Plain helpers
(paths, tool-call builders, a scripted chat model) are in ``tests/helpers.py``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import hypothesis  # noqa: F401  # imported early: compiling it later races emulator threads
import pytest
import respx
from respx.patterns import Lookup, Pattern

from langchain_acedata_images import AceDataImagesClient, PollSchedule, RetryPolicy
from langchain_acedata_images._lookups import SCAN_PAGE

TOKEN = "sk-acedata-SECRET-7f3a9c"
BASE_URL = "https://api.test"


class FakeClock:
    """Monotonic time that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


def task_answers(*answers: Any) -> Callable[[httpx.Request], httpx.Response]:
    """A respx side effect for ``/openai/tasks``: successive answers (the last repeats).

    A dict is a task record (``{}``: none), served in the shape asked for: as it is to
    ``retrieve``, in ``{"items", "count"}`` to the poller's ``retrieve_batch``. An
    ``httpx.Response`` is served as it is; an exception is raised."""
    remaining = list(answers)

    def answer(request: httpx.Request) -> httpx.Response:
        current = remaining.pop(0) if len(remaining) > 1 else remaining[0]
        if isinstance(current, BaseException):
            raise current
        if isinstance(current, httpx.Response):
            return current
        if json.loads(request.content).get("action") == "retrieve_batch":
            items = [current] if current else []
            return httpx.Response(200, json={"items": items, "count": len(items)})
        return httpx.Response(200, json=current)

    return answer


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_client(clock: FakeClock | None = None, **kwargs: object) -> AceDataImagesClient:
    options: dict[str, object] = {
        "base_url": BASE_URL,
        "poll_schedule": PollSchedule(first_delay=0.5, factor=1.5, max_interval=5.0),
        # No jitter: tests assert the exact sleeps (test_polling.py checks the jitter).
        "retry_policy": RetryPolicy(
            max_retries=2, base_delay=0.5, max_delay=8.0, settle_time=3.0, jitter=0.0
        ),
    }
    options.update(kwargs)
    client = AceDataImagesClient(TOKEN, **options)  # type: ignore[arg-type]
    if clock is not None:
        client._clock = clock.time
        client._sleep = clock.sleep
        client._async_sleep = clock.async_sleep
    return client


@contextmanager
def mock_api(*, earlier_jobs: bool = True) -> Iterator[respx.MockRouter]:
    """A respx router on :data:`BASE_URL`; with ``earlier_jobs`` its first route answers the
    pre-submit look-ups of keyed tool calls with "no such job"."""
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        if earlier_jobs:
            no_earlier_jobs(router)
        yield router


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with mock_api() as router:
        yield router


@pytest.fixture
def client(clock: FakeClock) -> Iterator[AceDataImagesClient]:
    with make_client(clock) as instance:
        yield instance


@pytest.fixture
async def aclient(clock: FakeClock) -> AsyncIterator[AceDataImagesClient]:
    async with make_client(clock) as instance:
        yield instance


class _EarlierJobLookup(Pattern):
    """Matches the look-up a keyed tool call makes before submitting (a ``retrieve_batch`` for
    its derived trace_id, or a scan of recent tasks), and nothing a test sends itself."""

    lookups = (Lookup.EQUAL,)
    key = "earlier_job_lookup"

    def __init__(self) -> None:
        super().__init__(True)

    def parse(self, request: httpx.Request) -> bool:
        body = json.loads(request.content or b"{}")
        if body.get("action") != "retrieve_batch" or body.get("ids"):
            return False
        keyed = [str(t).startswith("lcai-") for t in body.get("trace_ids") or []]
        scan = body.get("limit") == SCAN_PAGE and {"created_at_min", "offset"} <= body.keys()
        return bool(keyed and all(keyed)) or scan


def no_earlier_jobs(router: respx.MockRouter) -> respx.Route:
    """Answer keyed tool calls' pre-submit look-ups with "no such job" (register it first)."""
    return router.route(_EarlierJobLookup(), method="POST").respond(
        200, json={"items": [], "count": 0}
    )
