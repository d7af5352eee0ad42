"""A LangGraph run per durability mode, in a child process for test_durability.py (not a test).

``python -m tests.integration.durability_child <sync|async|exit> <start|again> <base_url> <db>``:
``start`` runs a conversation on thread ``THREAD`` whose model issues a *fresh* tool call id on
every call, like a real LLM; the SQLite checkpointer is slowed down while it stores the
checkpoint holding that call (``SLOW_PUT`` s), which opens LangGraph's ``"async"`` window.
``again`` is what a caller does after the process died: resume the thread when it has a
checkpoint with work pending, otherwise send the request again. Prints the tool message.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition

from langchain_acedata_images import OpenAIGenerateImageTool, PollSchedule
from tests.emulator_fixtures import TOKEN, emulator_client

THREAD = "thread-durability"
#: How long storing the checkpoint that holds the tool call takes.
SLOW_PUT = 2.0


class SlowSaver(SqliteSaver):
    """Stores the checkpoint holding an AI message with tool calls ``SLOW_PUT`` s late."""

    def put(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        messages = checkpoint["channel_values"].get("messages") or []
        if messages and isinstance(messages[-1], AIMessage) and messages[-1].tool_calls:
            time.sleep(SLOW_PUT)
        return super().put(config, checkpoint, metadata, new_versions)


def fresh_call() -> AIMessage:
    """A model answer asking for one image, with a new tool call id each time."""
    call = {
        "name": "openai_generate_image",
        "args": {"prompt": "a red fox"},
        "id": f"call_{uuid.uuid4().hex[:12]}",
    }
    return AIMessage(content="", tool_calls=[call])


def build(base_url: str, saver: SqliteSaver) -> Any:
    client = emulator_client(
        base_url, token=TOKEN, max_wait=60.0, poll_schedule=PollSchedule(0.05, 1.5, 0.3)
    )

    def agent(state: MessagesState) -> dict[str, Any]:
        if isinstance(state["messages"][-1], ToolMessage):
            return {"messages": [AIMessage("Here it is.")]}
        return {"messages": [fresh_call()]}

    graph = StateGraph(MessagesState)
    graph.add_node("agent", agent)
    graph.add_node("tools", ToolNode([OpenAIGenerateImageTool(client=client)]))
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", tools_condition)
    graph.add_edge("tools", "agent")
    return graph.compile(checkpointer=saver)


def main(durability: str, phase: str, base_url: str, db: str) -> None:
    config: Any = {"configurable": {"thread_id": THREAD}}
    start = {"messages": [HumanMessage("Draw a red fox")]}
    with SlowSaver.from_conn_string(db) as saver:
        graph = build(base_url, saver)
        pending = phase == "again" and bool(graph.get_state(config).next)
        state = graph.invoke(None if pending else start, config, durability=durability)
    tool_message = next(m for m in state["messages"] if isinstance(m, ToolMessage))
    answer = {"resumed": pending, "urls": tool_message.artifact.urls}
    print(json.dumps(answer))


if __name__ == "__main__":
    main(*sys.argv[1:5])
