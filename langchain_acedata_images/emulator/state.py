"""What the emulator remembers: tasks, generated files, the request log and the fault dice.

One :class:`EmulatorState` belongs to one app. It is read by tests from other threads (a
loopback server runs in its own thread), so mutations happen under one lock and readers get
copies.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
import uuid
from collections import Counter, OrderedDict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from .config import EmulatorConfig, FaultConfig
from .dialect import Dialect
from .rules import ImageJob

TYPE_IMAGES_MODELS = frozenset({"gpt-image-2", "gpt-image-2:reverse", "gpt-image-2:official"})
"""Models whose records say ``type: images`` under ``task_records=documented``."""


@dataclass(frozen=True)
class Owner:
    """Who submitted a task, derived from the token (records and batch filters use it)."""

    user_id: str
    application_id: str
    credential_id: str

    @classmethod
    def of_token(cls, token: str) -> Owner:
        digest = hashlib.sha256(token.encode()).hexdigest()
        return cls(
            user_id=str(uuid.UUID(digest[:32])),
            application_id=str(uuid.UUID(digest[32:64])),
            credential_id=str(uuid.uuid5(uuid.NAMESPACE_URL, digest)),
        )


NO_OWNER = Owner("", "", "")

MAX_LOG_ENTRIES = 10_000
"""Oldest request-log entries are dropped beyond this many."""


@dataclass
class Task:
    """A server-side image job and its life cycle."""

    id: str
    job: ImageJob
    request: dict[str, Any]
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None
    response: dict[str, Any] | None = None
    hide_timing: bool = False
    """Serve the record without ``started_at``/``elapsed`` (the missing-fields fault)."""
    owner: Owner = NO_OWNER

    def record(self, dialect: Dialect | None = None) -> dict[str, Any]:
        """The task as ``/openai/tasks`` returns it, with the dialect's extra fields."""
        record = self._seed_record()
        if dialect is not None and dialect.task_records == "documented":
            record = {"_id": self.id.replace("-", "")[:24], **record}
            if self.job.model in TYPE_IMAGES_MODELS:
                record["type"] = "images"
            record["application_id"] = self.owner.application_id
            record["user_id"] = self.owner.user_id
            record["credential_id"] = self.owner.credential_id
            if "elapsed" in record:
                record["duration"] = record["elapsed"]
        return record

    def _seed_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "id": self.id,
            "trace_id": self.job.trace_id,
            "type": self.job.kind,
            "request": self.request,
            "response": self.response,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "elapsed": (
                round(self.finished_at - self.created_at, 3)
                if self.finished_at is not None
                else None
            ),
        }
        if self.hide_timing:
            del record["started_at"], record["elapsed"]
        return record


@dataclass(frozen=True)
class StoredFile:
    """An image served at ``/files/<name>``."""

    data: bytes
    mime_type: str


