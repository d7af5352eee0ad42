"""Resource hygiene with the emulator in *another process*: every socket and thread counted
here belongs to the package.

The in-process emulator (see ``test_resources.py``) holds the server ends of the connections,
so fd counts there need slack; here the count must come back to where it started after
1,000 calls of every kind (sync and async tools, five event loops closed with and without
``aclose``, streams broken by faults, saves to disk, API and transport errors, cancellations)
and no ``ResourceWarning`` may be emitted, not even from a finalizer.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from langchain_core.messages import ToolMessage

from langchain_acedata_images import (
    AceDataImagesClient,
    AceDataImagesToolkit,
    ImageGenerationResult,
    OpenAIGenerateImageTool,
    PollSchedule,
    RetryPolicy,
)
from tests.emulator_fixtures import emulator_client, remote_emulator
from tests.helpers import tool_call

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings("error::ResourceWarning")]

TOKEN = "sk-hygiene-token"
FAST_POLLS = PollSchedule(first_delay=0.005, factor=1.5, max_interval=0.05)
FAST_RETRIES = RetryPolicy(max_retries=2, base_delay=0.01, max_delay=0.05, settle_time=0.2)
SMALL = {"model": "dall-e-2", "size": "256x256"}
FD_SLACK = 2


@pytest.fixture(scope="module")
def remote() -> Iterator[str]:
    """An emulator in a child process (via the CLI); yields its base URL."""
    with remote_emulator(LATENCY="0", QUEUE_DELAY="0", SEED="7") as base_url:
        yield base_url


def set_faults(base_url: str, **faults: Any) -> None:
    with httpx.Client() as admin:
        admin.post(f"{base_url}/_emulator/faults", json=faults).raise_for_status()


def descriptors() -> dict[str, int]:
    """Open fds of this process: all of them, and the sockets among them."""
    links = []
    for name in os.listdir("/proc/self/fd"):
        try:
            links.append(os.readlink(f"/proc/self/fd/{name}"))
        except OSError:  # the fd listdir itself used, closed meanwhile
            continue
    return {"fds": len(links), "sockets": sum(link.startswith("socket:") for link in links)}


def settled(baseline: dict[str, int]) -> dict[str, int]:
    """The fd counts once garbage is collected (allowing a moment for closes to land)."""
    deadline = time.monotonic() + 3
    while True:
        gc.collect()
        now = descriptors()
        if now["fds"] <= baseline["fds"] + FD_SLACK or time.monotonic() > deadline:
            return now
        time.sleep(0.05)


@contextmanager
def watching(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail on any ResourceWarning, also one from a finalizer, which pytest's filter cannot turn
    into a failure (it becomes an "unraisable" warning), on any other exception a finalizer
    swallows, and on asyncio's "Task was destroyed" / "Unclosed" complaints."""
    unraisable: list[str] = []
    previous_hook = sys.unraisablehook
    sys.unraisablehook = lambda info: unraisable.append(f"{info.exc_value!r} in {info.object!r}")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResourceWarning)
            with caplog.at_level(logging.WARNING, logger="asyncio"):
                yield
                gc.collect()
    finally:
        sys.unraisablehook = previous_hook
    complaints = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    complaints += [str(w.message) for w in caught if "nclosed" in str(w.message)]
    complaints += [r.getMessage() for r in caplog.records if r.name == "asyncio"]
    assert complaints + unraisable == []


def toolkit_for(base_url: str, **kwargs: Any) -> AceDataImagesToolkit:
    toolkit = AceDataImagesToolkit(api_token=TOKEN, base_url=base_url, max_wait=10, **kwargs)
    assert toolkit.client is not None
    toolkit.client.poll_schedule = FAST_POLLS
    toolkit.client.retry_policy = FAST_RETRIES
    return toolkit


def client_for(base_url: str) -> AceDataImagesClient:
    return emulator_client(
        base_url, token=TOKEN, poll_schedule=FAST_POLLS, retry_policy=FAST_RETRIES
    )


