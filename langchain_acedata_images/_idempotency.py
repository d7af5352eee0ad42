"""Exactly-once keys: a trace_id derived from a caller's key, and finding a job by its request.

A tool call that runs again (a LangGraph node retry, a resume from a checkpoint after a crash)
has the same tool call id and runs in the same LangGraph task, so it derives the same trace_id
and can find the job the first run submitted instead of paying for a second one; a new request
with a reused tool call id runs in another task, so it is another job. Servers that ignore
client trace_ids still store the request body as sent, so a job is also recognised by its
stored ``request``.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Literal

from ._graph_run import graph_task
from .models import TaskRecord

#: Fixed namespace of derived trace ids (uuid5); changing it would orphan every running job.
_KEY_NAMESPACE = uuid.UUID("6f1c8d2e-4b7a-5e39-9a41-2c0d7b5e8f13")
#: Fields of a submission that are transport details, not part of what was asked for.
_NOT_PARAMS = frozenset({"trace_id", "async", "stream", "callback_url"})
#: What the API applies to a parameter left out. A stored request may spell such a default
#: out (or leave out one we sent), so a parameter equal to its default counts as absent.
_API_DEFAULTS: Mapping[str, Any] = {
    "n": 1,
    "size": "auto",
    "quality": "auto",
    "background": "auto",
    "moderation": "auto",
    "output_format": "png",
    "response_format": "url",
}

Match = Literal["ours", "same", "other"]

# The idempotency key of the tool call being run (set around BaseTool.run/arun, which know
# the tool call id and the RunnableConfig; the tool's _run only gets the arguments).
_TOOL_CALL_KEY: ContextVar[str | None] = ContextVar("acedata_tool_call_key", default=None)


def derive_trace_id(key: str, namespace: str | None = None) -> str:
    """The trace_id of the job made for ``key`` (stable across processes and runs)."""
    name = f"{namespace or ''}\x1f{key}"
    return f"lcai-{uuid.uuid5(_KEY_NAMESPACE, name).hex}"


def tool_call_key(tool_name: str, tool_call_id: str, config: Mapping[str, Any] | None) -> str:
    """The idempotency key of one tool call: the thread, the tool, the call id and the task.

    Tool call ids are only unique within one model answer (providers and scripted models
    reuse ``call_0``). Run by LangGraph, the key also names the task running the tool (see
    :func:`._graph_run.graph_task`): a node retry or a resume runs the same task, while another
    invocation, turn or user gets a new one, so a reused id never returns another call's job.
    The thread id of the run's ``RunnableConfig`` (when present) keeps conversations apart.
    """
    configurable = (config or {}).get("configurable") or {}
    thread = configurable.get("thread_id") if isinstance(configurable, Mapping) else None
    key = f"{thread or ''}\x1f{tool_name}\x1f{tool_call_id}"
    task = graph_task(config)
    return key if task is None else f"{key}\x1f{task}"


@contextmanager
def tool_call_scope(
    tool_name: str, tool_call_id: str | None, config: Mapping[str, Any] | None
) -> Iterator[None]:
    """Within this block, :func:`current_tool_call_key` is the key of this tool call."""
    key = tool_call_key(tool_name, tool_call_id, config) if tool_call_id else None
    token = _TOOL_CALL_KEY.set(key)
    try:
        yield
    finally:
        _TOOL_CALL_KEY.reset(token)


def current_tool_call_key(body: Mapping[str, Any]) -> str | None:
    """The key of the tool call running in this context for a job asking ``body``.

    The arguments are part of the key: a re-run of a tool call asks exactly the same, while a
    reused tool call id with other arguments (scripted tests, replays) is another job.
    ``None`` outside a tool call.
    """
    key = _TOOL_CALL_KEY.get()
    return None if key is None else with_arguments(key, body)


def with_arguments(key: str, body: Mapping[str, Any]) -> str:
    """``key`` extended by a digest of what the job asks."""
    asked = json.dumps(body, sort_keys=True, ensure_ascii=False, default=str)
    return f"{key}\x1f{hashlib.sha256(asked.encode()).hexdigest()}"


def parameters(body: Mapping[str, Any]) -> dict[str, Any]:
    """What a request asks for: its fields without transport details (trace_id, async,
    stream, callback_url), nulls, and parameters equal to the API's default for them."""
    return {
        name: value
        for name, value in body.items()
        if name not in _NOT_PARAMS
        and value is not None
        and not (name in _API_DEFAULTS and value == _API_DEFAULTS[name])
    }


def match(record: TaskRecord, body: Mapping[str, Any], trace_id: str) -> Match:
    """Whether ``record`` is our job (``ours``), one asked the same way (``same``), or not.

    ``ours``: the task or its stored request carries our trace_id. ``same``: the stored
    request carries no trace_id at all and asks exactly what we ask: equal :func:`parameters`
    on both sides, so a stored request with more parameters (another size, ``n=3``) is
    another job, not a superset of ours. A stored request with another trace_id is another
    caller's job, however alike.
    """
    stored = record.request if isinstance(record.request, Mapping) else {}
    if trace_id in (record.trace_id, stored.get("trace_id")):
        return "ours"
    if stored.get("trace_id") or not stored:
        return "other"
    return "same" if parameters(stored) == parameters(body) else "other"


def creation_order(record: TaskRecord) -> tuple[float, str]:
    """Sort key of tasks by the server's creation time (then id): every process that sees the
    same tasks picks the same first one."""
    created = record.created_at if record.created_at is not None else float("inf")
    return created, record.id or ""


def best_match(
    records: Iterable[TaskRecord], body: Mapping[str, Any], trace_id: str
) -> tuple[TaskRecord | None, bool]:
    """The earliest record that is ours (``(record, True)``), else the first alike one."""
    ours: list[TaskRecord] = []
    alike: TaskRecord | None = None
    for record in records:
        verdict = match(record, body, trace_id)
        if verdict == "ours":
            ours.append(record)
        elif verdict == "same" and alike is None:
            alike = record
    if ours:
        return min(ours, key=creation_order), True
    return alike, False
