"""The MCP server against the loopback emulator: in-process, over stdio, and through
``langchain-mcp-adapters`` into ``create_agent``."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import jsonschema
import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.shared.memory import create_connected_server_and_client_session
from mcp.types import CallToolResult, ResourceLink, TextContent

from langchain_acedata_images import AceDataImagesClient
from langchain_acedata_images.emulator import RunningEmulator
from langchain_acedata_images.mcp_server import AceDataImagesMCP
from tests.helpers import GENERATE_TOOL, ScriptedChatModel, tool_call_message

pytestmark = pytest.mark.integration

TOOLS = {"openai_generate_image", "openai_edit_image", "openai_get_task", "openai_list_tasks"}


@asynccontextmanager
async def connected(client: AceDataImagesClient, **options: Any) -> AsyncIterator[ClientSession]:
    server = AceDataImagesMCP(client, **options)
    async with create_connected_server_and_client_session(server._mcp_server) as session:
        yield session


def text_of(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


async def test_tools_are_listed_with_schemas_and_annotations(client: AceDataImagesClient) -> None:
    from langchain_acedata_images import OpenAIGenerateImageTool

    async with connected(client) as session:
        listed = {tool.name: tool for tool in (await session.list_tools()).tools}
    assert set(listed) == TOOLS
    generate = listed[GENERATE_TOOL]
    # The input schema is the LangChain tool's (declared once), plus the optional key.
    own = OpenAIGenerateImageTool(client=client).tool_call_schema.model_json_schema()  # type: ignore[union-attr]
    assert generate.inputSchema["properties"].pop("idempotency_key")["type"] == "string"
    assert generate.inputSchema == own
    assert generate.outputSchema is not None
    assert set(generate.outputSchema["properties"]) >= {"task_id", "trace_id", "images", "model"}
    assert generate.annotations is not None
    assert (generate.annotations.readOnlyHint, generate.annotations.idempotentHint) == (
        False,
        False,
    )
    assert generate.annotations.openWorldHint is True
    assert "idempotency_key" not in listed["openai_get_task"].inputSchema["properties"]
    assert listed["openai_list_tasks"].annotations.readOnlyHint is True  # type: ignore[union-attr]


async def test_one_call_returns_the_finished_image_with_progress(
    client: AceDataImagesClient, emulator: RunningEmulator
) -> None:
    progress: list[tuple[float, str | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, message))

    async with connected(client) as session:
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
        result = await session.call_tool(
            GENERATE_TOOL,
            {"prompt": "a red fox", "size": "1536x1024"},
            progress_callback=on_progress,
        )
    assert not result.isError
    text, *links = result.content
    assert isinstance(text, TextContent)
    assert "\n" not in text.text
    assert text.text.startswith("Generated 1 image (gpt-image-1, 1536x1024")
    assert len(links) == 1
    assert isinstance(links[0], ResourceLink)
    assert links[0].mimeType == "image/png"
    structured = result.structuredContent
    assert structured is not None
    jsonschema.validate(structured, tools[GENERATE_TOOL].outputSchema)  # type: ignore[arg-type]
    assert structured["status"] == "succeeded"
    assert structured["images"][0]["url"] == str(links[0].uri)
    assert structured["trace_id"].startswith("lcai-")
    assert {"task_id", "model", "size", "elapsed"} <= set(structured)
    assert progress, "no progress notification reached the client"
    values = [value for value, _ in progress]
    assert values == sorted(values)
    assert any("finished" in (message or "") for _, message in progress)
    assert emulator.stats()["submissions"] == 1


@pytest.mark.parametrize(
    "arguments",
    [
        {"prompt": "a fox", "n": 99},
        {"prompt": "a fox", "size": "banana"},
        {"prompt": "a fox", "model": "dall-e-2", "size": "1792x1024"},
        {"prompt": "a fox", "idempotency_key": ""},
    ],
)
async def test_bad_input_is_an_error_before_any_request(
    client: AceDataImagesClient, emulator: RunningEmulator, arguments: dict[str, Any]
) -> None:
    async with connected(client) as session:
        result = await session.call_tool(GENERATE_TOOL, arguments)
    assert result.isError
    assert emulator.stats()["requests"] == 0
    if "size" in arguments:
        assert "use one of" in text_of(result) or "WIDTHxHEIGHT" in text_of(result)


async def test_base64_images_are_resources_never_text(client: AceDataImagesClient) -> None:
    async with connected(client) as session:
        result = await session.call_tool(
            GENERATE_TOOL, {"prompt": "a fox", "model": "dall-e-3", "response_format": "b64_json"}
        )
        assert not result.isError
        link = result.content[1]
        assert isinstance(link, ResourceLink)
        assert str(link.uri).startswith("acedata-images://image/")
        read = await session.read_resource(link.uri)
    blob = read.contents[0]
    assert base64.b64decode(blob.blob).startswith(b"\x89PNG")  # type: ignore[union-attr]
    # Everything the model could read stays small: no base64 anywhere.
    dumped = result.model_dump_json()
    assert len(dumped) < 2000


async def test_saved_images_link_to_files(client: AceDataImagesClient, tmp_path: Any) -> None:
    async with connected(client, save_dir=tmp_path) as session:
        result = await session.call_tool(
            GENERATE_TOOL, {"prompt": "a fox", "model": "dall-e-3", "response_format": "b64_json"}
        )
    link = result.content[1]
    assert isinstance(link, ResourceLink)
    assert str(link.uri).startswith("file://")
    assert result.structuredContent["images"][0]["path"].startswith(str(tmp_path))  # type: ignore[index]


async def test_a_retry_with_the_same_key_pays_once(
    client: AceDataImagesClient, emulator: RunningEmulator
) -> None:
    call = {"prompt": "a fox", "idempotency_key": "order-42"}
    async with connected(client) as session:
        first = await session.call_tool(GENERATE_TOOL, call)
    async with connected(client) as other_session:  # a reconnected host retries
        again = await other_session.call_tool(GENERATE_TOOL, call)
    assert first.structuredContent["task_id"] == again.structuredContent["task_id"]  # type: ignore[index]
    assert emulator.stats()["submissions"] == 1


async def test_identical_calls_without_a_key_are_new_jobs(
    client: AceDataImagesClient, emulator: RunningEmulator
) -> None:
    async with connected(client) as session:
        first = await session.call_tool(GENERATE_TOOL, {"prompt": "a fox"})
        second = await session.call_tool(GENERATE_TOOL, {"prompt": "a fox"})
    assert first.structuredContent["task_id"] != second.structuredContent["task_id"]  # type: ignore[index]
    assert emulator.stats()["submissions"] == 2


async def test_get_task_and_list_tasks(client: AceDataImagesClient) -> None:
    async with connected(client) as session:
        made = await session.call_tool(GENERATE_TOOL, {"prompt": "a fox"})
        task_id = made.structuredContent["task_id"]  # type: ignore[index]
        got = await session.call_tool("openai_get_task", {"task_id": task_id})
        listed = await session.call_tool("openai_list_tasks", {})
        missing = await session.call_tool("openai_get_task", {})
    assert got.structuredContent["status"] == "succeeded"  # type: ignore[index]
    assert got.structuredContent["task_id"] == task_id  # type: ignore[index]
    assert listed.structuredContent["count"] == 1  # type: ignore[index]
    assert listed.structuredContent["items"][0]["id"] == task_id  # type: ignore[index]
    assert missing.isError


async def test_edit_takes_an_earlier_image(client: AceDataImagesClient) -> None:
    async with connected(client) as session:
        made = await session.call_tool(GENERATE_TOOL, {"prompt": "a fox"})
        url = made.structuredContent["images"][0]["url"]  # type: ignore[index]
        edited = await session.call_tool(
            "openai_edit_image", {"prompt": "make it blue", "image": url}
        )
    assert not edited.isError, text_of(edited)
    assert text_of(edited).startswith("Edited 1 image")


async def test_stdio_server_with_the_embedded_emulator() -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("ACEDATACLOUD_API_TOKEN", "ACEDATACLOUD_API_BASE_URL")
    }
    env["ACEDATA_EMULATOR_LATENCY"] = "0.05"
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "langchain_acedata_images", "mcp"], env=env
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        names = {tool.name for tool in (await session.list_tools()).tools}
        result = await session.call_tool(GENERATE_TOOL, {"prompt": "a lighthouse"})
    assert names == TOOLS
    assert not result.isError, text_of(result)
    assert result.structuredContent["status"] == "succeeded"  # type: ignore[index]


async def test_langchain_mcp_adapters_into_create_agent(
    client: AceDataImagesClient, emulator: RunningEmulator
) -> None:
    from langchain_mcp_adapters.tools import load_mcp_tools

    script = iter(
        [
            tool_call_message(GENERATE_TOOL, {"prompt": "a red fox", "size": "1024x1024"}),
            AIMessage("Here is your fox."),
        ]
    )
    async with connected(client) as session:
        tools = await load_mcp_tools(session)
        assert {tool.name for tool in tools} == TOOLS
        agent = create_agent(ScriptedChatModel(messages=script), tools)
        state = await agent.ainvoke({"messages": [("user", "Draw a red fox")]})
    answer = next(m for m in state["messages"] if m.type == "tool")
    assert answer.status != "error"
    assert "Generated 1 image" in json.dumps(answer.content)
    assert emulator.stats()["submissions"] == 1


def test_package_and_cli_help_do_not_import_mcp() -> None:
    code = (
        "import sys, contextlib, io\n"
        "import langchain_acedata_images, langchain_acedata_images.cli as cli\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "    cli.main(['--help'])\n"
        "assert 'mcp' not in sys.modules, 'mcp imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_streamable_http_delivers_progress_over_sse() -> None:
    from mcp.client import streamable_http

    # streamable_http_client since mcp 1.2x; the older name before it.
    connect = getattr(streamable_http, "streamable_http_client", None) or (
        streamable_http.streamablehttp_client
    )
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACEDATACLOUD_")}
    env["ACEDATA_EMULATOR_LATENCY"] = "1.5"  # long enough for a poll or two
    command = [sys.executable, "-m", "langchain_acedata_images", "mcp", "--transport", "http"]
    server = subprocess.Popen(
        [*command, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    progress: list[float] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(value)

    try:
        for _ in range(200):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            await asyncio.sleep(0.05)
        async with connect(f"http://127.0.0.1:{port}/mcp") as streams:
            read, write = streams[0], streams[1]
            async with ClientSession(read, write) as session:
                await session.initialize()
                result = await session.call_tool(
                    GENERATE_TOOL, {"prompt": "a fox"}, progress_callback=on_progress
                )
    finally:
        server.terminate()
        server.wait(10)
    assert not result.isError, text_of(result)
    assert len(progress) >= 2


async def test_a_dropped_answer_costs_one_job(
    client: AceDataImagesClient, emulator: RunningEmulator
) -> None:
    emulator.set_faults(drop_after_accept_rate=1.0)
    async with connected(client) as session:
        result = await session.call_tool(GENERATE_TOOL, {"prompt": "a fox"})
    stats = emulator.stats()
    assert stats["faults"] == {"drop_after_accept": 1}
    assert not result.isError, text_of(result)  # found by its trace_id, not sent again
    assert stats["submissions"] == 1


async def test_edits_read_local_files_only_when_allowed(
    client: AceDataImagesClient, tmp_path: Any
) -> None:
    from tests.emulator_fixtures import png

    (tmp_path / "fox.png").write_bytes(png())
    call = {"prompt": "make it blue", "image": str(tmp_path / "fox.png")}
    async with connected(client) as session:
        refused = await session.call_tool("openai_edit_image", call)
    async with connected(client, local_files_root=tmp_path) as session:
        edited = await session.call_tool("openai_edit_image", call)
    assert refused.isError
    assert not edited.isError, text_of(edited)


def test_without_the_extra_the_command_says_what_to_install() -> None:
    code = (
        "import sys\n"
        "sys.modules['mcp'] = None  # as if the extra were not installed\n"
        "from langchain_acedata_images import cli\n"
        "sys.exit(cli.main(['mcp']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2
    assert 'pip install ".[mcp]"' in done.stderr


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--max-wait", "nan"], "--max-wait"),
        (["--max-wait", "-1"], "--max-wait"),
        (["--base-url", "ftp://host"], "--base-url"),
        (["--out", "/proc/nope"], "--out /proc/nope"),
        (["--transport", "carrier-pigeon"], "--transport"),
    ],
)
def test_bad_flags_are_one_line_errors_before_serving(
    flags: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from langchain_acedata_images import cli

    try:
        code = cli.main(["mcp", *flags])
    except SystemExit as exit_:  # argparse's own errors
        code = int(exit_.code or 0)
    err = capsys.readouterr().err
    assert code == 2
    assert named in err
    assert len(err.strip().splitlines()) == 1, err
