"""The API token never leaks: not in reprs, errors, logs, tool output, callbacks or saved files.

A distinctive token is used for real requests to the loopback emulator (which is made to
insist on it, so the token provably travels in the ``authorization`` header) and every place
a token could end up is searched for it: ``repr``/``str`` and dumps of every public object,
exception text and tracebacks, log records of every logger at DEBUG (httpx and httpcore
included), tool content and artifact JSON, every LangChain callback and tracer payload, and
the bytes of saved files. Success, validation error, API error and transport error paths are
all covered, sync and async.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import pickle
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import respx
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.load import dumpd
from langchain_core.messages import ToolMessage
from langchain_core.tracers.run_collector import RunCollectorCallbackHandler

from langchain_acedata_images import (
    AceDataImagesClient,
    AceDataImagesError,
    AceDataImagesToolkit,
    AuthenticationError,
    ImageGenerationResult,
    ImageTask,
    ModerationError,
    OpenAIGenerateImageTool,
    ServerError,
    TransportError,
)
from langchain_acedata_images.client import TOKEN_ENV
from langchain_acedata_images.emulator import EmulatorConfig, RunningEmulator, run_emulator
from tests.emulator_fixtures import FAST, emulator_client

pytestmark = pytest.mark.integration

SECRET = "sk-LEAKCANARY-q7Zx9w3V5t1R"
#: Also caught: the token cut in half, or in an encoding that keeps this core.
CANARY = "LEAKCANARY"


def renderings(value: Any) -> Iterator[str]:
    """Every textual form of ``value`` a program, log or tracer might produce."""
    yield repr(value)
    yield str(value)
    if isinstance(value, BaseException):
        yield "".join(traceback.format_exception(value))
        yield repr(value.args)
        yield repr(vars(value))
    if hasattr(value, "model_dump_json"):
        with contextlib.suppress(Exception):  # some cannot be dumped; their repr counts
            yield value.model_dump_json()
        yield repr(value.model_dump())
    if hasattr(value, "__dict__") and not isinstance(value, type):
        yield repr(vars(value))


def assert_clean(*values: Any) -> None:
    for value in values:
        for text in renderings(value):
            assert CANARY not in text, f"the token leaked into {type(value).__name__}: {text[:300]}"


class EverythingRecorder(BaseCallbackHandler):
    """Records the arguments of every ``on_*`` callback LangChain makes."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []


def _recording(name: str) -> Any:
    def record(self: EverythingRecorder, *args: Any, **kwargs: Any) -> None:
        self.events.append((name, repr((args, kwargs))))

    return record


for _name in dir(BaseCallbackHandler):
    if _name.startswith("on_"):
        setattr(EverythingRecorder, _name, _recording(_name))


@pytest.fixture(scope="module")
def strict_emulator() -> Iterator[RunningEmulator]:
    """An emulator that accepts only SECRET: a success proves the token was really sent."""
    config = EmulatorConfig(
        latency=FAST.latency, queue_delay=FAST.queue_delay, tokens=frozenset({SECRET})
    )
    with run_emulator(config) as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh_strict(strict_emulator: RunningEmulator) -> None:
    strict_emulator.reset()


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)  # root: every logger, httpx and httpcore included
    for name in ("httpx", "httpcore", "langchain_acedata_images", "uvicorn", "langchain_core"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    return caplog


def assert_logs_clean(caplog: pytest.LogCaptureFixture) -> None:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    assert caplog.records, "nothing was logged: the check would prove nothing"
    for record in caplog.records:
        text = formatter.format(record) + repr(record.args) + repr(record.__dict__)
        assert CANARY not in text, f"the token leaked into a log record: {text[:300]}"


def assert_files_clean(directory: Path) -> None:
    files = [path for path in directory.rglob("*") if path.is_file()]
    for path in files:
        assert CANARY.encode() not in path.read_bytes(), path
        assert CANARY not in str(path)


def client_for(base_url: str, **kwargs: Any) -> AceDataImagesClient:
    return emulator_client(base_url, token=SECRET, **kwargs)


def tool_call(args: dict[str, Any]) -> dict[str, Any]:
    return {"type": "tool_call", "id": "call-secret", "name": "openai_generate_image", "args": args}


async def run_tool(tool: Any, args: dict[str, Any], mode: str) -> tuple[ToolMessage, list[Any]]:
    """Invoke a tool as an agent would, with a recorder and a tracer attached."""
    recorder, tracer = EverythingRecorder(), RunCollectorCallbackHandler()
    config = {"callbacks": [recorder, tracer], "metadata": {"user": "u1"}, "tags": ["t"]}
    if mode == "sync":
        message = await asyncio.to_thread(tool.invoke, tool_call(args), config)
    else:
        message = await tool.ainvoke(tool_call(args), config)
    assert recorder.events, "no callbacks were recorded"
    return message, [recorder.events, *tracer.traced_runs]


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# ------------------------------------------------------------------------ objects


def test_no_object_shows_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, SECRET)
    client = AceDataImagesClient(base_url="https://api.test")
    toolkit = AceDataImagesToolkit(base_url="https://api.test")
    from_env_tool = OpenAIGenerateImageTool(base_url="https://api.test")
    given_tool = OpenAIGenerateImageTool(api_token=SECRET, base_url="https://api.test")
    tools = [*toolkit.get_tools(), from_env_tool, given_tool]
    assert client.has_token
    assert toolkit.client is not None
    assert toolkit.client.has_token
    assert_clean(client, toolkit, toolkit.client, *tools)
    for tool in tools:
        assert CANARY not in json.dumps(dumpd(tool), default=repr)
        assert CANARY not in json.dumps(tool.tool_call_schema.model_json_schema())
        assert CANARY not in repr(tool.args) + repr(tool.get_input_schema().model_json_schema())
    assert CANARY not in json.dumps(dumpd(toolkit), default=repr)
    for value in (client, given_tool):
        with pytest.raises((TypeError, pickle.PicklingError, AttributeError)):
            pickle.dumps(value)  # pooled clients hold locks; no pickle of the token either
    toolkit.close()


