"""What a tool learns from the LangGraph run it is part of, and waiting for its checkpoint.

A tool run by LangGraph gets the task's ``RunnableConfig``. Two things in it matter for
paying once per tool call:

- **The task.** ``configurable["checkpoint_ns"]`` ends in ``<node>:<task id>`` (outer graphs'
  tasks before it). LangGraph derives the task id from the id of the checkpoint that holds the
  model's message issuing the call: a node retry and a resume from that checkpoint run the
  same task id again, while a new invocation, a new turn or another user's run (even with a
  reused tool call id such as ``call_0``) gets a new checkpoint, so a new task id.
- **Durability.** Under ``durability="async"`` (LangGraph's default) the checkpoint holding the
  call is written in the background while the tool already runs. A crash before it lands
  re-runs the model, which issues a new call: a second paid job. The tool therefore waits,
  before submitting, until the checkpointer returns that checkpoint. ``"sync"`` needs no wait
  (LangGraph waits itself). ``"exit"`` writes nothing before the run ends, so nothing can be
  waited for: a warning says so once.
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger("langchain_acedata_images")

#: LangGraph's own configurable keys (langgraph._internal._constants), read, never written.
_CHECKPOINTER = "__pregel_checkpointer"
_DURABILITY = "__pregel_durability"
_TASK_ID = "__pregel_task_id"
_NS_SEP = "|"

#: The longest wait for the checkpoint holding the call; past it the job is submitted anyway.
CHECKPOINT_WAIT = 30.0
_FIRST_CHECK = 0.005
_MAX_CHECK = 0.2

EXIT_DURABILITY_WARNING = (
    "LangGraph durability='exit' saves no checkpoint before the run ends: if the process dies "
    "while an image job runs, the re-run model issues a new tool call and the job is paid "
    "again. Use durability='async' (the default) or 'sync' for exactly-once tool calls."
)
_exit_warned = False


def _configurable(config: Mapping[str, Any] | None) -> Mapping[str, Any]:
    configurable = (config or {}).get("configurable")
    return configurable if isinstance(configurable, Mapping) else {}


def graph_task(config: Mapping[str, Any] | None) -> str | None:
    """The LangGraph task running the tool (its checkpoint namespace), ``None`` outside one."""
    configurable = _configurable(config)
    namespace = configurable.get("checkpoint_ns")
    if isinstance(namespace, str) and namespace:
        return namespace
    task_id = configurable.get(_TASK_ID)
    return task_id if isinstance(task_id, str) and task_id else None


@dataclass(frozen=True)
class PendingCheckpoint:
    """The checkpoint that holds the tool call, to be read back from ``saver``."""

    saver: Any
    lookup: dict[str, Any]


def checkpoint_to_await(config: Mapping[str, Any] | None) -> PendingCheckpoint | None:
    """The checkpoint to wait for before submitting (only under ``durability="async"``)."""
    configurable = _configurable(config)
    saver = configurable.get(_CHECKPOINTER)
    thread = configurable.get("thread_id")
    namespace = configurable.get("checkpoint_ns")
    if saver is None or thread is None or not isinstance(namespace, str) or not namespace:
        return None
    durability = configurable.get(_DURABILITY) or "async"
    if durability == "exit":
        _warn_exit_once()
        return None
    if durability != "async":
        return None
    # The task's namespace is "<graph's namespace>|<node>:<task id>"; the checkpoint holding
    # the call is the graph's current one, which checkpoint_map names per namespace.
    graph_namespace = namespace.rpartition(_NS_SEP)[0]
    checkpoints = configurable.get("checkpoint_map")
    checkpoint_id = checkpoints.get(graph_namespace) if isinstance(checkpoints, Mapping) else None
    if not checkpoint_id:
        return None
    lookup = {"thread_id": thread, "checkpoint_ns": graph_namespace, "checkpoint_id": checkpoint_id}
    return PendingCheckpoint(saver, {"configurable": lookup})


def _warn_exit_once() -> None:
    global _exit_warned
    if not _exit_warned:
        _exit_warned = True
        warnings.warn(EXIT_DURABILITY_WARNING, UserWarning, stacklevel=4)


def _stored(pending: PendingCheckpoint) -> bool:
    try:
        return pending.saver.get_tuple(pending.lookup) is not None
    except Exception:  # a failing read is "not yet": the wait is bounded
        logger.debug("checkpoint read failed while waiting", exc_info=True)
        return False


async def _astored(pending: PendingCheckpoint) -> bool:
    try:
        try:
            found = await pending.saver.aget_tuple(pending.lookup)
        except NotImplementedError:  # sync-only savers (SqliteSaver)
            found = await asyncio.to_thread(pending.saver.get_tuple, pending.lookup)
    except Exception:
        logger.debug("checkpoint read failed while waiting", exc_info=True)
        return False
    return found is not None


def _gave_up() -> None:
    logger.warning(
        "the LangGraph checkpoint holding this tool call was not stored after %.0f s; "
        "submitting the image job anyway (a crash now could pay for it twice)",
        CHECKPOINT_WAIT,
    )


def wait_until_durable(config: Mapping[str, Any] | None, limit: float = CHECKPOINT_WAIT) -> None:
    """Block until the checkpoint holding the tool call is stored (see the module doc)."""
    pending = checkpoint_to_await(config)
    if pending is None:
        return
    deadline = time.monotonic() + limit
    pause = _FIRST_CHECK
    while not _stored(pending):
        if time.monotonic() >= deadline:
            _gave_up()
            return
        time.sleep(pause)
        pause = min(pause * 2, _MAX_CHECK)


async def await_until_durable(
    config: Mapping[str, Any] | None, limit: float = CHECKPOINT_WAIT
) -> None:
    """Async twin of :func:`wait_until_durable`."""
    pending = checkpoint_to_await(config)
    if pending is None:
        return
    deadline = time.monotonic() + limit
    pause = _FIRST_CHECK
    while not await _astored(pending):
        if time.monotonic() >= deadline:
            _gave_up()
            return
        await asyncio.sleep(pause)
        pause = min(pause * 2, _MAX_CHECK)
