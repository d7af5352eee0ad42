"""A LangGraph program run in a child process by test_exactly_once.py (not a test module).

``python -m tests.integration.langgraph_child <graph|agent> <start|resume> <base_url> <db>``:
``start`` runs a conversation whose model asks for one image on thread ``THREAD``; ``resume``
continues that thread from the SQLite checkpoint and prints the tool message as JSON.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition

from langchain_acedata_images import OpenAIGenerateImageTool, PollSchedule
from tests.emulator_fixtures import TOKEN, emulator_client

THREAD = "thread-sigkill"
CALL = {"name": "openai_generate_image", "args": {"prompt": "a red fox"}, "id": "call-fox"}


def asks_for_an_image() -> AIMessage:
    return AIMessage(content="", tool_calls=[CALL])


class ScriptedChatModel(GenericFakeChatModel):
    """Asks for the image, then answers; accepts tools (the script holds its tool calls)."""

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedChatModel:
        return self


def image_tool(base_url: str) -> OpenAIGenerateImageTool:
    client = emulator_client(
        base_url, token=TOKEN, max_wait=60.0, poll_schedule=PollSchedule(0.05, 1.5, 0.3)
    )
    return OpenAIGenerateImageTool(client=client)


def state_graph(base_url: str, saver: SqliteSaver) -> Any:
    def agent(state: MessagesState) -> dict[str, Any]:
        if isinstance(state["messages"][-1], ToolMessage):
            return {"messages": [AIMessage("Here it is.")]}
        return {"messages": [asks_for_an_image()]}

    graph = StateGraph(MessagesState)
    graph.add_node("agent", agent)
    graph.add_node("tools", ToolNode([image_tool(base_url)]))
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", tools_condition)
    graph.add_edge("tools", "agent")
    return graph.compile(checkpointer=saver)


def agent_graph(base_url: str, saver: SqliteSaver, resuming: bool = False) -> Any:
    from langchain.agents import create_agent

    # The model asked for the image in the first process; resumed, it only answers (asked
    # again, it would issue a new tool call in a new turn: another job).
    script = [AIMessage("Here it is.")] if resuming else [asks_for_an_image()]
    model = ScriptedChatModel(messages=iter([*script, AIMessage("Here it is.")]))
    return create_agent(model, [image_tool(base_url)], checkpointer=saver)


def main(kind: str, mode: str, base_url: str, db: str) -> None:
    config: Any = {"configurable": {"thread_id": THREAD}}
    with SqliteSaver.from_conn_string(db) as saver:
        resuming = mode == "resume"
        graph = (
            state_graph(base_url, saver)
            if kind == "graph"
            else agent_graph(base_url, saver, resuming)
        )
        start = {"messages": [HumanMessage("Draw a red fox")]}
        state = graph.invoke(start if mode == "start" else None, config)
    tool_message = next(m for m in state["messages"] if isinstance(m, ToolMessage))
    print(
        json.dumps(
            {
                "content": tool_message.content,
                "urls": tool_message.artifact.urls,
                "trace_id": tool_message.artifact.trace_id,
                "last": state["messages"][-1].content,
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:5])