# ------------------------------------------------------------------ success paths


async def test_generate_success_leaks_nothing(
    strict_emulator: RunningEmulator,
    debug_logs: pytest.LogCaptureFixture,
    tmp_path: Path,
    mode: str,
) -> None:
    async with client_for(strict_emulator.base_url) as client:
        tool = OpenAIGenerateImageTool(client=client, save_dir=tmp_path, image_blocks=True)
        message, traces = await run_tool(tool, {"prompt": "a fox", "n": 2}, mode)
        assert message.status == "success", message.content
        result = message.artifact
        assert isinstance(result, ImageGenerationResult)
        assert len(result.paths) == 2  # downloaded from the emulator and saved
        partial, _ = await run_tool(tool, {"prompt": "streamed", "partial_images": 2}, mode)
        b64, _ = await run_tool(tool, {"prompt": "b64", "response_format": "b64_json"}, mode)
        handle = await (
            asyncio.to_thread(client.generate, prompt="later", wait=False)
            if mode == "sync"
            else client.agenerate(prompt="later", wait=False)
        )
        assert isinstance(handle, ImageTask)
        record = await client.aget_task(handle.task_id)
        listing = await client.alist_tasks()
    assert strict_emulator.stats()["by_status"].get("401") is None  # the token was accepted
    assert_clean(message, result, *result.images, partial, b64, handle, record, listing, tool)
    assert CANARY not in json.dumps(message.content) + result.model_dump_json()
    for trace in traces:
        assert_clean(trace)
    assert_logs_clean(debug_logs)
    assert_files_clean(tmp_path)


