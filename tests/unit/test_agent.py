"""The tool inside a LangChain agent and a LangGraph ToolNode, driven by a scripted model."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import respx
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, ToolMessage
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode

from langchain_acedata_images import ImageGenerationResult, OpenAIGenerateImageTool
from langchain_acedata_images.progress import PROGRESS_EVENT
from tests.conftest import BASE_URL, FakeClock, make_client, no_earlier_jobs
from tests.helpers import GEN, GENERATE_TOOL, TASKS, ScriptedChatModel, tool_call_message

FINISHED = {
    "id": "t1",
    "finished_at": 2.0,
    "response": {"data": [{"url": "https://cdn.test/fox.png", "revised_prompt": "A red fox"}]},
}


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        no_earlier_jobs(router)
        router.post(GEN).respond(200, json={"task_id": "t1"})
        router.post(TASKS).respond(200, json=FINISHED)
        yield router


def _check_tool_message(messages: list[Any]) -> ToolMessage:
    tool_message = next(m for m in messages if isinstance(m, ToolMessage))
    assert tool_message.name == "openai_generate_image"
    assert tool_message.tool_call_id == "call-1"
    assert "https://cdn.test/fox.png" in tool_message.content
    assert isinstance(tool_message.artifact, ImageGenerationResult)
    assert tool_message.artifact.urls == ["https://cdn.test/fox.png"]
    return tool_message


def test_create_agent_calls_the_tool(api: respx.MockRouter, clock: FakeClock) -> None:
    model = ScriptedChatModel(
        messages=iter(
            [tool_call_message(GENERATE_TOOL, {"prompt": "a red fox"}), AIMessage("Here it is.")]
        )
    )
    agent = create_agent(model, [OpenAIGenerateImageTool(client=make_client(clock))])
    state = agent.invoke({"messages": [("user", "Draw a red fox")]})
    _check_tool_message(state["messages"])
    assert state["messages"][-1].content == "Here it is."


async def test_create_agent_async_with_invalid_args_lets_the_model_fix_them(
    api: respx.MockRouter, clock: FakeClock
) -> None:
    model = ScriptedChatModel(
        messages=iter(
            [
                tool_call_message(
                    GENERATE_TOOL, {"prompt": "a red fox", "model": "dall-e-2", "size": "1536x1024"}
                ),
                AIMessage("I will use a smaller size."),
            ]
        )
    )
    client = make_client(clock)
    agent = create_agent(model, [OpenAIGenerateImageTool(client=client)])
    state = await agent.ainvoke({"messages": [("user", "Draw a red fox")]})
    error = next(m for m in state["messages"] if isinstance(m, ToolMessage))
    assert error.status == "error"
    assert "use one of 256x256, 512x512, 1024x1024" in error.content
    assert not api.calls  # rejected by the schema: nothing was sent
    await client.aclose()


async def test_tool_node_streams_progress_to_langgraph(
    api: respx.MockRouter, clock: FakeClock
) -> None:
    client = make_client(clock)
    node = ToolNode([OpenAIGenerateImageTool(client=client)])
    graph = StateGraph(MessagesState)
    graph.add_node("tools", node)
    graph.add_edge(START, "tools")
    graph.add_edge("tools", END)
    app = graph.compile()
    custom: list[Any] = []
    final: dict[str, Any] = {}
    async for mode, chunk in app.astream(
        {"messages": [tool_call_message(GENERATE_TOOL, {"prompt": "a red fox"})]},
        stream_mode=["custom", "values"],
    ):
        if mode == "custom":
            custom.append(chunk)
        else:
            final = chunk
    kinds = [chunk[PROGRESS_EVENT]["kind"] for chunk in custom]
    assert kinds == ["submitted", "poll", "finished"]
    _check_tool_message(final["messages"])
    await client.aclose()
