"""Every fault the emulator can inject, sync and async: a result or a specific typed error,
never a hang, never an unhandled exception type, never two accepted submissions per trace_id.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from langchain_acedata_images import (
    AceDataImagesClient,
    AceDataImagesError,
    AuthenticationError,
    ImageGenerationResult,
    InsufficientBalanceError,
    ModerationError,
    RateLimitError,
    RetryPolicy,
    ServerError,
    TaskFailedError,
    TaskTimeoutError,
)
from langchain_acedata_images.emulator import EmulatorConfig, RunningEmulator, run_emulator
from tests.emulator_fixtures import TOKEN, emulator_client
from tests.integration.test_paths import call

pytestmark = pytest.mark.integration

GENERATIONS = ["/openai/images/generations"]
TASKS = ["/openai/tasks"]
HANG_LIMIT = 20.0
"""No call may take longer than this, whatever the fault."""


@dataclass(frozen=True)
class Fault:
    """A fault setting and the outcome it must lead to."""

    faults: dict[str, Any]
    outcome: type[BaseException] | None  # None: the call succeeds
    message: str | None = None
    client: dict[str, Any] = field(default_factory=dict)
    submissions: int | None = None
    """Accepted submissions the emulator must have logged (None: not checked beyond <= 1)."""


def errors(status: int, **extra: Any) -> dict[str, Any]:
    return {"error_rates": {status: 1.0}, "fault_paths": GENERATIONS, **extra}


SHORT_READ = {"timeout": httpx.Timeout(0.4, connect=2.0)}

MATRIX: dict[str, Fault] = {
    **{
        f"http_{status}": Fault(errors(status), ServerError, submissions=0)
        for status in (500, 502, 503, 504, 408, 409)
    },
    # 429s are waited out until the job's deadline: keep it short here.
    "http_429_retry_after": Fault(
        errors(429, retry_after=0.1),
        RateLimitError,
        "emulated 429",
        client={"max_wait": 1.0},
        submissions=0,
    ),
    "http_429_bare": Fault(errors(429), RateLimitError, client={"max_wait": 1.0}, submissions=0),
    # A 5xx is never resent (the job may exist) unless the API drops duplicate trace ids.
    "transient_503_half_the_time": Fault(
        {"error_rates": {503: 0.5}},
        None,
        client={"retry_policy": RetryPolicy(8, 0.01, 0.05, 0.3, dedupes_trace_ids=True)},
    ),
    "read_timeout_before_accept": Fault(
        {"response_delay": 0.8, "fault_paths": GENERATIONS}, None, client=SHORT_READ, submissions=1
    ),
    "read_timeout_after_accept": Fault(
        {"hang_after_accept_rate": 1.0, "hang_seconds": 2.0, "fault_paths": GENERATIONS},
        None,
        client=SHORT_READ,
        submissions=1,
    ),
    "connection_reset_after_accept": Fault(
        {"drop_after_accept_rate": 1.0, "fault_paths": GENERATIONS}, None, submissions=1
    ),
    "html_error_page": Fault(
        {"html_error_rate": 1.0, "fault_paths": GENERATIONS}, ServerError, "HTML page"
    ),
    "malformed_json": Fault(
        {"malformed_json_rate": 1.0, "fault_paths": GENERATIONS}, None, submissions=1
    ),
    "empty_body": Fault({"empty_body_rate": 1.0, "fault_paths": GENERATIONS}, ServerError, "502"),
    "error_as_bare_string": Fault(
        {"string_error_rate": 1.0, "fault_paths": GENERATIONS},
        ServerError,
        "emulated internal server error",
    ),
    "task_failed": Fault({"task_failure_rate": 1.0}, TaskFailedError, "generation failed"),
    "task_never_finishes": Fault(
        {"never_finish_rate": 1.0}, TaskTimeoutError, "did not finish", client={"max_wait": 1.0}
    ),
    "task_record_missing_fields": Fault({"missing_fields_rate": 1.0}, None, submissions=1),
    "polls_fail_transiently": Fault(
        {"error_rates": {502: 0.5, 429: 0.2}, "retry_after": 0.05, "fault_paths": TASKS},
        None,
        submissions=1,
    ),
    "polls_always_fail": Fault(
        {"error_rates": {503: 1.0}, "fault_paths": TASKS},
        ServerError,
        client={"max_poll_failures": 3},
    ),
    "moderation_refusal": Fault({}, ModerationError, "moderation", submissions=0),
    "balance_used_up": Fault({"balance_used_up": True}, InsufficientBalanceError, submissions=0),
}


# Settle look-ups kept short: the 408/504 rows each wait settle_time per attempt.
SHORT_SETTLE = RetryPolicy(max_retries=2, base_delay=0.01, max_delay=0.05, settle_time=1.0)


def _client(base_url: str, **options: Any) -> AceDataImagesClient:
    return emulator_client(base_url, **{"retry_policy": SHORT_SETTLE, **options})


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("name", list(MATRIX))
async def test_fault(name: str, mode: str, emulator: RunningEmulator) -> None:
    fault = MATRIX[name]
    emulator.set_faults(**fault.faults)
    prompt = "forbidden-content here" if name == "moderation_refusal" else f"fault {name}"
    started = time.monotonic()
    async with _client(emulator.base_url, **fault.client) as client:
        try:
            outcome: Any = await asyncio.wait_for(
                call(client, mode, "generate", prompt=prompt), HANG_LIMIT
            )
        except AceDataImagesError as error:
            outcome = error
    elapsed = time.monotonic() - started
    emulator.set_faults(error_rates={}, fault_paths=GENERATIONS + TASKS)  # for the look-ups below

    if fault.outcome is None:
        assert isinstance(outcome, ImageGenerationResult), f"{name}: {outcome!r}"
        assert outcome.urls
    else:
        assert type(outcome) is fault.outcome, f"{name}: {outcome!r}"
        assert outcome.message
        assert TOKEN not in str(outcome)
        if fault.message:
            assert fault.message.lower() in str(outcome).lower()
        assert outcome.trace_id  # the caller can always look the job up
    stats = emulator.stats()
    assert stats["duplicate_trace_ids"] == [], name
    if fault.submissions is not None:
        assert stats["submissions"] == fault.submissions, (name, stats)
    assert stats["submissions"] <= 1
    assert elapsed < HANG_LIMIT


async def test_rate_limit_waits_as_told(emulator: RunningEmulator) -> None:
    emulator.set_faults(**errors(429, retry_after=0.2))
    # A 429 created nothing: it is waited out, as told, until the job's deadline (1 s).
    async with _client(emulator.base_url, max_wait=1.0) as client:
        started = time.monotonic()
        with pytest.raises(RateLimitError) as caught:
            await client.agenerate(prompt="slow down")
    assert caught.value.retry_after == pytest.approx(0.2)
    submissions = emulator.stats()["by_path"]["/openai/images/generations"]
    assert 3 <= submissions <= 5  # one per Retry-After that ends before the deadline
    assert time.monotonic() - started >= 0.2 * (submissions - 1)


async def test_timed_out_job_can_be_resumed(emulator: RunningEmulator) -> None:
    emulator.set_faults(response_delay=0.0)
    async with _client(emulator.base_url, max_wait=0.01) as client:
        with pytest.raises(TaskTimeoutError) as caught:
            await client.agenerate(prompt="resume me")
        result = await client.await_for_task(caught.value.task_id, max_wait=10)
    assert isinstance(result, ImageGenerationResult)
    assert emulator.stats()["submissions"] == 1


@pytest.fixture(scope="module")
def guarded() -> Iterator[RunningEmulator]:
    config = EmulatorConfig(
        latency=0.01, queue_delay=0.0, tokens=frozenset({TOKEN}), expired_tokens=frozenset({"old"})
    )
    with run_emulator(config) as running:
        yield running


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(("token", "code"), [("wrong", "invalid_token"), ("old", "token_expired")])
async def test_bad_tokens(guarded: RunningEmulator, mode: str, token: str, code: str) -> None:
    async with AceDataImagesClient(token, base_url=guarded.base_url) as client:
        with pytest.raises(AuthenticationError) as caught:
            await call(client, mode, "generate", prompt="who am i")
    assert (caught.value.status_code, caught.value.code) == (401, code)
    assert token not in str(caught.value)
    async with _client(guarded.base_url) as client:
        assert isinstance(await client.agenerate(prompt="me"), ImageGenerationResult)
