"""The poller's I/O: one background thread per client for sync callers, one task per event loop
for async ones. Both run the same :class:`~.poller.PollerCore` loop — expire, plan, send,
apply — and exist only while jobs are watched: the thread ends and the task returns as soon as
nothing is left to wait for, so an idle client holds neither.

A waiter is a queue of :class:`~.poller.Delivery` objects for one waiting call; closing it
(its call returned, failed or was cancelled) stops watching its job and disturbs no other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from .durations import DurationKey
from .errors import TransportError
from .models import TaskRecord
from .poller import Check, Delivery, PollerCore

logger = logging.getLogger(__name__)
_JOIN_STEP = 0.01  # how often a caller waiting for an idle thread checks for new watchers

Send = Callable[[dict[str, Any]], Any]
ASend = Callable[[dict[str, Any]], Awaitable[Any]]
Pause = Callable[[threading.Condition, float], None]
APause = Callable[[asyncio.Event, float], Awaitable[None]]


def _wait_on_condition(condition: threading.Condition, seconds: float) -> None:
    condition.wait(seconds)


async def _wait_on_event(event: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)


def _closed(waiter: int, task_id: str) -> Delivery:
    error = TransportError("the client was closed while waiting", task_id=task_id)
    return Delivery(waiter, "failed", error=error)


class SyncWaiter:
    """One blocking call's view of the poller."""

    def __init__(self, poller: SyncPoller, waiter: int, deliveries: queue.SimpleQueue[Delivery]):
        self._poller, self.id, self._deliveries = poller, waiter, deliveries

    def next(self) -> Delivery:
        """Block until the next status update or the end of the wait."""
        return self._deliveries.get()

    def close(self) -> None:
        self._poller.forget(self.id)


class AsyncWaiter:
    """One coroutine's view of its event loop's poller."""

    def __init__(self, poller: AsyncPoller, waiter: int, deliveries: asyncio.Queue[Delivery]):
        self._poller, self.id, self._deliveries = poller, waiter, deliveries

    async def next(self) -> Delivery:
        """Wait for the next status update or the end of the wait."""
        return await self._deliveries.get()

    def close(self) -> None:
        self._poller.forget(self.id)


