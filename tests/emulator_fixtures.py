"""A loopback emulator shared by integration and reliability tests, reset before each test.

Imported by those directories' ``conftest.py``; unit tests never start it.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import select
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from langchain_acedata_images import AceDataImagesClient, PollSchedule, RetryPolicy
from langchain_acedata_images.emulator import EmulatorConfig, RunningEmulator, run_emulator

TOKEN = "sk-acedata-SECRET-integration-5d1e"
FAST_POLLS = PollSchedule(first_delay=0.02, factor=1.5, max_interval=0.2)
FAST_RETRIES = RetryPolicy(max_retries=2, base_delay=0.01, max_delay=0.05, settle_time=3.0)
FAST = EmulatorConfig(latency=0.05, queue_delay=0.01, seed=1234)


@pytest.fixture(scope="session")
def emulator() -> Iterator[RunningEmulator]:
    with run_emulator(FAST) as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh_emulator(emulator: RunningEmulator) -> None:
    emulator.reset()


def emulator_client(base_url: str, *, token: str = TOKEN, **kwargs: object) -> AceDataImagesClient:
    """A client with short polls, retries and timeouts, for tests against the emulator."""
    options: dict[str, object] = {
        "base_url": base_url,
        "poll_schedule": FAST_POLLS,
        "retry_policy": FAST_RETRIES,
        "max_wait": 10.0,
        "timeout": httpx.Timeout(5.0, connect=2.0),
    }
    options.update(kwargs)
    return AceDataImagesClient(token, **options)  # type: ignore[arg-type]


@pytest.fixture
async def client(emulator: RunningEmulator) -> AsyncIterator[AceDataImagesClient]:
    """One client for sync and async calls; closed on the test's loop so no pool leaks."""
    async with emulator_client(emulator.base_url) as instance:
        yield instance


@contextmanager
def remote_emulator(**settings: str) -> Iterator[str]:
    """An emulator in a child process (via the CLI), so its counts outlive any other process.

    ``settings`` are ``ACEDATA_EMULATOR_*`` variables without the prefix (``LATENCY="1"``).
    Yields its base URL; use :func:`remote_stats` / :func:`remote_reset` to read and clear it.
    """
    env = {**os.environ, **{f"ACEDATA_EMULATOR_{k}": v for k, v in settings.items()}}
    process = subprocess.Popen(
        [sys.executable, "-m", "langchain_acedata_images", "emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    try:
        ready, _, _ = select.select([process.stdout], [], [], 20)
        assert ready, "the emulator process did not start"
        yield json.loads(process.stdout.readline())["base_url"]
    finally:
        process.terminate()
        process.wait(10)
        process.stdout.close()


def remote_stats(base_url: str) -> dict[str, Any]:
    with httpx.Client() as admin:
        return admin.get(f"{base_url}/_emulator/stats").raise_for_status().json()  # type: ignore[no-any-return]


def remote_reset(base_url: str) -> None:
    with httpx.Client() as admin:
        admin.post(f"{base_url}/_emulator/reset").raise_for_status()


def png(width: int = 64, height: int = 64, mode: str = "RGB") -> bytes:
    """A solid red PNG of the given size."""
    from PIL import Image  # the emulator extra; only the tests that draw images need it

    buffer = io.BytesIO()
    Image.new(mode, (width, height), "red").save(buffer, format="PNG")
    return buffer.getvalue()


async def wait_finished(api: httpx.AsyncClient, task_id: str) -> dict[str, Any]:
    """Poll an in-process emulator's ``/openai/tasks`` until ``task_id`` has finished."""
    for _ in range(300):
        answer = await api.post("/openai/tasks", json={"action": "retrieve", "id": task_id})
        record: dict[str, Any] = answer.json()
        if record.get("finished_at"):
            return record
        await asyncio.sleep(0.01)
    raise AssertionError(f"task {task_id} did not finish")
