"""The LangGraph task of a tool call and the wait for the checkpoint that holds the call."""

from __future__ import annotations

import logging
import warnings
from typing import Any

import pytest

from langchain_acedata_images import _graph_run
from langchain_acedata_images._graph_run import (
    await_until_durable,
    checkpoint_to_await,
    graph_task,
    wait_until_durable,
)

SAVED = "1f0-checkpoint"


class Saver:
    """A checkpointer whose checkpoint ``SAVED`` is stored after ``late`` reads."""

    def __init__(self, late: int = 2, has_async: bool = True) -> None:
        self.late = late
        self.has_async = has_async
        self.reads: list[dict[str, Any]] = []

    def get_tuple(self, config: dict[str, Any]) -> object | None:
        self.reads.append(config)
        if len(self.reads) == 1:
            raise OSError("database is locked")  # a failing read is only "not yet"
        return object() if len(self.reads) > self.late else None

    async def aget_tuple(self, config: dict[str, Any]) -> object | None:
        if not self.has_async:
            raise NotImplementedError
        return self.get_tuple(config)


def task_config(saver: Any, durability: str | None = None, ns: str = "tools:t-1") -> Any:
    graph_ns = ns.rpartition("|")[0]
    configurable = {
        "thread_id": "t",
        "checkpoint_ns": ns,
        "checkpoint_map": {graph_ns: SAVED},
        "__pregel_checkpointer": saver,
        "__pregel_task_id": ns.rpartition(":")[2],
    }
    if durability is not None:
        configurable["__pregel_durability"] = durability
    return {"configurable": configurable}


@pytest.fixture(autouse=True)
def exit_not_warned_yet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_graph_run, "_exit_warned", False)


def test_the_task_is_the_tasks_checkpoint_namespace_or_its_id() -> None:
    assert graph_task(None) is None
    assert graph_task({"configurable": {"thread_id": "t", "checkpoint_ns": ""}}) is None
    assert graph_task(task_config(None, ns="agent:a|tools:b")) == "agent:a|tools:b"
    assert graph_task({"configurable": {"__pregel_task_id": "b"}}) == "b"


def test_only_async_durability_with_a_checkpointer_waits_for_the_graphs_checkpoint() -> None:
    saver = Saver()
    pending = checkpoint_to_await(task_config(saver, ns="agent:a|tools:b"))
    assert pending is not None
    assert pending.saver is saver
    expected = {"thread_id": "t", "checkpoint_ns": "agent:a", "checkpoint_id": SAVED}
    assert pending.lookup == {"configurable": expected}
    assert checkpoint_to_await(task_config(saver, "async")) is not None
    assert checkpoint_to_await(task_config(saver, "sync")) is None
    assert checkpoint_to_await(task_config(None)) is None
    assert checkpoint_to_await({"configurable": {"thread_id": "t"}}) is None
    assert checkpoint_to_await(None) is None


def test_exit_durability_warns_once() -> None:
    with pytest.warns(UserWarning, match="durability='exit'"):
        assert checkpoint_to_await(task_config(Saver(), "exit")) is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert checkpoint_to_await(task_config(Saver(), "exit")) is None


def test_the_wait_ends_when_the_checkpoint_is_stored() -> None:
    saver = Saver(late=3)
    wait_until_durable(task_config(saver))
    assert len(saver.reads) == 4
    sync_mode = Saver()
    wait_until_durable(task_config(sync_mode, "sync"))
    assert sync_mode.reads == []


@pytest.mark.parametrize("has_async", [True, False])
async def test_the_async_wait_reads_through_either_api(has_async: bool) -> None:
    saver = Saver(late=2, has_async=has_async)
    await await_until_durable(task_config(saver))
    assert len(saver.reads) == 3


async def test_a_checkpoint_never_stored_is_waited_for_a_bounded_time(
    caplog: pytest.LogCaptureFixture,
) -> None:
    never = Saver(late=10**9)
    with caplog.at_level(logging.WARNING, logger="langchain_acedata_images"):
        wait_until_durable(task_config(never), limit=0.05)
        await await_until_durable(task_config(never), limit=0.05)
    assert len([r for r in caplog.records if "not stored" in r.getMessage()]) == 2