class SyncPoller:
    """The client's background polling thread (started on demand, gone when idle)."""

    def __init__(
        self,
        core: PollerCore,
        send: Send,
        clock: Callable[[], float],
        pause: Pause = _wait_on_condition,
    ) -> None:
        self._core, self._send, self._clock, self._pause = core, send, clock, pause
        self._condition = threading.Condition()
        self._queues: dict[int, queue.SimpleQueue[Delivery]] = {}
        self._task_of: dict[int, str] = {}
        self._thread: threading.Thread | None = None

    def watch(
        self, task_id: str, *, origin: float, deadline: float, key: DurationKey | None = None
    ) -> SyncWaiter:
        with self._condition:
            waiter = self._core.watch(
                task_id, origin=origin, deadline=deadline, key=key, now=self._clock()
            )
            deliveries: queue.SimpleQueue[Delivery] = queue.SimpleQueue()
            self._queues[waiter], self._task_of[waiter] = deliveries, task_id
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="acedata-images-poller", daemon=True
                )
                self._thread.start()
            self._condition.notify_all()
        return SyncWaiter(self, waiter, deliveries)

    def forget(self, waiter: int) -> None:
        """Stop watching for ``waiter``; when it was the last, wait (briefly) for the thread
        to end, so a client whose calls have returned runs no thread."""
        with self._condition:
            self._core.forget(waiter)
            self._queues.pop(waiter, None)
            self._task_of.pop(waiter, None)
            self._condition.notify_all()
            thread = self._thread if self._core.idle else None
        if thread is not None and thread is not threading.current_thread():
            self._join_while_idle(thread)

    def _join_while_idle(self, thread: threading.Thread, timeout: float = 1.0) -> None:
        """Wait for an idle poller's thread to end, but not once another call watches a job:
        the thread then serves that call, and this caller has its answer already."""
        give_up = time.monotonic() + timeout
        while thread.is_alive() and time.monotonic() < give_up:
            thread.join(timeout=_JOIN_STEP)
            with self._condition:
                if not self._core.idle:
                    return

    def deliver(self, record: TaskRecord) -> None:
        """Resolve the waiters of a finished ``record`` (from a callback)."""
        with self._condition:
            self._dispatch(self._core.deliver(record, self._clock()))

    def hint(self, task_id: str) -> None:
        """Check ``task_id`` at once (a callback said it finished)."""
        with self._condition:
            self._core.hint(task_id, self._clock())
            self._condition.notify_all()

    def close(self) -> None:
        """End every wait with a TransportError and let the thread finish."""
        with self._condition:
            for waiter, task_id in list(self._task_of.items()):
                self._core.forget(waiter)
                self._queues[waiter].put(_closed(waiter, task_id))
            self._queues.clear()
            self._task_of.clear()
            thread = self._thread
            self._condition.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5.0)

    @property
    def running(self) -> bool:
        return self._thread is not None

    def _dispatch(self, deliveries: list[Delivery]) -> None:
        for delivery in deliveries:
            target = self._queues.get(delivery.waiter)
            if target is not None:
                target.put(delivery)
            if delivery.final:
                self._queues.pop(delivery.waiter, None)
                self._task_of.pop(delivery.waiter, None)

    def _next_check(self) -> Check | None:
        """Under the lock: wait until a check is due; ``None`` once nothing is watched."""
        while not self._core.idle:
            now = self._clock()
            self._dispatch(self._core.expire(now))
            check = self._core.plan(now)
            if check is not None:
                return check
            wake = self._core.wake_at()
            if wake is not None:
                self._pause(self._condition, max(0.0, wake - now))
        self._thread = None
        return None

    def _run(self) -> None:
        try:
            while True:
                with self._condition:
                    check = self._next_check()
                if check is None:
                    return
                try:
                    answer, error = self._send(check.body), None
                except Exception as exc:
                    answer, error = None, exc
                with self._condition:
                    now = self._clock()
                    if error is None:
                        self._dispatch(self._core.on_answer(check, answer, now))
                    else:
                        self._dispatch(self._core.on_error(check, error, now))
        except BaseException as exc:  # a bug must not leave callers blocked forever
            logger.exception("the polling thread failed")
            with self._condition:
                for waiter in list(self._queues):
                    self._core.forget(waiter)
                    self._queues[waiter].put(Delivery(waiter, "failed", error=exc))
                self._queues.clear()
                self._task_of.clear()
                self._thread = None
            raise