async def test_toolkit_from_environment_leaks_nothing(
    strict_emulator: RunningEmulator,
    debug_logs: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv(TOKEN_ENV, SECRET)
    async with AceDataImagesToolkit(
        base_url=strict_emulator.base_url, save_dir=tmp_path, max_wait=10
    ) as toolkit:
        generate, edit, get_task, list_tasks = toolkit.get_tools()
        made, traces = await run_tool(generate, {"prompt": "env token"}, "async")
        assert made.status == "success", made.content
        url = made.artifact.images[0].url
        edited, more = await run_tool(edit, {"prompt": "blue", "image": url}, "async")
        assert edited.status == "success", edited.content
        task_id = made.artifact.task_id
        call = {"type": "tool_call", "id": "c", "name": get_task.name, "args": {"task_id": task_id}}
        fetched = await get_task.ainvoke(call)
        call = {"type": "tool_call", "id": "d", "name": list_tasks.name, "args": {}}
        listed = await list_tasks.ainvoke(call)
    assert_clean(toolkit, made, edited, fetched, listed, made.artifact, edited.artifact)
    for trace in traces + more:
        assert_clean(trace)
    assert_logs_clean(debug_logs)
    assert_files_clean(tmp_path)


# -------------------------------------------------------------------- error paths


async def test_validation_errors_leak_nothing(
    strict_emulator: RunningEmulator, debug_logs: pytest.LogCaptureFixture, mode: str
) -> None:
    async with client_for(strict_emulator.base_url) as client:
        tool = OpenAIGenerateImageTool(client=client)
        message, traces = await run_tool(tool, {"prompt": "x", "n": 99, "api_token": "?"}, mode)
        with pytest.raises(ValueError) as raised:
            await client.agenerate(prompt="x", model="dall-e-3", n=4)
    assert message.status == "error"
    assert strict_emulator.stats()["requests"] == 0
    assert_clean(message, raised.value)
    for trace in traces:
        assert_clean(trace)
    logging.getLogger("langchain_acedata_images").debug("validation checked")
    assert_logs_clean(debug_logs)


@pytest.mark.parametrize(
    ("case", "error_type"),
    [
        ("auth", AuthenticationError),
        ("moderation", ModerationError),
        ("server", ServerError),
        ("unreachable", TransportError),
    ],
)
async def test_api_and_transport_errors_leak_nothing(
    strict_emulator: RunningEmulator,
    debug_logs: pytest.LogCaptureFixture,
    mode: str,
    case: str,
    error_type: type[AceDataImagesError],
) -> None:
    base_url = strict_emulator.base_url
    prompt = "a fox"
    if case == "auth":  # a different emulator that expects another token
        pass
    elif case == "moderation":
        prompt = "forbidden-content please"
    elif case == "server":
        strict_emulator.set_faults(
            error_rates={500: 1.0}, fault_paths=["/openai/images/generations"]
        )
    else:
        base_url = "http://127.0.0.1:9"  # discard port: connection refused
    with run_emulator(EmulatorConfig(tokens=frozenset({"another-token"}))) as other:
        if case == "auth":
            base_url = other.base_url
        async with client_for(base_url, max_wait=2.0) as client:
            tool = OpenAIGenerateImageTool(client=client)
            message, traces = await run_tool(tool, {"prompt": prompt}, mode)
            with pytest.raises(error_type) as raised:
                await client.agenerate(prompt=prompt)
    assert message.status == "error"
    assert_clean(message, raised.value)
    for trace in traces:
        assert_clean(trace)
    assert_logs_clean(debug_logs)


async def test_errors_do_not_repeat_a_token_the_server_echoes(
    debug_logs: pytest.LogCaptureFixture, mode: str
) -> None:
    """Some gateways quote the credentials they refused; the error must not pass them on."""
    echo = f"invalid token 'Bearer {SECRET}' for this resource"
    with respx.mock(base_url="https://echo.test", assert_all_called=False) as api:
        api.post("/openai/images/generations").respond(
            401, json={"error": {"code": "invalid_token", "message": echo}}
        )
        # The tool call's look-up before submitting finds nothing; every other look-up fails.
        api.post("/openai/tasks", json__action="retrieve_batch").respond(
            200, json={"items": [], "count": 0}
        )
        api.post("/openai/tasks").respond(503, text=f"<html>upstream said: {SECRET}</html>")
        async with client_for("https://echo.test", max_wait=1.0) as client:
            tool = OpenAIGenerateImageTool(client=client)
            message, traces = await run_tool(tool, {"prompt": "x"}, mode)
            with pytest.raises(AuthenticationError) as auth:
                await client.agenerate(prompt="x")
            with pytest.raises(ServerError) as server:
                await client.aget_task("t1")
    assert message.status == "error"
    assert "invalid token" in str(message.content)  # the rest of the message is kept
    assert_clean(message, auth.value, server.value)
    for trace in traces:
        assert_clean(trace)
    assert_logs_clean(debug_logs)


def test_callback_payload_types_are_plain(strict_emulator: RunningEmulator) -> None:
    """Sanity check of the recorder: it sees tool start/end with their inputs and outputs."""
    with client_for(strict_emulator.base_url) as client:
        recorder = EverythingRecorder()
        tool = OpenAIGenerateImageTool(client=client)
        tool.invoke(tool_call({"prompt": "recorded"}), {"callbacks": [recorder]})
    names = [name for name, _ in recorder.events]
    assert "on_tool_start" in names
    assert "on_tool_end" in names
    assert "on_custom_event" in names  # progress events are recorded too
    assert any("recorded" in payload for _, payload in recorder.events)
