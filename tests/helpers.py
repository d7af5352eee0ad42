"""Helpers shared by the test folders: API paths, tool-call builders, a scripted chat model.

Fixtures live in ``tests/conftest.py`` (``clock``, ``client``, ``aclient``, ``api``); plain
functions and classes that tests import live here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, ToolCall

GEN = "/openai/images/generations"
EDITS = "/openai/images/edits"
TASKS = "/openai/tasks"
GENERATE_TOOL = "openai_generate_image"


def tool_call(name: str, args: Any, call_id: str = "call-1") -> ToolCall:
    """A tool call as a ``ToolNode`` or an agent passes it (the tool answers a ToolMessage)."""
    return ToolCall(name=name, args=args, id=call_id, type="tool_call")


def generate_call(args: Any, call_id: str = "call-1") -> ToolCall:
    """A call of ``openai_generate_image``."""
    return tool_call(GENERATE_TOOL, args, call_id)


def tool_call_message(name: str, args: dict[str, Any], call_id: str = "call-1") -> AIMessage:
    """An AI message asking for one tool call (a step of a scripted conversation)."""
    return AIMessage(content="", tool_calls=[tool_call(name, args, call_id)])


class ScriptedChatModel(GenericFakeChatModel):
    """A fake chat model that accepts tools (its script already contains the tool calls)."""

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedChatModel:
        return self