class AsyncPoller:
    """One event loop's polling task for one client (started on demand, gone when idle)."""

    def __init__(
        self,
        core: PollerCore,
        send: ASend,
        clock: Callable[[], float],
        loop: asyncio.AbstractEventLoop,
        pause: APause = _wait_on_event,
    ) -> None:
        self._core, self._send, self._clock, self._pause = core, send, clock, pause
        # Weak: the hub maps loops to pollers weakly, and a value must not keep its key alive.
        self._loop = weakref.ref(loop)
        self._wake = asyncio.Event()
        self._queues: dict[int, asyncio.Queue[Delivery]] = {}
        self._task: asyncio.Task[None] | None = None

    def watch(
        self, task_id: str, *, origin: float, deadline: float, key: DurationKey | None = None
    ) -> AsyncWaiter:
        waiter = self._core.watch(
            task_id, origin=origin, deadline=deadline, key=key, now=self._clock()
        )
        deliveries: asyncio.Queue[Delivery] = asyncio.Queue()
        self._queues[waiter] = deliveries
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="acedata-images-poller"
            )
        self._wake.set()
        return AsyncWaiter(self, waiter, deliveries)

    def forget(self, waiter: int) -> None:
        self._core.forget(waiter)
        self._queues.pop(waiter, None)
        self._wake.set()

    def deliver(self, record: TaskRecord) -> None:
        """Thread-safe: resolve the waiters of a finished ``record`` (from a callback)."""
        self._call_soon(lambda: self._dispatch(self._core.deliver(record, self._clock())))

    def hint(self, task_id: str) -> None:
        """Thread-safe: check ``task_id`` at once (a callback said it finished)."""

        def check_now() -> None:
            self._core.hint(task_id, self._clock())
            self._wake.set()

        self._call_soon(check_now)

    @property
    def running(self) -> bool:
        return self._task is not None

    def _call_soon(self, work: Callable[[], None]) -> None:
        loop = self._loop()
        if loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits there
            loop.call_soon_threadsafe(work)

    def _dispatch(self, deliveries: list[Delivery]) -> None:
        for delivery in deliveries:
            target = self._queues.get(delivery.waiter)
            if target is not None:
                target.put_nowait(delivery)
            if delivery.final:
                self._queues.pop(delivery.waiter, None)

    async def _run(self) -> None:
        try:
            while not self._core.idle:
                now = self._clock()
                self._dispatch(self._core.expire(now))
                check = self._core.plan(now)
                if check is None:
                    wake = self._core.wake_at()
                    if wake is not None:
                        self._wake.clear()
                        await self._pause(self._wake, max(0.0, wake - now))
                    continue
                try:
                    answer = await self._send(check.body)
                except Exception as exc:
                    self._dispatch(self._core.on_error(check, exc, self._clock()))
                else:
                    self._dispatch(self._core.on_answer(check, answer, self._clock()))
        except Exception as exc:  # a bug must not leave callers waiting forever
            logger.exception("the polling task failed")
            for waiter, deliveries in self._queues.items():
                self._core.forget(waiter)
                deliveries.put_nowait(Delivery(waiter, "failed", error=exc))
            self._queues.clear()
        finally:
            self._task = None


class PollerHub:
    """A client's pollers: the sync thread and one task per event loop, sharing what they
    learn about durations."""

    def __init__(
        self,
        make_core: Callable[[], PollerCore],
        send: Send,
        asend: ASend,
        clock: Callable[[], float],
        pause: Pause = _wait_on_condition,
        apause: APause = _wait_on_event,
    ) -> None:
        self._make_core, self._send, self._asend = make_core, send, asend
        self._clock, self._pause, self._apause = clock, pause, apause
        self._lock = threading.Lock()
        self._sync: SyncPoller | None = None
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncPoller] = (
            weakref.WeakKeyDictionary()
        )

    @property
    def sync(self) -> SyncPoller:
        with self._lock:
            if self._sync is None:
                self._sync = SyncPoller(self._make_core(), self._send, self._clock, self._pause)
            return self._sync

    def current(self) -> AsyncPoller:
        """The running event loop's poller."""
        loop = asyncio.get_running_loop()
        with self._lock:
            poller = self._async.get(loop)
            if poller is None:
                core = self._make_core()
                poller = AsyncPoller(core, self._asend, self._clock, loop, self._apause)
                self._async[loop] = poller
            return poller

    def _all(self) -> list[SyncPoller | AsyncPoller]:
        with self._lock:
            found: list[SyncPoller | AsyncPoller] = list(self._async.values())
            if self._sync is not None:
                found.append(self._sync)
            return found

    def deliver(self, record: TaskRecord) -> None:
        """Thread-safe: hand a finished record (from a callback) to every poller."""
        for poller in self._all():
            poller.deliver(record)

    def hint(self, task_id: str) -> None:
        """Thread-safe: have every poller check ``task_id`` at once."""
        for poller in self._all():
            poller.hint(task_id)

    def close(self) -> None:
        """End the sync waits and stop the thread (async tasks end with their waiters)."""
        with self._lock:
            poller = self._sync
        if poller is not None:
            poller.close()

    @property
    def running(self) -> int:
        """How many pollers are running now (for tests and diagnostics)."""
        return sum(poller.running for poller in self._all())
