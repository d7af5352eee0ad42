"""Exactly once where the server ignores client trace_ids and answers 504 after creating a job.

The look-up then matches the stored ``request`` (which carries our trace_id as sent) over a
``retrieve_batch`` window of the client's own tasks.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from langchain_acedata_images import ImageGenerationResult, OpenAIGenerateImageTool
from langchain_acedata_images.emulator import RunningEmulator
from tests.emulator_fixtures import TOKEN, emulator_client

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not hasattr(RunningEmulator, "set_dialect"), reason="needs the emulator's dialects"
    ),
]

SMALL = {"model": "dall-e-2", "size": "256x256"}
AUTH = {"authorization": f"Bearer {TOKEN}"}
GENERATIONS = "/openai/images/generations"


def call(call_id: str = "call-1") -> dict[str, Any]:
    args = {"prompt": "a red fox", **SMALL}
    return {"type": "tool_call", "id": call_id, "name": "openai_generate_image", "args": args}


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_504_timeout_after_acceptance_is_found_by_its_request_not_resent(
    emulator: RunningEmulator, mode: str
) -> None:
    emulator.set_dialect(trace_id="ignored")
    emulator.set_faults(timeout_after_accept_rate=1.0)
    async with emulator_client(emulator.base_url) as client:
        if mode == "sync":
            result = client.generate(prompt="fox after a 504", **SMALL)
        else:
            result = await client.agenerate(prompt="fox after a 504", **SMALL)
    assert isinstance(result, ImageGenerationResult)
    assert result.urls
    assert emulator.stats()["submissions"] == 1


async def test_a_rerun_tool_call_attaches_by_request_where_trace_ids_are_ignored(
    emulator: RunningEmulator,
) -> None:
    emulator.set_dialect(trace_id="ignored")
    async with emulator_client(emulator.base_url) as client:
        tool = OpenAIGenerateImageTool(client=client)
        first = await tool.ainvoke(call())
        again = await tool.ainvoke(call())  # a node retry / resume runs the same tool call
        other = await tool.ainvoke(call("call-2"))  # another tool call: another job
    assert first.artifact.urls == again.artifact.urls
    assert other.artifact.urls != first.artifact.urls
    assert emulator.stats()["submissions"] == 2


async def test_another_programs_job_asking_more_is_not_taken_for_ours(
    emulator: RunningEmulator,
) -> None:
    """A stored request without a trace id that asks what we ask *and more* (another size,
    ``n=3``) is another job: we pay for ours and never get its three images."""
    emulator.set_dialect(trace_id="ignored")
    async with emulator_client(emulator.base_url) as client:
        tool = OpenAIGenerateImageTool(client=client)
        ours = {"prompt": "a fox", "model": "gpt-image-1"}
        sent = tool.args_schema.model_validate(ours).to_body()  # type: ignore[union-attr]
        bigger = {**sent, "size": "1536x1024", "n": 3}
        async with httpx.AsyncClient(base_url=emulator.base_url, headers=AUTH) as other:
            assert (await other.post(GENERATIONS, json=bigger)).status_code == 200
        message = await tool.ainvoke(
            {"type": "tool_call", "id": "c1", "name": tool.name, "args": ours}
        )
    assert len(message.artifact.images) == 1
    assert emulator.stats()["submissions"] == 2  # theirs, and ours
