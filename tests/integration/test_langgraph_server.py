"""The toolkit in a real LangGraph API server (``langgraph dev``, in-memory runtime).

The server runs from ``.venv-server`` (``pip install -e ".[server]"``; ``.ci/run`` builds it:
langgraph-api pins a jsonschema-rs that the contract tests' schemathesis cannot share), serves
``langgraph_server/graph.py`` on 127.0.0.1 and is driven with ``langgraph_sdk``. The emulator
runs in its own process and counts paid jobs across server restarts.

What the in-memory runtime keeps over a restart: on SIGTERM it stores its runs and checkpoints,
and at start it runs again every run that was running. On SIGKILL only what its flush (every
10 s) stored survives: killed before a flush, the thread is gone and a caller who sends the
request again pays again (no tool can prevent that; a durable deployment can).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.emulator_fixtures import TOKEN, remote_emulator, remote_reset, remote_stats

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
GRAPH_DIR = Path(__file__).parent / "langgraph_server"
LANGGRAPH = Path(os.environ.get("LANGGRAPH_SERVER_BIN", ROOT / ".venv-server/bin/langgraph"))

if not LANGGRAPH.exists():
    if os.environ.get("CI"):
        pytest.fail(f"{LANGGRAPH} is missing: .ci/run builds it", pytrace=False)
    pytest.skip(f"no {LANGGRAPH}: run the README test command", allow_module_level=True)

from langgraph_sdk import get_client  # noqa: E402  (the skip above comes first)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """``langgraph dev`` serving ``graph.py`` from ``workdir``, restartable on the same port."""

    def __init__(self, workdir: Path, api_url: str) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "ACEDATACLOUD_API_TOKEN": TOKEN,
            "ACEDATACLOUD_API_BASE_URL": api_url,
            "LANGGRAPH_CLI_NO_ANALYTICS": "1",
            "LANGSMITH_TRACING": "false",
            "LANGCHAIN_TRACING_V2": "false",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [str(LANGGRAPH), "dev", "--no-browser", "--no-reload"]
        with (self.workdir / "server.log").open("ab") as log:  # the child keeps its own copy
            self.process = subprocess.Popen(
                [*command, "--port", str(self.port), "--config", "langgraph.json"],
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 90
        while True:
            assert self.process.poll() is None, self.log()
            assert time.monotonic() < deadline, self.log()
            try:
                if httpx.get(f"{self.url}/ok", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)

    def stop(self, how: signal.Signals = signal.SIGTERM) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(how)
            self.process.wait(timeout=60)
        self.process = None

    def log(self, tail: int = 4000) -> str:
        return (self.workdir / "server.log").read_text(errors="replace")[-tail:]


@pytest.fixture(scope="module")
def api() -> Iterator[str]:
    with remote_emulator(LATENCY="2", QUEUE_DELAY="0", SEED="31") as base_url:
        yield base_url


@pytest.fixture(scope="module")
def slow_api() -> Iterator[str]:
    """Jobs that outlast the in-memory runtime's 10 s flush."""
    with remote_emulator(LATENCY="14", QUEUE_DELAY="0", SEED="32") as base_url:
        yield base_url


def serve(tmp_path: Path, api_url: str) -> Server:
    for name in ("graph.py", "langgraph.json"):
        shutil.copy(GRAPH_DIR / name, tmp_path / name)
    remote_reset(api_url)
    return Server(tmp_path, api_url)


@pytest.fixture
def server(tmp_path: Path, api: str) -> Iterator[Server]:
    running = serve(tmp_path, api)
    running.start()
    yield running
    running.stop()


def paid_jobs(api_url: str) -> int:
    stats = remote_stats(api_url)
    assert stats["duplicate_trace_ids"] == []
    return int(stats["submissions"])


