"""One paid job per tool call under real LangGraph retries, resumes and crashes.

The emulator runs in its own process, so its count of accepted submissions survives the
death of the process that ran the graph.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode
from langgraph.types import Command, RetryPolicy, interrupt

from langchain_acedata_images import (
    AceDataImagesClient,
    OpenAIGenerateImageTool,
    PollSchedule,
    TaskTimeoutError,
)
from tests.emulator_fixtures import (
    emulator_client,
    remote_emulator,
    remote_reset,
    remote_stats,
)
from tests.helpers import ScriptedChatModel

pytestmark = pytest.mark.integration

#: Jobs run 1.5 s: long enough to kill a process while its tool waits.
LATENCY = "1.5"
ROOT = Path(__file__).resolve().parents[2]
GENERATIONS = "/openai/images/generations"


@pytest.fixture(scope="module")
def remote() -> Iterator[str]:
    with remote_emulator(LATENCY=LATENCY, QUEUE_DELAY="0", SEED="11") as base_url:
        yield base_url


@pytest.fixture(scope="module")
def remote_ignoring_trace_ids() -> Iterator[str]:
    """A server that stores the request as sent but gives each task its own trace_id."""
    settings = {"LATENCY": LATENCY, "QUEUE_DELAY": "0", "SEED": "12", "TRACE_ID": "ignored"}
    with remote_emulator(**settings) as base_url:
        yield base_url


@pytest.fixture
def base_url(remote: str) -> str:
    remote_reset(remote)
    return remote


def client_for(base_url: str, **options: Any) -> AceDataImagesClient:
    return emulator_client(base_url, poll_schedule=PollSchedule(0.05, 1.5, 0.3), **options)


def paid_jobs(base_url: str) -> int:
    stats = remote_stats(base_url)
    assert stats["duplicate_trace_ids"] == []
    return int(stats["submissions"])


def image_call(call_id: str = "call-img") -> dict[str, Any]:
    args = {"prompt": "a red fox", "model": "dall-e-2", "size": "256x256"}
    return {"name": "openai_generate_image", "args": args, "id": call_id, "type": "tool_call"}


def one_node_graph(node: ToolNode, retry: RetryPolicy) -> Any:
    graph = StateGraph(MessagesState)
    graph.add_node("tools", node, retry_policy=retry)
    graph.add_edge(START, "tools")
    graph.add_edge("tools", END)
    return graph.compile()


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_node_retry_after_another_tool_failed_pays_once(base_url: str, mode: str) -> None:
    failures = {"left": 1}

    @tool
    def flaky(text: str) -> str:
        """Fails on its first call."""
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("flaky once")
        return text

    image_tool = OpenAIGenerateImageTool(client=client_for(base_url))
    node = ToolNode([image_tool, flaky], handle_tool_errors=False)
    retry = RetryPolicy(max_attempts=3, initial_interval=0.01, jitter=False, retry_on=RuntimeError)
    graph = one_node_graph(node, retry)
    calls = [image_call(), {"name": "flaky", "args": {"text": "x"}, "id": "call-flaky"}]
    start = {"messages": [AIMessage(content="", tool_calls=calls)]}
    state = graph.invoke(start) if mode == "sync" else asyncio.run(graph.ainvoke(start))
    images = [m for m in state["messages"] if isinstance(m, ToolMessage) and m.artifact]
    assert len(images) == 1
    assert images[0].artifact.urls
    assert failures["left"] == 0
    assert paid_jobs(base_url) == 1


def test_task_timeouts_retried_three_times_pay_once(base_url: str) -> None:
    image_tool = OpenAIGenerateImageTool(
        client=client_for(base_url), max_wait=0.2, handle_tool_error=False
    )
    attempts = []

    def timed_out(error: Exception) -> bool:
        attempts.append(error)
        return isinstance(error.__cause__, TaskTimeoutError)

    node = ToolNode([image_tool], handle_tool_errors=False)
    graph = one_node_graph(
        node, RetryPolicy(max_attempts=3, initial_interval=0.01, jitter=False, retry_on=timed_out)
    )
    with pytest.raises(Exception) as caught:
        graph.invoke({"messages": [AIMessage(content="", tool_calls=[image_call()])]})
    assert isinstance(caught.value.__cause__, TaskTimeoutError)
    assert len(attempts) == 3
    assert paid_jobs(base_url) == 1


def run_child(kind: str, mode: str, base_url: str, db: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.integration.langgraph_child", kind, mode, base_url, str(db)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
    )


def wait_for_submission(base_url: str, child: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while paid_jobs(base_url) == 0:
        assert child.poll() is None, child.communicate()[1]
        assert time.monotonic() < deadline, "the child never submitted"
        time.sleep(0.02)


@pytest.mark.parametrize("dialect", ["trace_id honoured", "trace_id ignored"])
@pytest.mark.parametrize("kind", ["graph", "agent"])
def test_a_run_killed_while_waiting_resumes_from_its_checkpoint_and_pays_once(
    request: pytest.FixtureRequest, tmp_path: Path, kind: str, dialect: str
) -> None:
    name = "remote" if dialect == "trace_id honoured" else "remote_ignoring_trace_ids"
    base_url: str = request.getfixturevalue(name)
    remote_reset(base_url)
    db = tmp_path / "checkpoints.sqlite"
    first = run_child(kind, "start", base_url, db)
    wait_for_submission(base_url, first)
    assert remote_stats(base_url)["finished_tasks"] == 0  # killed while the tool waits
    os.kill(first.pid, signal.SIGKILL)
    first.communicate(timeout=10)
    assert first.returncode == -signal.SIGKILL

    second = run_child(kind, "resume", base_url, db)
    out, err = second.communicate(timeout=60)
    assert second.returncode == 0, err
    answer = json.loads(out.strip().splitlines()[-1])
    assert answer["urls"]
    assert answer["urls"][0] in answer["content"]
    assert answer["last"] == "Here it is."
    assert paid_jobs(base_url) == 1


# ----------------------------------------- reused tool call ids (scripted models, some providers)


def fixed_id_model() -> ScriptedChatModel:
    """A model that always issues ``call_0`` for the same image, then answers."""

    def turn() -> list[AIMessage]:
        return [AIMessage(content="", tool_calls=[image_call("call_0")]), AIMessage("Here it is.")]

    return ScriptedChatModel(messages=iter(turn() + turn()))


def image_of(state: dict[str, Any]) -> Any:
    return [m for m in state["messages"] if isinstance(m, ToolMessage)][-1].artifact


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_two_users_of_one_toolkit_without_a_checkpointer_each_get_their_own_job(
    base_url: str, mode: str
) -> None:
    from langchain.agents import create_agent

    image_tool = OpenAIGenerateImageTool(client=client_for(base_url))
    ask = {"messages": [("user", "Draw a red fox")]}
    images = []
    for _user in range(2):
        agent = create_agent(fixed_id_model(), [image_tool])
        state = agent.invoke(ask) if mode == "sync" else asyncio.run(agent.ainvoke(ask))
        images.append(image_of(state))
    assert paid_jobs(base_url) == 2
    assert images[0].task_id != images[1].task_id
    assert images[0].urls != images[1].urls


def test_the_same_call_id_and_prompt_in_a_later_turn_is_a_new_job(base_url: str) -> None:
    from langchain.agents import create_agent

    image_tool = OpenAIGenerateImageTool(client=client_for(base_url))
    agent = create_agent(fixed_id_model(), [image_tool], checkpointer=InMemorySaver())
    thread: Any = {"configurable": {"thread_id": "one-thread"}}
    first = image_of(agent.invoke({"messages": [("user", "Draw a red fox")]}, thread))
    again = image_of(agent.invoke({"messages": [("user", "Draw it again")]}, thread))
    assert paid_jobs(base_url) == 2
    assert first.task_id != again.task_id


def test_a_tool_node_resumed_after_an_interrupt_pays_once(base_url: str) -> None:
    @tool
    def confirm(question: str) -> str:
        """Asks the user."""
        return str(interrupt(question))

    image_tool = OpenAIGenerateImageTool(client=client_for(base_url))
    graph = StateGraph(MessagesState)
    graph.add_node("tools", ToolNode([image_tool, confirm]))
    graph.add_edge(START, "tools")
    graph.add_edge("tools", END)
    app = graph.compile(checkpointer=InMemorySaver())
    thread: Any = {"configurable": {"thread_id": "interrupted"}}
    calls = [image_call("call_0"), {"name": "confirm", "args": {"question": "ok?"}, "id": "c1"}]
    first = app.invoke({"messages": [AIMessage(content="", tool_calls=calls)]}, thread)
    assert "__interrupt__" in first
    state = app.invoke(Command(resume="yes"), thread)  # the whole node runs again
    assert image_of({"messages": state["messages"][:-1]}).urls


def set_remote_faults(base_url: str, **faults: Any) -> None:
    with httpx.Client() as admin:
        admin.post(f"{base_url}/_emulator/faults", json=faults).raise_for_status()


def tool_answers(children: list[subprocess.Popen[str]]) -> list[dict[str, Any]]:
    answers = []
    for child in children:
        out, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
        answers.append(json.loads(out.strip().splitlines()[-1]))
    return answers


@pytest.mark.slow
@pytest.mark.parametrize("locked", [False, True], ids=["no lock_dir", "shared lock_dir"])
@pytest.mark.parametrize("accept_delay", [0.0, 0.3])
def test_a_double_approval_from_two_processes_delivers_one_job(
    base_url: str, tmp_path: Path, accept_delay: float, locked: bool
) -> None:
    """A graph stopped before its tools is approved twice at once (a double click, a queue
    message delivered twice): both runs report the same job, whichever of them paid; with a
    shared ``lock_dir`` only one of them pays."""
    set_remote_faults(base_url, response_delay=accept_delay, fault_paths=[GENERATIONS])
    db = tmp_path / "checkpoints.sqlite"
    start = run_child("approval", "start", base_url, db)
    out, err = start.communicate(timeout=60)
    assert start.returncode == 0, err
    assert json.loads(out.strip().splitlines()[-1]) == {"next": ["tools"]}
    assert remote_stats(base_url)["submissions"] == 0

    env = {"ACEDATA_TEST_LOCK_DIR": str(tmp_path / "locks")} if locked else {}
    resumes = [run_child("approval", "resume", base_url, db, **env) for _ in range(2)]
    answers = tool_answers(resumes)
    stats = remote_stats(base_url)
    assert stats["submissions"] == 1 if locked else stats["submissions"] <= 2
    assert answers[0]["task_id"] == answers[1]["task_id"]  # ...but one job is delivered
    assert answers[0]["urls"] == answers[1]["urls"]
    if stats["submissions"] == 2:
        noted = [answer["note"] or "" for answer in answers]
        assert any("also submitted" in note for note in noted), noted


@pytest.mark.slow
@pytest.mark.parametrize("dialect", ["trace_id honoured", "trace_id ignored"])
def test_two_processes_resuming_one_thread_at_once_pay_once(
    request: pytest.FixtureRequest, tmp_path: Path, dialect: str
) -> None:
    name = "remote" if dialect == "trace_id honoured" else "remote_ignoring_trace_ids"
    base_url: str = request.getfixturevalue(name)
    remote_reset(base_url)
    db = tmp_path / "checkpoints.sqlite"
    first = run_child("graph", "start", base_url, db)
    wait_for_submission(base_url, first)
    os.kill(first.pid, signal.SIGKILL)
    first.communicate(timeout=10)

    answers = tool_answers([run_child("graph", "resume", base_url, db) for _ in range(2)])
    assert answers[0]["task_id"] == answers[1]["task_id"]
    assert answers[0]["urls"]
    assert paid_jobs(base_url) == 1
