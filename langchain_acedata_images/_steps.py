"""The vocabulary shared by the sans-I/O flows and their drivers: I/O steps, jobs, events.

A *flow* is a generator that yields steps (send a request, sleep, report progress, read a
streamed event) and receives their outcome; :mod:`._drivers` runs it with blocking or asyncio
I/O. Nothing here does I/O.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import httpx
from pydantic import BaseModel, Field

from .durations import DurationKey
from .models import _ImageRequestBase

if TYPE_CHECKING:
    from ._uploads import EditUpload

T = TypeVar("T")


class ProgressEvent(BaseModel):
    """What happened while a job ran; handed to ``on_progress`` callbacks."""

    kind: Literal["submitted", "poll", "partial_image", "finished", "cancelled"]
    elapsed: float
    task_id: str | None = None
    trace_id: str | None = None
    status: str | None = None
    poll: int | None = None
    partial_image_index: int | None = None
    b64_json: str | None = Field(default=None, repr=False)


ProgressCallback = Callable[[ProgressEvent], "Awaitable[None] | None"]


@dataclass
class Send:
    """Send a request; the outcome is the ``httpx.Response`` (streamed when ``stream``)."""

    request: httpx.Request
    stream: bool = False
    started: bool = False
    """Set by the driver once the request began to leave: from then on it may reach the server."""


@dataclass
class Sleep:
    seconds: float


@dataclass
class Emit:
    event: ProgressEvent


@dataclass
class NextEvent:
    """Read the next server-sent event of a streamed answer (``None`` at its end)."""

    response: httpx.Response


@dataclass
class Close:
    """Release a streamed answer."""

    response: httpx.Response


@dataclass
class Read:
    """Read a streamed answer to its end (when it turned out not to be an event stream)."""

    response: httpx.Response


@dataclass
class Watch:
    """Have the client's poller watch a task; the outcome is a waiter for :class:`Await`.

    ``origin`` is the task's estimated creation time on the client's clock, ``key`` its
    duration group (``None``: nothing to learn or use)."""

    task_id: str
    origin: float
    deadline: float
    key: DurationKey | None = None


@dataclass
class Await:
    """The next :class:`~.poller.Delivery` for a waiter: a status update or the wait's end.
    The driver stops the watch when the flow ends, however it ends."""

    waiter: Any


Step = Send | Sleep | Emit | NextEvent | Close | Read | Watch | Await
Flow = Generator[Step, Any, T]


@dataclass
class Job:
    """State of one generation/edit from submission to result."""

    request: _ImageRequestBase
    trace_id: str
    started: float
    deadline: float
    task_id: str | None = None
    upload: EditUpload | None = None
    """How an edit's images are sent (JSON URLs or multipart bytes); ``None`` for generations."""
    created_wall: float = 0.0
    """Unix time the job was made: the start of the window its task can be found in."""
    idempotent: bool = False
    """The trace_id derives from a caller's key: look the job up before submitting it."""
    note: str | None = None
    """What the result should tell about how the job was settled (a concurrent duplicate)."""
    submissions: list[Send] = field(default_factory=list)
    """Every submission attempt's step (``started`` tells whether it may have arrived)."""

    @property
    def may_exist(self) -> bool:
        """Whether the server may have this job (so it may be billed)."""
        return self.task_id is not None or any(send.started for send in self.submissions)


def new_trace_id() -> str:
    """A fresh client-chosen id that lets a submission be found again."""
    return f"lcai-{uuid.uuid4().hex}"
