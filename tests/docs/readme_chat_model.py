"""The chat model README examples run with: it stands in for ``init_chat_model(...)``.

It plays a tool-calling LLM: for "Draw X" it calls ``openai_generate_image``; for "Draw X, then
make it Y" it also calls ``openai_edit_image`` on the first image URL of the generate tool's
answer (read from the text, as an LLM reads it); then it answers with the last tool's first line.
:func:`install` makes ``langchain.chat_models.init_chat_model`` return it, so a README block
runs as written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolCall
from langchain_core.outputs import ChatGeneration, ChatResult

_URL = re.compile(r"https?://[^\s)]+")
_EDIT = re.compile(r",? then (make it .+)$", re.IGNORECASE)
CALLS: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
"""Arguments ``init_chat_model`` was called with (what the README asked for)."""


def _call(name: str, args: dict[str, Any], number: int) -> AIMessage:
    call = ToolCall(name=name, args=args, id=f"call-{number}", type="tool_call")
    return AIMessage("", tool_calls=[call])


def next_message(messages: Sequence[BaseMessage]) -> AIMessage:
    """What a model would answer to this conversation."""
    request = next(str(m.content) for m in messages if m.type == "human")
    results = [str(m.content) for m in messages if m.type == "tool"]
    edit = _EDIT.search(request)
    subject = request[: edit.start()] if edit else request
    if not results:
        return _call("openai_generate_image", {"prompt": subject}, 1)
    url = _URL.search(results[0])
    if edit and len(results) == 1 and url:
        return _call("openai_edit_image", {"prompt": edit.group(1), "image": url[0]}, 2)
    return AIMessage(f"Done. {results[-1].splitlines()[0]}")


class ReadmeChatModel(BaseChatModel):
    """A scripted tool-calling chat model (no network, no key)."""

    @property
    def _llm_type(self) -> str:
        return "readme-scripted"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ReadmeChatModel:  # type: ignore[override]
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,  # passed positionally by the async path (ainvoke)
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=next_message(messages))])


def install() -> None:
    """Make ``init_chat_model`` (imported from ``langchain.chat_models``) return the script."""
    import langchain.chat_models

    def init_chat_model(*args: Any, **kwargs: Any) -> ReadmeChatModel:
        CALLS.append((args, kwargs))
        return ReadmeChatModel()

    langchain.chat_models.init_chat_model = init_chat_model  # type: ignore[assignment]
