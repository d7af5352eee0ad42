"""The client-wide poller's decisions, without I/O: which jobs to check when, and with what.

Every job a client waits for is *watched* here. A tick sends ONE ``retrieve_batch`` request
naming every watched job (up to ``batch_size``; more go in the next tick), so the request rate
depends on the cadence, not on how many jobs run: at most one batch per
``PollCadence.min_interval`` (2 per second by default). Each answer resolves the waiters whose
jobs finished; the others get a status update and their next check time from the cadence.

Dialects without batch retrieval (``404``/``405``/``501``, ``api_not_implemented``, a small
batch refused with ``400``, or an answer without ``items``) switch the poller to one
``retrieve`` per due job, for the rest of the client's life. A batch answer that leaves out a
job it was asked for (a server that ignores ``ids``) gets that job checked with ``retrieve``;
a ``retrieve`` answered with another task's record ends that job's waits at once with a
:class:`~.errors.MalformedAnswerError` naming it (a batch answer's records are matched to
jobs by their own ids, so a record of a task nobody asked for is ignored).
``Retry-After`` pauses every check; each watcher keeps its own deadline.

The I/O lives in :mod:`._poller_io` (one thread per client, one task per event loop).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from ._results import parse_task_record
from .durations import DurationEstimate, DurationEstimator, DurationKey, server_duration
from .errors import AceDataImagesError, APIError, RateLimitError, ServerError, TransportError
from .models import TaskRecord
from .polling import PollSchedule

#: A batch refused with 400 that names at most this many ids means "no batch retrieval"
#: (the API's default ``limit`` is 12); a larger one is retried in halves first.
SMALL_BATCH = 12
_NOT_IMPLEMENTED_STATUSES = frozenset({404, 405, 501})
_COALESCE = 0.02  # checks due this close together go in one tick


@dataclass(frozen=True)
class PollCadence:
    """When the poller checks a job, from the job's age and its learned duration.

    Cold (nothing learned yet) a job is checked every ``growth`` × its age, at least every
    ``max_interval`` and at most every ``min_interval`` seconds: every 0.5 s for the first
    14 s, 1 s at 29 s, 1.5 s from 43 s on — a job is noticed on average half an interval
    after it finished.

    Once its group's usual range ``[low, high]`` is known (see :mod:`.durations`), checks are
    laid on a grid ending just past ``high``, stepping back by half the cold interval there
    (never below ``min_spacing``) down to ``low``; before ``low`` they are at most
    ``lead_fraction`` × ``low`` (and ``max_gap``) apart, after ``high`` cold again. A job that
    finishes where its group usually does is noticed sooner, with fewer checks.

    Batch requests are rationed by a token bucket: ``max_rate`` per second on average, bursts
    of up to ``burst`` at least ``min_spacing`` apart (the dense checks near a finish are paid
    for by the sparse ones before it). Once callbacks have been seen arriving, waits grow by
    ``callback_slowdown``: polling is then only the fallback.
    """

    min_interval: float = 0.5
    growth: float = 0.035
    max_interval: float = 1.5
    lead_fraction: float = 0.5
    max_gap: float = 10.0
    max_rate: float = 2.0
    burst: float = 4.0
    min_spacing: float = 0.25
    callback_slowdown: float = 4.0

    def __post_init__(self) -> None:
        if not 0 < self.min_interval <= self.max_interval or self.growth < 0:
            raise ValueError("PollCadence needs 0 < min_interval <= max_interval, growth >= 0")
        if self.lead_fraction < 0 or self.max_gap < 0 or self.callback_slowdown < 1:
            raise ValueError("PollCadence needs lead_fraction, max_gap >= 0, slowdown >= 1")
        if self.max_rate <= 0 or self.burst < 1 or not 0 <= self.min_spacing <= self.min_interval:
            raise ValueError("PollCadence needs max_rate > 0, burst >= 1, "
                             "0 <= min_spacing <= min_interval")  # fmt: skip

    def interval(self, age: float) -> float:
        """The cold wait between checks of a job ``age`` seconds old."""
        return min(max(self.growth * age, self.min_interval), self.max_interval)

    def next_check(self, age: float, estimate: DurationEstimate | None = None) -> float:
        """The age (seconds since creation) at which a job of ``age`` is next checked."""
        cold = age + self.interval(age)
        if estimate is None:
            return cold
        high = estimate.high * 1.02 + 0.05  # a hair past the usual finish, not just before
        if age >= high:
            return cold
        low = min(estimate.low, high)
        step = max(self.min_spacing, self.interval(high) / 2)
        target = high - math.floor((high - max(age, low)) / step) * step
        if target <= age + 1e-3:
            target += step
        lead = max(self.interval(age), min(self.max_gap, self.lead_fraction * low))
        return min(target, age + lead)


@dataclass(frozen=True)
class Check:
    """One status request the poller wants sent now."""

    body: dict[str, Any]
    task_ids: tuple[str, ...]
    batch: bool


@dataclass(frozen=True)
class Delivery:
    """What a waiter learns from a check: a status update, or how its wait ended."""

    waiter: int
    kind: Literal["update", "finished", "failed", "timeout"]
    record: TaskRecord | None = None
    error: BaseException | None = None
    polls: int = 0

    @property
    def final(self) -> bool:
        return self.kind != "update"


@dataclass
class _Watch:
    id: int
    task_id: str
    origin: float
    deadline: float
    key: DurationKey | None
    due: float
    polls: int = 0
    failures: int = 0
    single: bool = False


@dataclass
class PollerCore:
    """Watched jobs and the decisions about them; not thread-safe (its driver locks)."""

    cadence: PollCadence = field(default_factory=PollCadence)
    estimator: DurationEstimator | None = field(default_factory=DurationEstimator)
    """Where durations are learned and read; ``None``: learning off."""
    batch_size: int = 500
    max_failures: int = 8
    schedule: PollSchedule | None = None
    """A fixed per-job schedule chosen by the developer: used instead of ``cadence`` (and
    then batches are not rationed; the schedule decides)."""

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.max_failures < 0:
            raise ValueError("PollerCore needs batch_size >= 1 and max_failures >= 0")
        self._watches: dict[int, _Watch] = {}
        self._by_task: dict[str, dict[int, _Watch]] = {}
        self._next_id = 0
        self._last_batch = -math.inf
        self._tokens, self._tokens_at = self.cadence.burst, -math.inf
        self._paused_until = -math.inf
        self.batch_supported = True
        self.callbacks_seen = False

    # ------------------------------------------------------------------ watching

    def watch(
        self,
        task_id: str,
        *,
        origin: float,
        deadline: float,
        now: float,
        key: DurationKey | None = None,
    ) -> int:
        """Start watching ``task_id`` (created at ``origin``) until ``deadline``; a waiter id."""
        self._next_id += 1
        watch = _Watch(self._next_id, task_id, origin, deadline, key, due=now)
        watch.due = self._due(watch, now)
        self._watches[watch.id] = watch
        self._by_task.setdefault(task_id, {})[watch.id] = watch
        return watch.id

    def forget(self, waiter: int) -> None:
        """Stop watching for ``waiter`` (its caller gave up); the others are untouched."""
        self._remove(waiter)

    @property
    def idle(self) -> bool:
        return not self._watches

    def task_ids(self) -> set[str]:
        return set(self._by_task)

    def wake_at(self) -> float | None:
        """When the driver should next call :meth:`expire` and :meth:`plan`; ``None``: idle."""
        if not self._watches:
            return None
        watches = self._watches.values()
        times = [w.due for w in watches if self._single(w)]
        batched = [w.due for w in watches if not self._single(w)]
        if batched:
            times.append(max(min(batched), self._batch_ready_at()))
        wake = max(min(times), self._paused_until)
        return min(wake, min(w.deadline for w in watches))

    # ------------------------------------------------------------------ planning

    def expire(self, now: float) -> list[Delivery]:
        """Time out waiters past their deadline that cannot be checked right now."""
        batch_ready = now >= self._batch_ready_at() - 1e-9
        ready = now >= self._paused_until
        late = [
            w
            for w in self._watches.values()
            if now >= w.deadline and not (ready and (batch_ready or self._single(w)))
        ]
        return [self._end(watch, "timeout") for watch in late]

    def plan(self, now: float) -> Check | None:
        """The request to send now, or ``None`` when nothing is due yet."""
        if now < self._paused_until:
            return None
        due = sorted(
            (w for w in self._watches.values() if w.due <= now + _COALESCE), key=lambda w: w.due
        )
        if not due:
            return None
        single = next((w for w in due if self._single(w)), None)
        if single is not None:
            body: dict[str, Any] = {"action": "retrieve", "id": single.task_id}
            return Check(body, (single.task_id,), batch=False)
        if now < self._batch_ready_at() - 1e-9:
            return None
        chosen: dict[str, None] = {}  # ordered and de-duplicated: most overdue first
        for watch in sorted(self._watches.values(), key=lambda w: w.due):
            if not self._single(watch):
                chosen[watch.task_id] = None
                if len(chosen) == self.batch_size:
                    break
        ids = list(chosen)
        self._spend_token(now)
        batch = {"action": "retrieve_batch", "ids": ids, "limit": len(ids)}
        return Check(batch, tuple(ids), batch=True)

    # ------------------------------------------------------------------ answers

    def on_answer(self, check: Check, answer: Any, now: float) -> list[Delivery]:
        """Apply a status answer: finished jobs resolve their waiters, the rest are updated."""
        if not check.batch:
            # A record of another task fails this job's waits at once (MalformedAnswerError).
            record = _record(answer, check.task_ids[0]) if answer else None
            if isinstance(record, BaseException):
                return self._fail(check.task_ids[0], record)
            return self._apply(check.task_ids[0], record, now)
        items = answer.get("items") if isinstance(answer, dict) else None
        if not isinstance(items, list):
            self._give_up_batches(now)
            return []
        wanted = set(check.task_ids)
        parsed = {
            item["id"]: _record(item, item["id"])
            for item in items
            if isinstance(item, dict) and item.get("id") in wanted
        }
        deliveries: list[Delivery] = []
        for task_id, bad in parsed.items():
            if isinstance(bad, BaseException):
                deliveries += self._fail(task_id, bad)
        records = {k: r for k, r in parsed.items() if isinstance(r, TaskRecord)}
        # Records of tasks nobody asked for mean the server ignored ``ids``: it did not cut our
        # list short, so a job left out is asked for alone (where a lie fails it at once).
        foreign = any(isinstance(item, dict) and item.get("id") not in wanted for item in items)
        count = answer.get("count")
        truncated = (
            not foreign
            and isinstance(count, int)
            and count > len(items)
            and len(records) < len(wanted)
        )
        if truncated and items:
            self.batch_size = max(1, len(items))  # the server caps ``limit``: chunk below it
        for task_id in check.task_ids:
            if task_id in parsed and task_id not in records:
                continue  # unusable: its waiters were told
            if task_id in records:
                deliveries += self._apply(task_id, records[task_id], now)
                continue
            for watch in self._watching(task_id):
                watch.single = watch.single or not truncated
                watch.due = now
        return deliveries

    def on_error(self, check: Check, error: BaseException, now: float) -> list[Delivery]:
        """Apply a failed status request: switch dialect, pause, count failures or give up."""
        if check.batch and _means_no_batch(error, len(check.task_ids)):
            self._give_up_batches(now)
            return []
        if check.batch and isinstance(error, APIError) and error.status_code == 400:
            self.batch_size = max(SMALL_BATCH, len(check.task_ids) // 2)
            self._last_batch = -math.inf
            return []
        transient = isinstance(error, (TransportError, ServerError, RateLimitError))
        if isinstance(error, RateLimitError) and error.retry_after is not None:
            self._paused_until = max(self._paused_until, now + error.retry_after)
        deliveries: list[Delivery] = []
        for task_id in check.task_ids:
            for watch in self._watching(task_id):
                watch.failures += 1
                if not transient or watch.failures > self.max_failures:
                    deliveries.append(self._end(watch, "failed", error=error))
                elif now >= watch.deadline:
                    deliveries.append(self._end(watch, "timeout"))
                else:
                    watch.due = self._due(watch, now)
        return deliveries

    def deliver(self, record: TaskRecord, now: float) -> list[Delivery]:
        """A finished record from elsewhere (a webhook callback) resolves its waiters."""
        self.callbacks_seen = True
        if record.id is None or not record.finished:
            return []
        return self._apply(record.id, record, now)

    def hint(self, task_id: str, now: float) -> bool:
        """A callback said ``task_id`` finished: check it now. ``True`` if it is watched."""
        self.callbacks_seen = True
        watches = self._watching(task_id)
        for watch in watches:
            watch.due = now
        if watches:
            self._last_batch = -math.inf
        return bool(watches)

    # ------------------------------------------------------------------ internals

    def _batch_ready_at(self) -> float:
        """The earliest time the token bucket and ``min_spacing`` allow another batch."""
        cadence = self.cadence
        if self.schedule is not None:
            return self._last_batch
        ready = self._last_batch + cadence.min_spacing
        if self._tokens < 1:
            ready = max(ready, self._tokens_at + (1 - self._tokens) / cadence.max_rate)
        return ready

    def _spend_token(self, now: float) -> None:
        cadence = self.cadence
        refill = (now - self._tokens_at) * cadence.max_rate
        self._tokens = min(cadence.burst, self._tokens + refill) - 1
        self._tokens_at = self._last_batch = now

    def _fail(self, task_id: str, error: BaseException) -> list[Delivery]:
        """An unusable record of an accepted job ends its waits: look it up, never resubmit."""
        return [self._end(w, "failed", error=error) for w in self._watching(task_id)]

    def _single(self, watch: _Watch) -> bool:
        return watch.single or not self.batch_supported

    def _watching(self, task_id: str) -> list[_Watch]:
        return list(self._by_task.get(task_id, {}).values())

    def _remove(self, waiter: int) -> None:
        watch = self._watches.pop(waiter, None)
        if watch is not None:
            same_task = self._by_task[watch.task_id]
            del same_task[waiter]
            if not same_task:
                del self._by_task[watch.task_id]

    def _apply(self, task_id: str, record: TaskRecord | None, now: float) -> list[Delivery]:
        watches = self._watching(task_id)
        if record is not None and record.finished and watches:
            seconds = server_duration(record)
            key = watches[0].key
            if seconds is not None and key is not None and self.estimator is not None:
                self.estimator.observe(key, seconds)
        deliveries: list[Delivery] = []
        for watch in watches:
            watch.failures = 0
            watch.polls += 1
            if record is not None and record.finished:
                deliveries.append(self._end(watch, "finished", record=record))
                continue
            deliveries.append(Delivery(watch.id, "update", record=record, polls=watch.polls))
            if now >= watch.deadline:
                deliveries.append(self._end(watch, "timeout"))
            else:
                watch.due = self._due(watch, now)
        return deliveries

    def _end(
        self,
        watch: _Watch,
        kind: Literal["finished", "failed", "timeout"],
        *,
        record: TaskRecord | None = None,
        error: BaseException | None = None,
    ) -> Delivery:
        self._remove(watch.id)
        return Delivery(watch.id, kind, record=record, error=error, polls=watch.polls)

    def _due(self, watch: _Watch, now: float) -> float:
        if self.schedule is not None:
            return min(now + self.schedule.interval(watch.polls), watch.deadline)
        age = now - watch.origin
        estimate = None
        if watch.key is not None and self.estimator is not None:
            estimate = self.estimator.estimate(watch.key)
        wait = self.cadence.next_check(age, estimate) - age
        if self.callbacks_seen:
            wait *= self.cadence.callback_slowdown
        return min(now + wait, watch.deadline)

    def _give_up_batches(self, now: float) -> None:
        self.batch_supported = False
        for watch in self._watches.values():
            watch.single = True
            watch.due = min(watch.due, now)


def _means_no_batch(error: BaseException, size: int) -> bool:
    if not isinstance(error, APIError):
        return False
    if error.code == "api_not_implemented" or error.status_code in _NOT_IMPLEMENTED_STATUSES:
        return True
    return error.status_code == 400 and size <= SMALL_BATCH


def _record(item: Any, task_id: str) -> TaskRecord | AceDataImagesError | None:
    """The record, ``None`` for "no such task", or the error saying why it is unusable."""
    try:
        return parse_task_record(item, task_id=task_id)
    except AceDataImagesError as exc:
        return exc


__all__ = ["SMALL_BATCH", "Check", "Delivery", "PollCadence", "PollerCore"]
