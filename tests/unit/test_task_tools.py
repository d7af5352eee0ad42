"""The get-task and list-tasks tools: standard LangChain tests, waiting, notes and errors."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx
from langchain_tests.unit_tests import ToolsUnitTests

from langchain_acedata_images import (
    ImageGenerationResult,
    ImageTask,
    OpenAIGetTaskTool,
    OpenAIListTasksTool,
    TaskList,
)
from langchain_acedata_images._text import MAX_SUMMARY_BYTES
from tests.conftest import BASE_URL, TOKEN, FakeClock, make_client
from tests.helpers import TASKS, tool_call
from tests.unit.tool_support import (
    ENV_PARAMS,
    finished,
    running,
    sent,
)

# --------------------------------------------------------------- standard LangChain tests


class TestGetTaskToolStandard(ToolsUnitTests):
    @property
    def tool_constructor(self) -> type[OpenAIGetTaskTool]:
        return OpenAIGetTaskTool

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return {"api_token": TOKEN, "base_url": BASE_URL}

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"task_id": "t1"}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return ENV_PARAMS


class TestListTasksToolStandard(ToolsUnitTests):
    @property
    def tool_constructor(self) -> type[OpenAIListTasksTool]:
        return OpenAIListTasksTool

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return {"api_token": TOKEN, "base_url": BASE_URL}

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"type": "images_generations", "limit": 5}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return ENV_PARAMS


# ------------------------------------------------------------------------ get task tool


def test_get_task_finished_returns_summary_without_waiting(
    api: respx.MockRouter, task_tool: OpenAIGetTaskTool, clock: FakeClock
) -> None:
    route = api.post(TASKS).respond(200, json=finished())
    message = task_tool.invoke(tool_call("openai_get_task", {"task_id": "t1"}))
    assert message.status == "success"
    assert message.content.startswith("Retrieved 1 image (gpt-image-1, png), task_id=t1.")
    assert "https://cdn.test/t1.png" in message.content
    assert isinstance(message.artifact, ImageGenerationResult)
    assert sent(route) == {"action": "retrieve", "id": "t1"}
    assert clock.sleeps == []


@pytest.mark.parametrize("use_async", [False, True])
async def test_get_task_waits_a_bounded_time_then_reports_the_result(
    api: respx.MockRouter, task_tool: OpenAIGetTaskTool, clock: FakeClock, use_async: bool
) -> None:
    api.post(TASKS).mock(
        side_effect=[httpx.Response(200, json=running())] * 3
        + [httpx.Response(200, json=finished())]
    )
    the_call = tool_call("openai_get_task", {"task_id": "t1"})
    message = await task_tool.ainvoke(the_call) if use_async else task_tool.invoke(the_call)
    assert message.status == "success"
    assert "https://cdn.test/t1.png" in message.content
    assert 0 < sum(clock.sleeps) < task_tool.max_wait
    await task_tool.client.aclose()  # type: ignore[union-attr]


@pytest.mark.parametrize("use_async", [False, True])
async def test_get_task_still_running_is_a_note_not_an_error(
    api: respx.MockRouter, clock: FakeClock, use_async: bool
) -> None:
    client = make_client(clock)
    tool = OpenAIGetTaskTool(client=client, max_wait=20)
    api.post(TASKS).respond(200, json=running())
    the_call = tool_call("openai_get_task", {"trace_id": "trace-t1"})
    message = await tool.ainvoke(the_call) if use_async else tool.invoke(the_call)
    assert message.status == "success"
    assert message.content == (
        "The image job task_id=t1 is still running (waited 20s). It has not failed: call "
        "openai_get_task again later; do not submit the job again."
    )
    assert isinstance(message.artifact, ImageTask)
    assert message.artifact.status == "running"
    assert message.artifact.task_id == "t1"
    assert sum(clock.sleeps) == pytest.approx(20)
    assert json.loads(api.calls[0].request.content) == {
        "action": "retrieve",
        "trace_id": "trace-t1",
    }
    await client.aclose()


def test_get_task_unknown_id_is_a_clear_error(
    api: respx.MockRouter, task_tool: OpenAIGetTaskTool
) -> None:
    api.post(TASKS).respond(200, json={})
    message = task_tool.invoke(tool_call("openai_get_task", {"task_id": "nope"}))
    assert message.status == "error"
    assert message.content == (
        "No image task matches task_id=nope. Copy the id exactly from the earlier tool result, "
        "or find the task with openai_list_tasks."
    )


def test_get_task_failed_job_is_an_error(
    api: respx.MockRouter, task_tool: OpenAIGetTaskTool
) -> None:
    record = {**finished(), "response": {"error": {"code": "bad", "message": "safety system"}}}
    api.post(TASKS).respond(200, json=record)
    message = task_tool.invoke(tool_call("openai_get_task", {"task_id": "t1"}))
    assert message.status == "error"
    assert message.content.startswith("The image job failed: safety system. task_id=t1")
    assert "task_id=t1" in message.content


def test_get_task_needs_exactly_one_id(api: respx.MockRouter, task_tool: OpenAIGetTaskTool) -> None:
    message = task_tool.invoke(tool_call("openai_get_task", {"task_id": "a", "trace_id": "b"}))
    assert message.status == "error"
    assert "pass exactly one of task_id or trace_id" in message.content
    assert not api.calls


# ---------------------------------------------------------------------- list tasks tool


def test_list_tasks_text_stays_under_one_kilobyte_for_100_tasks(
    api: respx.MockRouter, clock: FakeClock
) -> None:
    items = [
        {**finished(f"task-{i:03d}"), "request": {"prompt": "a fox in the snow " * 20}}
        for i in range(100)
    ]
    route = api.post(TASKS).respond(200, json={"items": items, "count": 250})
    tool = OpenAIListTasksTool(client=make_client(clock))
    args = {"type": "images_edits", "limit": 100, "created_at_min": 1_732_000_000}
    message = tool.invoke(tool_call("openai_list_tasks", args))
    assert message.status == "success"
    assert len(message.content.encode()) <= MAX_SUMMARY_BYTES
    lines = message.content.splitlines()
    assert lines[0].startswith("100 of 250 matching image tasks")
    assert lines[1] == (
        "task-000 images_edits succeeded 2024-11-25 02:00:00Z 'a fox in the snow a fox in the "
        "snow a f…' https://cdn.test/task-000.png"
    )
    assert lines[-1].endswith("more in the artifact)")
    assert isinstance(message.artifact, TaskList)
    assert len(message.artifact.items) == 100
    assert sent(route) == {
        "action": "retrieve_batch",
        "type": "images_edits",
        "limit": 100,
        "created_at_min": 1_732_000_000,
    }


async def test_list_tasks_async_and_empty(api: respx.MockRouter, clock: FakeClock) -> None:
    client = make_client(clock)
    tool = OpenAIListTasksTool(client=client)
    api.post(TASKS).mock(
        side_effect=[
            httpx.Response(200, json={"items": [], "count": 0}),
            httpx.Response(200, json={"items": [running("r1")], "count": 1}),
        ]
    )
    empty = await tool.ainvoke(tool_call("openai_list_tasks", {}))
    assert empty.content == "No image tasks matched."
    one = await tool.ainvoke(tool_call("openai_list_tasks", {"ids": ["r1"]}))
    assert one.content.splitlines()[1] == "r1 ? running ?"
    await client.aclose()