@dataclass
class LogEntry:
    """One request the emulator answered."""

    time: float
    method: str
    path: str
    status: int | None = None
    trace_id: str | None = None
    task_id: str | None = None
    fault: str | None = None
    accepted: bool = False
    """A submission that created (and would have billed) a task."""
    action: str | None = None
    """A task request's ``action`` (``retrieve`` or ``retrieve_batch``)."""
    filters: list[str] = field(default_factory=list)
    """A task request's other body fields, sorted: tells a status check by ``ids`` from a
    look-up by ``trace_ids`` or a time-window scan."""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class EmulatorState:
    """Tasks, files, log and faults of one emulator app."""

    config: EmulatorConfig = field(default_factory=EmulatorConfig)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.faults: FaultConfig = self.config.faults
        self.dialect: Dialect = self.config.dialect
        self._dice = random.Random(self.config.seed)
        self._tasks: dict[str, Task] = {}
        self._tasks_of_trace: dict[str, list[str]] = {}
        self._position: dict[str, int] = {}  # creation order, for look-ups by id
        self._files: OrderedDict[str, StoredFile] = OrderedDict()
        self._stored_bytes = 0
        self._log: list[LogEntry] = []
        self._callbacks: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ faults and dice

    def set_faults(self, changes: Mapping[str, Any] | FaultConfig) -> FaultConfig:
        """Replace the fault settings (a ``FaultConfig``) or patch some of them (a mapping)."""
        with self._lock:
            self.faults = (
                changes if isinstance(changes, FaultConfig) else self.faults.patched(changes)
            )
            return self.faults

    def set_dialect(self, changes: Mapping[str, Any] | Dialect) -> Dialect:
        """Replace the dialect (a ``Dialect``) or patch some settings (a mapping, which may
        name a ``preset``); :meth:`reset` restores the config's dialect."""
        with self._lock:
            self.dialect = (
                changes if isinstance(changes, Dialect) else self.dialect.patched(changes)
            )
            return self.dialect

    def roll(self, outcomes: Mapping[str, float]) -> str | None:
        """Pick at most one outcome; each has its own probability (they sum to <= 1)."""
        if not any(outcomes.values()):
            return None
        with self._lock:
            point = self._dice.random()
        for name, probability in outcomes.items():
            if point < probability:
                return name
            point -= probability
        return None

    # -------------------------------------------------------------------------- tasks

    def create_task(
        self,
        job: ImageJob,
        request: dict[str, Any],
        hide_timing: bool,
        owner: Owner = NO_OWNER,
    ) -> Task:
        with self._lock:
            task = Task(
                id=str(uuid.uuid4()),
                job=job,
                request=request,
                created_at=time.time(),
                hide_timing=hide_timing,
                owner=owner,
            )
            self._tasks[task.id] = task
            self._position[task.id] = len(self._position)
            if job.trace_id:
                self._tasks_of_trace.setdefault(job.trace_id, []).append(task.id)
            return task

    def task(self, task_id: str | None = None, trace_id: str | None = None) -> Task | None:
        with self._lock:
            if task_id:
                return self._tasks.get(task_id)
            if trace_id:
                found = self._tasks_of_trace.get(trace_id)
                return self._tasks.get(found[0]) if found else None
            return None

    def tasks(
        self, ids: Collection[str] | None = None, trace_ids: Collection[str] | None = None
    ) -> list[Task]:
        """All tasks, or those with ``ids`` and ``trace_ids`` (found without a scan), oldest
        first."""
        with self._lock:
            if ids is None and trace_ids is None:
                return list(self._tasks.values())
            chosen = None if ids is None else set(ids)
            if trace_ids is not None:
                traced = {
                    task_id
                    for trace_id in trace_ids
                    for task_id in self._tasks_of_trace.get(trace_id, ())
                }
                chosen = traced if chosen is None else chosen & traced
            assert chosen is not None
            found = [self._tasks[task_id] for task_id in chosen if task_id in self._tasks]
            return sorted(found, key=lambda task: self._position[task.id])

    # -------------------------------------------------------------------------- files

    def store_file(self, name: str, data: bytes, mime_type: str) -> None:
        """Keep a generated image; the oldest are dropped beyond ``max_stored_bytes``."""
        with self._lock:
            self._files[name] = StoredFile(data, mime_type)
            self._stored_bytes += len(data)
            while self._stored_bytes > self.config.max_stored_bytes and len(self._files) > 1:
                _, dropped = self._files.popitem(last=False)
                self._stored_bytes -= len(dropped.data)

    def file(self, name: str) -> StoredFile | None:
        with self._lock:
            return self._files.get(name)

    # ---------------------------------------------------------------------------- log

    def log_request(self, entry: LogEntry) -> None:
        """Record a request as it arrives; its handler fills in the rest (status, task, fault)
        so a submission counts as accepted the moment its task exists."""
        with self._lock:
            self._log.append(entry)
            if len(self._log) > MAX_LOG_ENTRIES:
                del self._log[: len(self._log) - MAX_LOG_ENTRIES]

    def log_callback(self, delivery: dict[str, Any]) -> None:
        with self._lock:
            self._callbacks.append(delivery)

    def log(self) -> list[dict[str, Any]]:
        """Every answered request, oldest first."""
        with self._lock:
            return [entry.to_dict() for entry in self._log]

    def callbacks(self) -> list[dict[str, Any]]:
        """Every callback delivery attempt (url, status or error, task_id)."""
        with self._lock:
            return list(self._callbacks)

    def accepted_by_trace_id(self) -> dict[str, int]:
        """trace_id -> number of submissions that created a task for it."""
        with self._lock:
            counts = Counter(e.trace_id or "" for e in self._log if e.accepted)
        return dict(counts)

    def stats(self) -> dict[str, Any]:
        """Counters for tests: requests per path, accepted submissions, duplicates, faults."""
        accepted = self.accepted_by_trace_id()
        with self._lock:
            by_path = Counter(entry.path for entry in self._log)
            statuses = Counter(str(entry.status) for entry in self._log)
            return {
                "requests": len(self._log),
                "by_path": dict(by_path),
                "by_status": dict(statuses),
                "submissions": sum(accepted.values()),
                "duplicate_trace_ids": sorted(t for t, n in accepted.items() if t and n > 1),
                "tasks": len(self._tasks),
                "finished_tasks": sum(t.finished_at is not None for t in self._tasks.values()),
                "faults": dict(Counter(e.fault for e in self._log if e.fault)),
                "callbacks": len(self._callbacks),
                "stored_files": len(self._files),
            }

    def reset(self, *, faults: bool = True) -> None:
        """Forget tasks, files, log and callbacks (and the fault settings unless told not to)."""
        with self._lock:
            self._tasks.clear()
            self._tasks_of_trace.clear()
            self._position.clear()
            self._files.clear()
            self._stored_bytes = 0
            self._log.clear()
            self._callbacks.clear()
            self._dice = random.Random(self.config.seed)
            if faults:
                self.faults = self.config.faults
                self.dialect = self.config.dialect
