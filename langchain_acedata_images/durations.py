"""Learned job durations: how long jobs of one kind usually take, so checks land near the finish.

Jobs are grouped by ``(model, quality, size class)``. For each group the client keeps the last
``window`` durations measured *by the server* (``finished_at - created_at`` of the task record,
or its ``elapsed``), so the figures carry neither the client's lateness nor clock skew. Once a
group has ``min_samples`` durations, :meth:`DurationEstimator.estimate` gives the range most of
its jobs finish in (the ``low``-th to ``high``-th percentile); the poller places its checks
densely inside that range and sparsely before it (see :class:`~.poller.PollCadence`).

Nothing is persisted: a new client starts cold and learns within a few jobs.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict, deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DurationKey = tuple[str, str, str]
"""``(model, quality, size class)`` of a job."""

_SIZE_CLASSES = ((512 * 512, "S"), (1792 * 1024, "1K"), (2048 * 2048, "2K"))
_MAX_SECONDS = 86_400.0  # a "duration" beyond a day is a broken record, not a job


def size_class(size: str | None) -> str:
    """``S`` (up to 512x512), ``1K``, ``2K``, ``4K`` by pixel count, or ``auto``."""
    width, _, height = (size or "").lower().partition("x")
    if not (width.isdigit() and height.isdigit()):
        return "auto"
    pixels = int(width) * int(height)
    for bound, name in _SIZE_CLASSES:
        if pixels <= bound:
            return name
    return "4K"


def duration_key(request: Mapping[str, Any] | Any) -> DurationKey:
    """The group a job's duration is learned in, from its request (a model or a mapping)."""

    def field(name: str) -> Any:
        if isinstance(request, Mapping):
            return request.get(name)
        return getattr(request, name, None)

    model = field("model")
    quality = field("quality")
    size = field("size")
    return (
        str(model) if model else "default",
        str(quality) if quality else "auto",
        size_class(str(size) if size else None),
    )


def server_duration(record: Any) -> float | None:
    """How long the server says a finished task took, or ``None`` when it does not say."""
    created: Any = getattr(record, "created_at", None)
    finished: Any = getattr(record, "finished_at", None)
    elapsed: Any = getattr(record, "elapsed", None)
    if _is_number(created) and _is_number(finished):
        seconds = float(finished - created)
    elif _is_number(elapsed):
        seconds = float(elapsed)
    else:
        return None
    return seconds if 0.0 < seconds < _MAX_SECONDS else None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class DurationEstimate:
    """Where jobs of one group usually finish, in seconds after their creation."""

    low: float
    high: float
    samples: int


class DurationEstimator:
    """Recent server-measured durations per :data:`DurationKey` (thread-safe, bounded)."""

    def __init__(
        self,
        *,
        window: int = 24,
        min_samples: int = 3,
        low: float = 10.0,
        high: float = 90.0,
        max_keys: int = 64,
    ) -> None:
        if window < 1 or min_samples < 1 or max_keys < 1 or not 0 <= low <= high <= 100:
            raise ValueError("DurationEstimator needs window, min_samples, max_keys >= 1 and "
                             "0 <= low <= high <= 100")  # fmt: skip
        self.window, self.min_samples, self.max_keys = window, min_samples, max_keys
        self.low, self.high = low, high
        self._samples: OrderedDict[DurationKey, deque[float]] = OrderedDict()
        # Asked for every watched job at every tick; recomputed only when a group changes.
        self._estimates: dict[DurationKey, DurationEstimate | None] = {}
        self._lock = threading.Lock()

    def observe(self, key: DurationKey, seconds: float) -> None:
        """Record one finished job's duration; the least recently used group goes beyond
        ``max_keys``."""
        if not 0.0 < seconds < _MAX_SECONDS:
            return
        with self._lock:
            samples = self._samples.get(key)
            if samples is None:
                samples = self._samples[key] = deque(maxlen=self.window)
                while len(self._samples) > self.max_keys:
                    dropped, _ = self._samples.popitem(last=False)
                    self._estimates.pop(dropped, None)
            self._samples.move_to_end(key)
            samples.append(seconds)
            self._estimates.pop(key, None)

    def estimate(self, key: DurationKey) -> DurationEstimate | None:
        """The usual finishing range of ``key``'s jobs, once enough of them were seen."""
        with self._lock:
            if key in self._estimates:
                return self._estimates[key]
            samples = sorted(self._samples.get(key, ()))
            estimate = None
            if len(samples) >= self.min_samples:
                low, high = _percentile(samples, self.low), _percentile(samples, self.high)
                estimate = DurationEstimate(low, high, len(samples))
            self._estimates[key] = estimate
            return estimate

    def snapshot(self) -> dict[DurationKey, DurationEstimate]:
        """Every group with an estimate (for logs, docs and benchmarks)."""
        with self._lock:
            keys = list(self._samples)
        found = {key: self.estimate(key) for key in keys}
        return {key: estimate for key, estimate in found.items() if estimate is not None}

    def clear(self) -> None:
        with self._lock:
            self._samples.clear()
            self._estimates.clear()


def _percentile(ordered: list[float], q: float) -> float:
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


__all__ = [
    "DurationEstimate",
    "DurationEstimator",
    "DurationKey",
    "duration_key",
    "server_duration",
    "size_class",
]
