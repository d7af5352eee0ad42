"""Run a flow with real I/O: :func:`sync_drive` (``httpx.Client``, ``time.sleep``) and
:func:`async_drive` (``httpx.AsyncClient``, ``asyncio.sleep``).

Like httpx's ``Auth.sync_auth_flow`` / ``async_auth_flow``: the drivers only perform steps and
hand back outcomes (or throw the step's exception into the flow); every decision lives in the
flow. A step a driver does not know is a programming error and raises at once.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator
from typing import Any

import httpx
from httpx_sse import EventSource, ServerSentEvent

from ._poller_io import AsyncWaiter, PollerHub, SyncWaiter
from ._steps import (
    Await,
    Close,
    Emit,
    Flow,
    NextEvent,
    ProgressCallback,
    ProgressEvent,
    Read,
    Send,
    Sleep,
    T,
    Watch,
)


class UnknownStepError(TypeError):
    """A flow yielded something that is not a step; the driver refuses to guess."""

    def __init__(self, step: object) -> None:
        super().__init__(f"a flow yielded {step!r}, which is not an I/O step")


def _trace_start(step: Send, *, asynchronous: bool) -> None:
    """Have httpcore tell ``step`` when the request headers start to go out."""

    def started(name: str, info: object) -> None:
        if name.endswith("send_request_headers.started"):
            step.started = True

    async def astarted(name: str, info: object) -> None:
        started(name, info)

    trace = astarted if asynchronous else started
    step.request.extensions = {**step.request.extensions, "trace": trace}


class _SyncIO:
    """Performs steps with blocking I/O; keeps the open streams to close them at the end."""

    def __init__(
        self,
        client: httpx.Client,
        sleep: Callable[[float], None],
        on_progress: Callable[[ProgressEvent], Any] | None,
        pollers: PollerHub | None,
    ) -> None:
        self.client, self.sleep, self.on_progress = client, sleep, on_progress
        self.pollers = pollers
        self.streams: dict[int, tuple[httpx.Response, Iterator[ServerSentEvent]]] = {}
        self.waiters: list[SyncWaiter] = []

    def perform(self, step: object) -> Any:
        if isinstance(step, Send):
            _trace_start(step, asynchronous=False)
            response = self.client.send(step.request, stream=step.stream)
            if step.stream:
                # Parsed as the SSE spec says (fields, multi-line data, CR/LF/CRLF) by httpx-sse.
                self.streams[id(response)] = (response, EventSource(response).iter_sse())
            return response
        if isinstance(step, Sleep):
            if step.seconds > 0:
                self.sleep(step.seconds)
        elif isinstance(step, Emit):
            if self.on_progress is not None:
                self.on_progress(step.event)
        elif isinstance(step, NextEvent):
            return next(self.streams[id(step.response)][1], None)
        elif isinstance(step, Read):
            self.streams.pop(id(step.response), None)
            step.response.read()
        elif isinstance(step, Close):
            self.streams.pop(id(step.response), None)
            step.response.close()
        elif isinstance(step, Watch):
            waiter = _hub(self.pollers, step).sync.watch(
                step.task_id, origin=step.origin, deadline=step.deadline, key=step.key
            )
            self.waiters.append(waiter)
            return waiter
        elif isinstance(step, Await):
            return step.waiter.next()
        else:
            raise UnknownStepError(step)
        return None

    def close(self) -> None:
        for response, _ in self.streams.values():
            response.close()
        for waiter in self.waiters:
            waiter.close()


# Work that outlives a cancelled caller (see _shielded); referenced until done.
_ORPHANS: set[asyncio.Task[Any]] = set()


async def _shielded(work: Awaitable[T], abortable: Callable[[], bool] | None = None) -> T:
    """Await ``work`` so that cancelling the caller never interrupts it half-way.

    httpcore's async pool can be left with connections it believes busy forever when a task
    is cancelled inside it (later requests then end in ``PoolTimeout``). Cancellation is
    therefore delivered to the caller only: the I/O itself finishes (bounded by the client's
    timeouts) in its own task, and a response it returns to nobody is closed. While
    ``abortable()`` is true (a request that has not begun to leave) the work is cancelled
    too, so a cancelled call never sends a submission it had not sent yet.
    """
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        if abortable is not None and abortable():
            task.cancel()
        _ORPHANS.add(task)
        task.add_done_callback(_release_orphan)
        raise


def _release_orphan(task: asyncio.Task[Any]) -> None:
    _ORPHANS.discard(task)
    if task.cancelled() or task.exception() is not None:  # retrieving it silences the warning
        return
    result = task.result()
    if isinstance(result, httpx.Response) and not result.is_closed:
        closing = asyncio.ensure_future(result.aclose())
        _ORPHANS.add(closing)
        closing.add_done_callback(_ORPHANS.discard)


class _AsyncIO:
    """Performs steps with asyncio I/O; keeps the open streams to close them at the end."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        sleep: Callable[[float], Awaitable[None]],
        on_progress: ProgressCallback | None,
        pollers: PollerHub | None,
    ) -> None:
        self.client, self.sleep, self.on_progress = client, sleep, on_progress
        self.pollers = pollers
        self.streams: dict[int, tuple[httpx.Response, AsyncGenerator[ServerSentEvent, None]]] = {}
        self.waiters: list[AsyncWaiter] = []

    async def perform(self, step: object) -> Any:
        if isinstance(step, Send):
            _trace_start(step, asynchronous=True)
            sending = self.client.send(step.request, stream=step.stream)
            response = await _shielded(sending, abortable=lambda: not step.started)
            if step.stream:
                self.streams[id(response)] = (response, EventSource(response).aiter_sse())
            return response
        if isinstance(step, Sleep):
            if step.seconds > 0:
                await self.sleep(step.seconds)
        elif isinstance(step, Emit):
            if self.on_progress is not None:
                maybe = self.on_progress(step.event)
                if inspect.isawaitable(maybe):
                    await maybe
        elif isinstance(step, NextEvent):
            return await _shielded(anext(self.streams[id(step.response)][1], None))
        elif isinstance(step, Read):
            await self._forget(step.response)
            await _shielded(step.response.aread())
        elif isinstance(step, Close):
            await self._forget(step.response)
            await _shielded(step.response.aclose())
        elif isinstance(step, Watch):
            waiter = (
                _hub(self.pollers, step)
                .current()
                .watch(step.task_id, origin=step.origin, deadline=step.deadline, key=step.key)
            )
            self.waiters.append(waiter)
            return waiter
        elif isinstance(step, Await):
            return await step.waiter.next()
        else:
            raise UnknownStepError(step)
        return None

    async def _forget(self, response: httpx.Response) -> None:
        stream = self.streams.pop(id(response), None)
        if stream is not None:  # closed here, not by the garbage collector after the loop
            await _shielded(stream[1].aclose())

    async def close(self) -> None:
        for waiter in self.waiters:  # first: a cancelled wait stops being polled at once
            waiter.close()
        for response, _ in self.streams.values():
            await _shielded(response.aclose())


