"""Exactly once on a busy account and after gateway errors that follow the job's creation.

The emulator counts paid jobs (accepted submissions). A resumed process knows nothing about
the server yet, other programs keep the account busy, listings may run oldest first or cap
their pages, and a proxy may answer 502/504/524 after the job was created while look-ups see
the job only some time later.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from langchain_acedata_images import (
    ImageGenerationResult,
    OpenAIGenerateImageTool,
    OpenAIGetTaskTool,
    RetryPolicy,
)
from langchain_acedata_images.emulator import RunningEmulator
from langchain_acedata_images.emulator.rules import validate_generation, with_trace_id
from langchain_acedata_images.emulator.state import Owner
from tests.emulator_fixtures import TOKEN, emulator_client

pytestmark = pytest.mark.integration

SMALL = {"model": "dall-e-2", "size": "256x256"}
GENERATIONS = ["/openai/images/generations"]


def busy_account(emulator: RunningEmulator, jobs: int) -> None:
    """``jobs`` tasks of other programs (each with its own trace id) on our account, now."""
    state, owner = emulator.state, Owner.of_token(TOKEN)
    for index in range(jobs):
        body = {"prompt": f"someone else's job {index}", **SMALL, "trace_id": f"other-{index}"}
        job = validate_generation(body, state.dialect)
        if job.trace_id is None:  # trace_id=ignored: the server makes its own
            job = with_trace_id(job, str(uuid.uuid4()))
        state.create_task(job, body, hide_timing=False, owner=owner)


@pytest.mark.parametrize("page_cap", [0, 50])
@pytest.mark.parametrize("order", ["newest_first", "oldest_first"])
@pytest.mark.parametrize("trace_ids", ["honoured", "ignored"])
async def test_a_resumed_call_finds_its_job_behind_500_other_jobs(
    emulator: RunningEmulator, trace_ids: str, order: str, page_cap: int
) -> None:
    emulator.set_dialect(trace_id=trace_ids, listing_order=order, max_page_size=page_cap)
    async with emulator_client(emulator.base_url) as crashed:  # submitted, then died
        first = await crashed.agenerate(prompt="a fox", **SMALL, idempotency_key="k", wait=False)
    busy_account(emulator, 500)
    # A new process: it does not know yet whether the server keeps trace ids.
    async with emulator_client(emulator.base_url) as resumed:
        again = await resumed.agenerate(prompt="a fox", **SMALL, idempotency_key="k")
    assert isinstance(again, ImageGenerationResult)
    assert again.task_id == first.task_id
    assert emulator.stats()["submissions"] == 1


def generate_call(call_id: str) -> dict[str, Any]:
    args = {"prompt": "a lighthouse", **SMALL}
    return {"type": "tool_call", "id": call_id, "name": "openai_generate_image", "args": args}


async def llm_asks_for_an_image(
    generate: OpenAIGenerateImageTool,
    get_task: OpenAIGetTaskTool,
    turns: int = 2,
    pause: float = 0.0,
) -> list[str]:
    """An LLM as the issue saw it: it reads each answer; told to check a job, it checks it
    with ``openai_get_task`` (``pause`` seconds later); told to try again, it calls the
    generator again (a new tool call)."""
    texts = []
    for turn in range(turns):
        message = await generate.ainvoke(generate_call(f"call-{turn}"))
        texts.append(str(message.content))
        if message.artifact is not None and message.artifact.urls:
            return texts
        if "openai_get_task" in texts[-1]:
            trace_id = texts[-1].split("trace_id=")[1].split()[0].rstrip(".")
            check = {"type": "tool_call", "id": "check", "name": get_task.name}
            await asyncio.sleep(pause)
            answer = await get_task.ainvoke({**check, "args": {"trace_id": trace_id}})
            texts.append(str(answer.content))
            return texts
    return texts


@pytest.mark.parametrize("status", [502, 504, 524])
async def test_a_gateway_error_after_creation_is_found_late_and_never_resent(
    emulator: RunningEmulator, status: int
) -> None:
    emulator.set_faults(
        gateway_after_accept_rate=1.0,
        gateway_status=status,
        lookup_delay=0.6,
        fault_paths=GENERATIONS,
    )
    policy = RetryPolicy(max_retries=2, base_delay=0.01, max_delay=0.05, settle_time=2.0)
    async with emulator_client(emulator.base_url, retry_policy=policy) as client:
        generate = OpenAIGenerateImageTool(client=client)
        texts = await llm_asks_for_an_image(generate, OpenAIGetTaskTool(client=client))
    assert "http" in texts[0], texts  # the job was found within the settle window
    assert emulator.stats()["submissions"] == 1


async def test_a_job_still_invisible_after_the_settle_window_is_reported_with_its_trace_id(
    emulator: RunningEmulator,
) -> None:
    emulator.set_faults(gateway_after_accept_rate=1.0, lookup_delay=1.5, fault_paths=GENERATIONS)
    policy = RetryPolicy(max_retries=2, base_delay=0.01, max_delay=0.05, settle_time=0.5)
    async with emulator_client(emulator.base_url, retry_policy=policy) as client:
        generate = OpenAIGenerateImageTool(client=client)
        get_task = OpenAIGetTaskTool(client=client, max_wait=5.0)
        texts = await llm_asks_for_an_image(generate, get_task, pause=1.5)
    assert "may" in texts[0], texts
    assert "openai_get_task" in texts[0]
    assert "trace_id=lcai-" in texts[0]
    assert emulator.stats()["submissions"] == 1  # never resent, and the LLM did not ask again
    assert "http" in texts[-1], texts  # the check found the job once it became visible


@pytest.mark.slow
async def test_realistic_a_502_with_the_job_visible_20s_later_pays_once_and_delivers(
    emulator: RunningEmulator,
) -> None:
    """The issue's numbers: visible to look-ups 20 s after a 502, the default settle window."""
    emulator.set_faults(gateway_after_accept_rate=1.0, lookup_delay=20.0, fault_paths=GENERATIONS)
    policy = RetryPolicy(max_retries=2, base_delay=0.01, max_delay=0.05)  # settle_time default
    async with emulator_client(emulator.base_url, retry_policy=policy, max_wait=60.0) as client:
        generate = OpenAIGenerateImageTool(client=client)
        texts = await llm_asks_for_an_image(generate, OpenAIGetTaskTool(client=client))
    assert "http" in texts[0], texts
    assert emulator.stats()["submissions"] == 1
