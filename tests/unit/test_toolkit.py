"""The toolkit: one shared client, options passed to every tool, closing, use in an agent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import respx
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import BaseToolkit

from langchain_acedata_images import (
    AceDataImagesClient,
    AceDataImagesToolkit,
    ImageGenerationResult,
    OpenAIEditImageTool,
    OpenAIGenerateImageTool,
    OpenAIGetTaskTool,
    OpenAIListTasksTool,
)
from tests.conftest import BASE_URL, TOKEN, FakeClock, make_client
from tests.helpers import EDITS, GEN, ScriptedChatModel, tool_call_message

ALL_TOOLS = ["openai_generate_image", "openai_edit_image", "openai_get_task", "openai_list_tasks"]


def test_toolkit_tools_share_one_client(clock: FakeClock) -> None:
    toolkit = AceDataImagesToolkit(api_token=TOKEN, base_url=BASE_URL)
    assert isinstance(toolkit, BaseToolkit)
    tools = toolkit.get_tools()
    assert [tool.name for tool in tools] == ALL_TOOLS
    assert [type(tool) for tool in tools] == [
        OpenAIGenerateImageTool,
        OpenAIEditImageTool,
        OpenAIGetTaskTool,
        OpenAIListTasksTool,
    ]
    assert isinstance(toolkit.client, AceDataImagesClient)
    assert all(tool.client is toolkit.client for tool in tools)  # type: ignore[attr-defined]
    again: list[Any] = toolkit.get_tools()
    assert all(tool.client is toolkit.client for tool in again)
    assert toolkit.client.base_url == BASE_URL


@pytest.mark.parametrize(
    ("options", "names"),
    [
        (
            {"include_edit": False},
            ["openai_generate_image", "openai_get_task", "openai_list_tasks"],
        ),
        ({"include_tasks": False}, ["openai_generate_image", "openai_edit_image"]),
        ({"include_edit": False, "include_tasks": False}, ["openai_generate_image"]),
    ],
)
def test_toolkit_includes(options: dict[str, Any], names: list[str]) -> None:
    toolkit = AceDataImagesToolkit(api_token=TOKEN, **options)
    assert [tool.name for tool in toolkit.get_tools()] == names


def test_toolkit_passes_options_to_its_tools(tmp_path: Path) -> None:
    toolkit = AceDataImagesToolkit(
        api_token=TOKEN,
        save_dir=tmp_path,
        image_blocks=True,
        max_wait=90,
        wait=False,
        allow_local_files=True,
        local_files_root=tmp_path,
        emit_progress=False,
    )
    generate, edit, get_task, list_tasks = toolkit.get_tools()
    assert toolkit.client is not None
    assert toolkit.client.max_wait == 90
    for tool in (generate, edit, get_task):
        assert tool.save_dir == tmp_path  # type: ignore[attr-defined]
        assert tool.image_blocks is True  # type: ignore[attr-defined]
        assert tool.max_wait == 90  # type: ignore[attr-defined]
    assert generate.wait is edit.wait is False  # type: ignore[attr-defined]
    assert edit.allow_local_files is True  # type: ignore[attr-defined]
    assert edit.local_files_root == tmp_path  # type: ignore[attr-defined]
    tools: list[Any] = [generate, edit, get_task, list_tasks]
    assert {tool.emit_progress for tool in tools} == {False}


def test_toolkit_defaults() -> None:
    generate, _, get_task, _ = AceDataImagesToolkit(api_token=TOKEN).get_tools()
    assert get_task.max_wait == 60  # type: ignore[attr-defined]
    assert generate.wait is True  # type: ignore[attr-defined]
    assert generate.image_blocks is False  # type: ignore[attr-defined]


def test_toolkit_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACEDATACLOUD_API_TOKEN", TOKEN)
    monkeypatch.setenv("ACEDATACLOUD_API_BASE_URL", "http://env.test")
    toolkit = AceDataImagesToolkit()
    assert toolkit.client is not None
    assert toolkit.client.has_token
    assert toolkit.client.base_url == "http://env.test"
    assert TOKEN not in repr(toolkit)
    assert TOKEN not in json.dumps(toolkit.model_dump(), default=str)


def test_toolkit_with_block_closes_the_shared_client(api: respx.MockRouter) -> None:
    api.post(GEN).respond(200, json={"data": [{"url": "https://cdn.test/a.png"}]})
    with AceDataImagesToolkit(api_token=TOKEN, base_url=BASE_URL) as toolkit:
        toolkit.get_tools()[0].invoke({"prompt": "a fox"})
        assert toolkit.client is not None
        http = toolkit.client.http_client
        assert not http.is_closed
    assert http.is_closed


async def test_toolkit_async_with_closes_the_shared_client(api: respx.MockRouter) -> None:
    api.post(EDITS).respond(200, json={"data": [{"url": "https://cdn.test/a.png"}]})
    async with AceDataImagesToolkit(api_token=TOKEN, base_url=BASE_URL) as toolkit:
        edit = toolkit.get_tools()[1]
        await edit.ainvoke({"prompt": "x", "image": "https://cdn.test/base.png"})
        assert toolkit.client is not None
        http = toolkit.client.http_async_client
    assert http.is_closed


async def test_toolkit_leaves_a_client_passed_in_open(clock: FakeClock) -> None:
    client = make_client(clock)
    http = client.http_client
    toolkit = AceDataImagesToolkit(client=client)
    assert all(tool.client is client for tool in toolkit.get_tools())  # type: ignore[attr-defined]
    toolkit.close()
    await toolkit.aclose()
    assert not http.is_closed
    await client.aclose()
    assert http.is_closed


# ------------------------------------------------------------------------------ agent


def _script() -> Iterator[AIMessage]:
    return iter(
        [
            tool_call_message("openai_generate_image", {"prompt": "a red fox"}, "call-gen"),
            tool_call_message(
                "openai_edit_image",
                {"prompt": "make the fox blue", "image": "https://cdn.test/fox.png"},
                "call-edit",
            ),
            AIMessage("Here is the blue fox."),
        ]
    )


def _mock_jobs(api: respx.MockRouter) -> tuple[respx.Route, respx.Route]:
    gen = api.post(GEN).respond(200, json={"data": [{"url": "https://cdn.test/fox.png"}]})
    edit = api.post(EDITS).respond(
        200, json={"task_id": "e1", "data": [{"url": "https://cdn.test/blue-fox.png"}]}
    )
    return gen, edit


def _check_run(messages: list[Any], edit: respx.Route) -> None:
    tool_messages = [m for m in messages if isinstance(m, ToolMessage)]
    assert [(m.name, m.tool_call_id, m.status) for m in tool_messages] == [
        ("openai_generate_image", "call-gen", "success"),
        ("openai_edit_image", "call-edit", "success"),
    ]
    assert "https://cdn.test/fox.png" in tool_messages[0].content
    assert "https://cdn.test/blue-fox.png" in tool_messages[1].content
    assert all(isinstance(m.artifact, ImageGenerationResult) for m in tool_messages)
    assert json.loads(edit.calls.last.request.content)["image"] == "https://cdn.test/fox.png"
    assert messages[-1].content == "Here is the blue fox."


def test_create_agent_generates_then_edits(api: respx.MockRouter, clock: FakeClock) -> None:
    _, edit = _mock_jobs(api)
    toolkit = AceDataImagesToolkit(client=make_client(clock))
    agent = create_agent(ScriptedChatModel(messages=_script()), toolkit.get_tools())
    state = agent.invoke({"messages": [("user", "Draw a red fox, then make it blue")]})
    _check_run(state["messages"], edit)


async def test_create_agent_async_with_image_blocks(
    api: respx.MockRouter, clock: FakeClock
) -> None:
    _, edit = _mock_jobs(api)
    client = make_client(clock)
    async with AceDataImagesToolkit(client=client, image_blocks=True) as toolkit:
        agent = create_agent(ScriptedChatModel(messages=_script()), toolkit.get_tools())
        state = await agent.ainvoke({"messages": [("user", "Draw a red fox, then make it blue")]})
    messages = state["messages"]
    tool_messages = [m for m in messages if isinstance(m, ToolMessage)]
    assert [[b["type"] for b in m.content] for m in tool_messages] == [["text", "image"]] * 2
    assert tool_messages[1].content[1]["url"] == "https://cdn.test/blue-fox.png"
    assert json.loads(edit.calls.last.request.content)["image"] == "https://cdn.test/fox.png"
    await client.aclose()


def test_toolkit_tools_in_a_client_without_token_fail_clearly(
    api: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ACEDATACLOUD_API_TOKEN", raising=False)
    toolkit = AceDataImagesToolkit(base_url=BASE_URL)
    message = toolkit.get_tools()[3].invoke(
        {"type": "tool_call", "id": "1", "name": "openai_list_tasks", "args": {}}
    )
    assert message.status == "error"
    assert "No AceDataCloud API token" in message.content
    assert not api.calls