def ask(prompt: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": prompt}]}


def tool_messages(state: dict[str, Any], name: str = "openai_generate_image") -> list[Any]:
    return [m for m in state["values"]["messages"] if m["type"] == "tool" and m["name"] == name]


async def wait_for_a_job(api_url: str) -> None:
    deadline = time.monotonic() + 60
    while paid_jobs(api_url) == 0:
        assert time.monotonic() < deadline, "no job was submitted"
        await asyncio.sleep(0.02)


def test_progress_streams_and_the_artifact_lands_in_the_state(server: Server, api: str) -> None:
    async def scenario() -> None:
        async with get_client(url=server.url) as client:
            await stream_one_run(client)

    async def stream_one_run(client: Any) -> None:
        thread = await client.threads.create()
        kinds = []
        parts = client.runs.stream(
            thread["thread_id"], "images", input=ask("a red fox"), stream_mode=["updates", "custom"]
        )
        async for part in parts:
            if part.event == "custom":
                kinds.append(part.data["acedata_image_progress"]["kind"])
        assert kinds[0] == "submitted"
        assert kinds[-1] == "finished"
        assert "poll" in kinds
        state = await client.threads.get_state(thread["thread_id"])
        [message] = tool_messages(state)
        artifact = message["artifact"]
        assert artifact["images"][0]["url"] in message["content"]
        assert artifact["task_id"] in message["content"]
        assert state["values"]["messages"][-1]["content"] == "Here it is."

    asyncio.run(scenario())
    assert paid_jobs(api) == 1
    log = server.log(tail=10**7)
    assert "not stored after" not in log  # the server's checkpoint holding the call was found
    assert "durability='exit'" not in log


def test_a_run_the_server_retries_while_the_job_runs_pays_once(server: Server, api: str) -> None:
    async def scenario() -> None:
        async with get_client(url=server.url) as client:
            await one_flaky_run(client)

    async def one_flaky_run(client: Any) -> None:
        thread = await client.threads.create()
        run = await client.runs.create(thread["thread_id"], "images", input=ask("a flaky fox"))
        await client.runs.join(thread["thread_id"], run["run_id"])
        finished = await client.runs.get(thread["thread_id"], run["run_id"])
        assert finished["status"] == "success"
        state = await client.threads.get_state(thread["thread_id"])
        [retried] = tool_messages(state, "flaky_lookup")
        assert retried["content"] == "ok"  # the second attempt of the run
        assert tool_messages(state)[0]["artifact"]["images"]

    asyncio.run(scenario())
    assert "RetryableException" in server.log(tail=10**7)
    assert paid_jobs(api) == 1


def restart_mid_job(server: Server, api_url: str, how: signal.Signals, after: float) -> None:
    async def scenario() -> None:
        async with get_client(url=server.url) as client:
            thread = await client.threads.create()
            run = await client.runs.create(thread["thread_id"], "images", input=ask("a fox"))
        await wait_for_a_job(api_url)
        await asyncio.sleep(after)
        server.stop(how)
        assert remote_stats(api_url)["finished_tasks"] == 0  # stopped while the job ran
        server.start()
        async with get_client(url=server.url) as client:
            await finish(client, thread["thread_id"], run["run_id"])

    async def finish(client: Any, thread_id: str, run_id: str) -> None:
        await client.runs.join(thread_id, run_id)
        finished = await client.runs.get(thread_id, run_id)
        assert finished["status"] == "success"
        state = await client.threads.get_state(thread_id)
        assert tool_messages(state)[0]["artifact"]["images"]

    asyncio.run(scenario())


def test_a_server_restarted_mid_job_runs_the_run_again_and_pays_once(
    server: Server, api: str
) -> None:
    restart_mid_job(server, api, signal.SIGTERM, after=0.0)
    assert paid_jobs(api) == 1


def test_a_server_killed_mid_job_after_its_flush_resumes_and_pays_once(
    tmp_path: Path, slow_api: str
) -> None:
    server = serve(tmp_path, slow_api)
    server.start()
    try:
        restart_mid_job(server, slow_api, signal.SIGKILL, after=10.5)
    finally:
        server.stop()
    assert paid_jobs(slow_api) == 1