def warm_up(base_url: str, tmp_path: Path) -> None:
    """Create whatever lazily made, process-wide pools exist (LangChain's executors...)."""
    with toolkit_for(base_url, save_dir=tmp_path / "warm") as toolkit:
        generate, *_ = toolkit.get_tools()
        generate.invoke(tool_call(generate.name, {"prompt": "warm", **SMALL}))

        async def both() -> None:
            await generate.ainvoke(tool_call(generate.name, {"prompt": "warm", **SMALL}))
            await asyncio.to_thread(lambda: None)

        asyncio.run(both())


# ---------------------------------------------------------------------------- 1,000 calls


def _thousand_calls(remote: str, saved_dir: Path, outcomes: dict[str, int]) -> dict[str, int]:
    """Run the 1,000 calls; returns the fd counts seen while the toolkit was still open."""

    def count(message: Any) -> None:
        assert isinstance(message, ToolMessage)
        outcomes[message.status] = outcomes.get(message.status, 0) + 1

    with toolkit_for(remote, save_dir=saved_dir) as toolkit:
        generate, _edit, get_task, list_tasks = toolkit.get_tools()
        plain = generate.model_copy(update={"save_dir": None})
        name = generate.name
        # 200 sync generations, 150 of them downloaded and saved through the shared pool.
        for i in range(200):
            tool = plain if i % 4 == 0 else generate
            count(tool.invoke(tool_call(name, {"prompt": f"sync {i}", **SMALL}, f"call-{i}")))
        made = generate.invoke(tool_call(name, {"prompt": "lookup", **SMALL}))
        count(made)
        # 99 sync look-ups and listings.
        for i in range(99):
            if i % 2:
                count(
                    get_task.invoke(
                        tool_call(get_task.name, {"task_id": made.artifact.task_id}, f"call-{i}")
                    )
                )
            else:
                count(list_tasks.invoke(tool_call(list_tasks.name, {"limit": 3}, f"call-{i}")))

        # 450 async generations in five event loops; three end without aclose().
        async def batch(loop_number: int) -> None:
            messages = await asyncio.gather(
                *(
                    generate.ainvoke(tool_call(name, {"prompt": f"a{i}", **SMALL}, f"call-{i}"))
                    for i in range(90)
                )
            )
            for message in messages:
                count(message)
            if loop_number < 2:
                await toolkit.aclose()

        for loop_number in range(5):
            asyncio.run(batch(loop_number))

        # 100 streamed generations (partial images), about a third of the streams cut short.
        async def streams() -> None:
            for i in range(50):
                args = {"prompt": f"astream {i}", "partial_images": 1}
                count(await generate.ainvoke(tool_call(name, args, f"call-{i}")))

        set_faults(remote, drop_after_accept_rate=0.3)
        try:
            for i in range(50):
                count(
                    generate.invoke(tool_call(name, {"prompt": f"stream {i}", "partial_images": 1}))
                )
            asyncio.run(streams())
        finally:
            set_faults(remote, drop_after_accept_rate=0.0)
        # 125 failures: invalid arguments, a refused prompt, 5xx answers, an unreachable host.
        for i in range(50):
            count(generate.invoke(tool_call(name, {"prompt": "x", "n": 99}, f"call-{i}")))
        for i in range(25):
            count(
                generate.invoke(
                    tool_call(name, {"prompt": "forbidden-content", **SMALL}, f"call-{i}")
                )
            )
        set_faults(remote, error_rates={"503": 1.0})
        try:
            for i in range(25):
                count(generate.invoke(tool_call(name, {"prompt": "busy", **SMALL}, f"call-{i}")))
        finally:
            set_faults(remote, error_rates={})
        with toolkit_for("http://127.0.0.1:9") as unreachable:
            down = unreachable.get_tools()[0]
            for i in range(25):
                count(down.invoke(tool_call(name, {"prompt": "down", **SMALL}, f"call-{i}")))

        # 25 calls cancelled while their submission is in flight.
        async def cancelled() -> None:
            for i in range(25):
                pending = generate.ainvoke(
                    tool_call(name, {"prompt": f"cancel {i}", **SMALL}, f"call-{i}")
                )
                with pytest.raises(asyncio.TimeoutError):
                    await asyncio.wait_for(pending, 0.05)
                outcomes["cancelled"] = outcomes.get("cancelled", 0) + 1

        set_faults(remote, response_delay=0.2)
        try:
            asyncio.run(cancelled())
        finally:
            set_faults(remote, response_delay=0.0)
        return descriptors()


