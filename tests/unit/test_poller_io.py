"""The poller's drivers: one thread per client (sync), one task per event loop (async)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from langchain_acedata_images._poller_io import PollerHub
from langchain_acedata_images.durations import DurationEstimator
from langchain_acedata_images.errors import TransportError
from langchain_acedata_images.models import TaskRecord
from langchain_acedata_images.poller import PollCadence, PollerCore

FAST = PollCadence(min_interval=0.01, max_interval=0.02, min_spacing=0.005, max_rate=200)


class FakeTasks:
    """``/openai/tasks`` answering from a set of finished ids; counts requests."""

    def __init__(self) -> None:
        self.finished: set[str] = set()
        self.bodies: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def record(self, task_id: str) -> dict[str, Any]:
        record: dict[str, Any] = {"id": task_id, "created_at": 1.0}
        if task_id in self.finished:
            record.update(finished_at=2.0, response={"data": [{"url": "https://x.test/a.png"}]})
        return record

    def send(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.bodies.append(body)
            if body["action"] == "retrieve":
                return self.record(body["id"])
            items = [self.record(task_id) for task_id in body["ids"]]
            return {"items": items, "count": len(items)}

    async def asend(self, body: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(0)
        return self.send(body)


@pytest.fixture
def tasks() -> FakeTasks:
    return FakeTasks()


@pytest.fixture
def hub(tasks: FakeTasks) -> Iterator[PollerHub]:
    estimator = DurationEstimator()
    hub = PollerHub(lambda: PollerCore(FAST, estimator), tasks.send, tasks.asend, time.monotonic)
    yield hub
    hub.close()


def wait_until(condition: Any, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.005)


def test_the_sync_thread_resolves_each_waiter_and_stops_when_idle(
    hub: PollerHub, tasks: FakeTasks
) -> None:
    now = time.monotonic()
    first = hub.sync.watch("t1", origin=now, deadline=now + 30)
    second = hub.sync.watch("t2", origin=now, deadline=now + 30)
    assert hub.running == 1
    assert first.next().kind == "update"
    tasks.finished.add("t1")
    while (delivery := first.next()).kind == "update":
        pass
    assert delivery.kind == "finished"
    assert second.next().kind == "update"
    tasks.finished.add("t2")
    while (delivery := second.next()).kind == "update":
        pass
    assert delivery.kind == "finished"
    wait_until(lambda: hub.running == 0)
    assert not [t for t in threading.enumerate() if t.name == "acedata-images-poller"]
    batches = [body for body in tasks.bodies if body["action"] == "retrieve_batch"]
    # One request for both; most overdue first, so the order depends on when t1 was first seen.
    assert any(set(body["ids"]) == {"t1", "t2"} for body in batches)


def test_closing_one_sync_waiter_leaves_the_other_waiting(hub: PollerHub, tasks: FakeTasks) -> None:
    now = time.monotonic()
    gone = hub.sync.watch("t1", origin=now, deadline=now + 30)
    kept = hub.sync.watch("t2", origin=now, deadline=now + 30)
    gone.close()
    tasks.bodies.clear()
    assert kept.next().kind == "update"
    assert all(body["ids"] == ["t2"] for body in tasks.bodies)
    tasks.finished.add("t2")
    while (delivery := kept.next()).kind == "update":
        pass
    assert delivery.kind == "finished"


def test_a_caller_leaving_an_idle_poller_is_not_held_by_the_next_callers_job(
    tasks: FakeTasks,
) -> None:
    gate = threading.Event()

    def slow_send(body: dict[str, Any]) -> dict[str, Any]:
        gate.wait(5)  # the poller thread is busy with a check when the first caller leaves
        return tasks.send(body)

    hub = PollerHub(lambda: PollerCore(FAST), slow_send, tasks.asend, time.monotonic)
    now = time.monotonic()
    leaving = hub.sync.watch("t1", origin=now, deadline=now + 30)
    wait_until(lambda: hub.running == 1)
    arriving = threading.Timer(0.05, lambda: hub.sync.watch("t2", origin=now, deadline=now + 30))
    arriving.start()
    start = time.monotonic()
    leaving.close()  # idle for a moment, then the thread serves t2: no wait for it to end
    assert time.monotonic() - start < 0.5
    arriving.join()
    gate.set()
    hub.close()


def test_closing_the_hub_ends_sync_waits_and_the_thread(hub: PollerHub) -> None:
    now = time.monotonic()
    waiter = hub.sync.watch("t1", origin=now, deadline=now + 30)
    hub.close()
    while (delivery := waiter.next()).kind == "update":
        pass
    assert delivery.kind == "failed"
    assert isinstance(delivery.error, TransportError)
    wait_until(lambda: hub.running == 0)


def test_a_deadline_ends_one_sync_wait_only(hub: PollerHub, tasks: FakeTasks) -> None:
    now = time.monotonic()
    short = hub.sync.watch("t1", origin=now, deadline=now + 0.05)
    long = hub.sync.watch("t2", origin=now, deadline=now + 30)
    while (delivery := short.next()).kind == "update":
        pass
    assert delivery.kind == "timeout"
    tasks.finished.add("t2")
    while (delivery := long.next()).kind == "update":
        pass
    assert delivery.kind == "finished"


async def test_one_task_per_loop_resolves_waiters_and_a_cancelled_one_disturbs_none(
    hub: PollerHub, tasks: FakeTasks
) -> None:
    poller = hub.current()
    assert hub.current() is poller
    now = time.monotonic()

    async def wait_for(task_id: str) -> str:
        waiter = poller.watch(task_id, origin=now, deadline=now + 30)
        try:
            while (delivery := await waiter.next()).kind == "update":
                pass
            return delivery.kind
        finally:
            waiter.close()

    cancelled = asyncio.create_task(wait_for("t1"))
    kept = asyncio.create_task(wait_for("t2"))
    await asyncio.sleep(0.05)
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    tasks.finished.add("t2")
    assert await asyncio.wait_for(kept, 5) == "finished"
    for _ in range(100):
        if not poller.running:
            break
        await asyncio.sleep(0.01)
    assert not poller.running


async def test_a_callback_from_another_thread_resolves_an_async_wait(hub: PollerHub) -> None:
    now = time.monotonic()
    waiter = hub.current().watch("t1", origin=now, deadline=now + 30)
    record = TaskRecord(id="t1", finished_at=5.0, response={"data": [{"url": "https://x/1.png"}]})
    sender = threading.Thread(target=hub.deliver, args=(record,))
    sender.start()
    sender.join()
    while (delivery := await asyncio.wait_for(waiter.next(), 5)).kind == "update":
        pass
    assert delivery.kind == "finished"
    assert delivery.record is record


def test_a_callback_hint_checks_the_job_at_once(tasks: FakeTasks) -> None:
    slow = PollCadence(min_interval=30, max_interval=30, min_spacing=0, burst=10)
    hub = PollerHub(lambda: PollerCore(slow), tasks.send, tasks.asend, time.monotonic)
    now = time.monotonic()
    waiter = hub.sync.watch("t1", origin=now, deadline=now + 60)
    tasks.finished.add("t1")
    started = time.monotonic()
    hub.hint("t1")
    while (delivery := waiter.next()).kind == "update":
        pass
    assert delivery.kind == "finished"
    assert time.monotonic() - started < 5  # not the 30 s cadence
    hub.close()


def test_a_send_that_raises_a_bug_fails_the_waiters_instead_of_hanging() -> None:
    def broken(body: dict[str, Any]) -> dict[str, Any]:
        raise ZeroDivisionError("bug")

    async def never(body: dict[str, Any]) -> dict[str, Any]:
        raise AssertionError

    hub = PollerHub(lambda: PollerCore(FAST), broken, never, time.monotonic)
    now = time.monotonic()
    waiter = hub.sync.watch("t1", origin=now, deadline=now + 30)
    delivery = waiter.next()
    assert delivery.kind == "failed"
    assert isinstance(delivery.error, ZeroDivisionError)
    hub.close()