def _hub(pollers: PollerHub | None, step: Watch) -> PollerHub:
    if pollers is None:
        raise UnknownStepError(step)  # this driver was given no poller to watch with
    return pollers


def sync_drive(
    flow: Flow[T],
    client: httpx.Client,
    sleep: Callable[[float], None],
    on_progress: Callable[[ProgressEvent], Any] | None = None,
    pollers: PollerHub | None = None,
) -> T:
    """Run ``flow`` with blocking I/O and return its value."""
    io = _SyncIO(client, sleep, on_progress, pollers)
    outcome: Any = None
    error: Exception | None = None
    try:
        while True:
            try:
                step = flow.throw(error) if error is not None else flow.send(outcome)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            outcome, error = None, None
            try:
                outcome = io.perform(step)
            except UnknownStepError:
                raise
            except Exception as exc:
                error = exc
    finally:
        flow.close()
        io.close()


async def async_drive(
    flow: Flow[T],
    client: httpx.AsyncClient,
    sleep: Callable[[float], Awaitable[None]],
    on_progress: ProgressCallback | None = None,
    pollers: PollerHub | None = None,
) -> T:
    """Run ``flow`` with asyncio I/O (no thread offload) and return its value."""
    io = _AsyncIO(client, sleep, on_progress, pollers)
    outcome: Any = None
    error: Exception | None = None
    try:
        while True:
            try:
                step = flow.throw(error) if error is not None else flow.send(outcome)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            outcome, error = None, None
            try:
                outcome = await io.perform(step)
            except UnknownStepError:
                raise
            except Exception as exc:
                error = exc
    finally:
        flow.close()
        await io.close()
