"""An image agent served by a LangGraph API server (``langgraph dev``), used by test_server.py.

``langgraph.json`` beside this file names ``graph``. The toolkit talks to the API at
``$ACEDATACLOUD_API_BASE_URL`` (the tests' emulator). The model is scripted, as a real LLM would
behave: it asks for the image the user describes with a fresh tool call id, then answers.
When the prompt contains ``flaky``, a second tool call in the same step fails once with the
server's retryable error while the image job runs, so the server retries the run.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Sequence
from typing import Any

from langchain.agents import create_agent
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.tools import tool

from langchain_acedata_images import AceDataImagesClient, AceDataImagesToolkit, PollSchedule

_failed_once: set[str] = set()


class ScriptedModel(BaseChatModel):
    """Asks for the image the last user message describes (a fresh call id), then answers."""

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedModel:
        return self

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        last = messages[-1]
        if isinstance(last, ToolMessage):
            answer = AIMessage("Here it is.")
        else:
            prompt = str(last.content)
            calls = [_call("openai_generate_image", {"prompt": prompt, "model": "dall-e-2"})]
            if "flaky" in prompt:
                calls.append(_call("flaky_lookup", {"text": prompt}))
            answer = AIMessage(content="", tool_calls=calls)
        return ChatResult(generations=[ChatGeneration(message=answer)])


def _call(name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "args": args, "id": f"call_{uuid.uuid4().hex[:12]}", "type": "tool_call"}


@tool
def flaky_lookup(text: str) -> str:
    """Fails once per text with an error the server retries the run on."""
    if text not in _failed_once:
        _failed_once.add(text)
        time.sleep(0.5)  # the image job has been accepted by now
        from langgraph_runtime.retry import RetryableException

        raise RetryableException("transient failure")
    return "ok"


client = AceDataImagesClient(
    os.environ["ACEDATACLOUD_API_TOKEN"],
    base_url=os.environ["ACEDATACLOUD_API_BASE_URL"],
    poll_schedule=PollSchedule(0.05, 1.5, 0.3),
    max_wait=60.0,
)
toolkit = AceDataImagesToolkit(client=client, include_edit=False, include_tasks=False)
graph = create_agent(ScriptedModel(), [*toolkit.get_tools(), flaky_lookup])
