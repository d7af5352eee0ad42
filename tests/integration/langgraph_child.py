"""A LangGraph program run in a child process by test_exactly_once.py (not a test module).

``python -m tests.integration.langgraph_child <graph|agent|approval> <start|resume> <base_url>
<db>``: ``start`` runs a conversation whose model asks for one image on thread ``THREAD``;
``resume`` continues that thread from the SQLite checkpoint and prints the tool message as JSON.
``approval`` stops before the tool node (``interrupt_before``) until a ``resume`` approves it.
"""

from __future__ import annotations

import json
import os
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
        base_url,
        token=TOKEN,
        max_wait=60.0,
        poll_schedule=PollSchedule(0.05, 1.5, 0.3),
        lock_dir=os.environ.get("ACEDATA_TEST_LOCK_DIR"),  # shared by concurrent resumes
    )
    return OpenAIGenerateImageTool(client=client)


def state_graph(base_url: str, saver: SqliteSaver, interrupt: bool = False) -> Any:
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
    return graph.compile(checkpointer=saver, interrupt_before=["tools"] if interrupt else None)


def approval_graph(base_url: str, saver: SqliteSaver) -> Any:
    """The graph stopping before its tools until a human approves (``invoke(None)``)."""
    return state_graph(base_url, saver, interrupt=True)


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
        builds = {
            "graph": state_graph,
            "agent": lambda url, s: agent_graph(url, s, resuming),
            "approval": approval_graph,
        }
        graph = builds[kind](base_url, saver)
        start = {"messages": [HumanMessage("Draw a red fox")]}
        state = graph.invoke(start if mode == "start" else None, config)
        if mode == "start" and kind == "approval":
            print(json.dumps({"next": list(graph.get_state(config).next)}))  # awaits approval
            return
    tool_message = next(m for m in state["messages"] if isinstance(m, ToolMessage))
    # A thread another process finished comes from the checkpoint: its artifact is a dict.
    artifact = tool_message.artifact
    result = artifact if isinstance(artifact, dict) else artifact.model_dump()
    print(
        json.dumps(
            {
                "content": tool_message.content,
                "urls": [image["url"] for image in result["images"] if image.get("url")],
                "trace_id": result["trace_id"],
                "task_id": result["task_id"],
                "note": result.get("note"),
                "last": state["messages"][-1].content,
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:5])