@pytest.mark.slow
def test_no_fd_socket_or_thread_survives_1000_calls_of_every_kind(
    remote: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    warm_up(remote, tmp_path)
    outcomes: dict[str, int] = {}
    with watching(caplog):
        baseline, threads = settled(descriptors()), threading.active_count()
        during = _thousand_calls(remote, tmp_path / "saved", outcomes)
        after = settled(baseline)
    print(
        f"\n1,000 calls {outcomes}: fds {baseline['fds']} -> {during['fds']} (during) -> "
        f"{after['fds']}; sockets {baseline['sockets']} -> {during['sockets']} -> "
        f"{after['sockets']}; threads {threads} -> {threading.active_count()}"
    )
    assert sum(outcomes.values()) == 1000
    assert outcomes["success"] == 200 + 1 + 99 + 450 + 100
    assert outcomes["error"] == 125
    assert after["sockets"] <= baseline["sockets"]
    assert after["fds"] <= baseline["fds"] + FD_SLACK
    assert threading.active_count() <= threads
    saved = list((tmp_path / "saved").iterdir())
    # One file per saving call (get_task saves too), no temporary leftovers.
    assert len(saved) == 150 + 1 + 49 + 450 + 100
    assert not [path for path in saved if not path.name.endswith(".png")]


# ------------------------------------------------------------------ closing and owning


def test_with_toolkit_closes_its_client(remote: str, caplog: pytest.LogCaptureFixture) -> None:
    with watching(caplog):
        baseline = settled(descriptors())
        with toolkit_for(remote) as toolkit:
            tools = toolkit.get_tools()
            assert {id(tool.client) for tool in tools} == {id(toolkit.client)}  # type: ignore[attr-defined]
            tools[0].invoke(tool_call(tools[0].name, {"prompt": "x", **SMALL}))
            pool = toolkit.client.http_client  # type: ignore[union-attr]
            assert descriptors()["sockets"] > baseline["sockets"]  # a kept-alive connection
        assert pool.is_closed
        assert settled(baseline)["sockets"] <= baseline["sockets"]


def test_async_with_toolkit_closes_the_loops_pool(
    remote: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def run() -> None:
        async with toolkit_for(remote) as toolkit:
            generate = toolkit.get_tools()[0]
            results = await asyncio.gather(
                *(
                    generate.ainvoke(tool_call(generate.name, {"prompt": "x", **SMALL}))
                    for _ in range(8)
                )
            )
            assert all(isinstance(m.artifact, ImageGenerationResult) for m in results)
            pool = toolkit.client.http_async_client  # type: ignore[union-attr]
        assert pool.is_closed  # by __aexit__, before the loop ends

    with watching(caplog):
        baseline = settled(descriptors())
        asyncio.run(run())
        assert settled(baseline)["sockets"] <= baseline["sockets"]


def test_a_client_passed_in_is_left_open_for_its_owner(
    remote: str, caplog: pytest.LogCaptureFixture
) -> None:
    with watching(caplog), client_for(remote) as client:
        with AceDataImagesToolkit(client=client) as toolkit:
            generate = toolkit.get_tools()[0]
            generate.invoke(tool_call(generate.name, {"prompt": "x", **SMALL}))
        pool = client.http_client
        assert not pool.is_closed
        generate.invoke(tool_call(generate.name, {"prompt": "again", **SMALL}))  # still usable
    assert pool.is_closed


def test_clients_dropped_without_closing_free_their_sockets(
    remote: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Tools built inline (each with its own client, never closed) release everything."""

    async def once(tool: OpenAIGenerateImageTool) -> None:
        await tool.ainvoke(tool_call(tool.name, {"prompt": "dropped async", **SMALL}))

    with watching(caplog):
        baseline = settled(descriptors())
        for i in range(20):
            tool = OpenAIGenerateImageTool(api_token=TOKEN, base_url=remote)
            tool.client.poll_schedule = FAST_POLLS  # type: ignore[union-attr]
            tool.invoke(tool_call(tool.name, {"prompt": f"dropped {i}", **SMALL}))
            asyncio.run(once(tool))
            del tool
        after = settled(baseline)
        assert after["sockets"] <= baseline["sockets"], after
