"""What every tool shares: declarative definitions, image blocks, saving, progress, batching."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool

from langchain_acedata_images import (
    PROGRESS_EVENT,
    EditImageInput,
    GetTaskInput,
    ImageGenerationResult,
    OpenAIEditImageTool,
    OpenAIGenerateImageTool,
    OpenAIGetTaskTool,
    OpenAIListTasksTool,
    TaskQuery,
)
from tests.conftest import BASE_URL, TOKEN, FakeClock, make_client, task_answers
from tests.helpers import EDITS, GEN, TASKS, tool_call
from tests.unit.tool_support import (
    IMAGE_URL,
    PNG,
    AsyncRecorder,
    Recorder,
    finished,
    running,
    sent,
)


@pytest.mark.parametrize(
    ("tool_cls", "name", "schema", "start"),
    [
        (OpenAIEditImageTool, "openai_edit_image", EditImageInput, "Edit images: restyle"),
        (OpenAIGetTaskTool, "openai_get_task", GetTaskInput, "Get an earlier image job"),
        (OpenAIListTasksTool, "openai_list_tasks", TaskQuery, "List image jobs"),
    ],
)
def test_tools_are_declarative(
    tool_cls: type[BaseTool], name: str, schema: type[Any], start: str
) -> None:
    tool = tool_cls(api_token=TOKEN, base_url=BASE_URL)
    assert tool.name == name
    assert tool.args_schema is schema
    assert tool.response_format == "content_and_artifact"
    assert tool.description.startswith(start)
    assert "Returns" in tool.description
    developer_only = {"client", "api_token", "max_wait", "wait", "save_dir", "image_blocks"}
    assert not (developer_only | {"allow_local_files", "local_files_root"}) & set(tool.args)


# ------------------------------------------------------------------------ image blocks


def test_image_blocks_for_url_images(api: respx.MockRouter, clock: FakeClock) -> None:
    tool = OpenAIGenerateImageTool(client=make_client(clock), image_blocks=True)
    urls = ["https://cdn.test/1.png", "https://cdn.test/2.png"]
    api.post(GEN).respond(200, json={"data": [{"url": url} for url in urls]})
    args = {"prompt": "a fox", "n": 2, "model": "dall-e-2", "size": "1024x1024"}
    message = tool.invoke(tool_call("openai_generate_image", args))
    assert isinstance(message, ToolMessage)
    assert message.status == "success"
    text, *images = message.content
    assert text["type"] == "text"
    assert text["text"].startswith("Generated 2 images (dall-e-2, 1024x1024, png) in 0.0s.\n")
    assert [(b["type"], b["url"], b["mime_type"]) for b in images] == [
        ("image", url, "image/png") for url in urls
    ]
    assert [block["type"] for block in message.content_blocks] == ["text", "image", "image"]
    assert isinstance(message.artifact, ImageGenerationResult)


async def test_image_blocks_for_base64_images(api: respx.MockRouter, clock: FakeClock) -> None:
    client = make_client(clock)
    tool = OpenAIEditImageTool(client=client, image_blocks=True)
    b64 = base64.b64encode(PNG).decode()
    api.post(EDITS).respond(200, json={"data": [{"b64_json": b64}]})
    args = {
        "prompt": "x",
        "image": IMAGE_URL,
        "response_format": "b64_json",
        "output_format": "webp",
    }
    message = await tool.ainvoke(tool_call("openai_edit_image", args))
    text, image = message.content
    assert "img:local-" in text["text"]  # a reference, never the base64 itself
    assert b64 not in text["text"]
    assert image["type"] == "image"
    assert image["base64"] == b64
    assert image["mime_type"] == "image/png"  # from the bytes, not from output_format="webp"
    assert "url" not in image
    await client.aclose()


def test_image_blocks_when_nothing_is_finished(api: respx.MockRouter, clock: FakeClock) -> None:
    tool = OpenAIGetTaskTool(client=make_client(clock), image_blocks=True, max_wait=0)
    api.post(TASKS).respond(200, json=running())
    message = tool.invoke(tool_call("openai_get_task", {"task_id": "t1"}))
    assert [block["type"] for block in message.content] == ["text"]
    assert "still running" in message.content[0]["text"]


# --------------------------------------------------------------------------- saving


@pytest.mark.parametrize("use_async", [False, True])
async def test_save_dir_reaches_the_client(
    api: respx.MockRouter, clock: FakeClock, tmp_path: Path, use_async: bool
) -> None:
    client = make_client(clock)
    tool = OpenAIEditImageTool(client=client, save_dir=tmp_path)
    b64 = base64.b64encode(PNG).decode()
    api.post(EDITS).respond(200, json={"task_id": "t1", "data": [{"b64_json": b64}]})
    the_call = tool_call("openai_edit_image", {"prompt": "x", "image": IMAGE_URL})
    message = await tool.ainvoke(the_call) if use_async else tool.invoke(the_call)
    assert message.status == "success", message.content
    saved = message.artifact.paths
    assert len(saved) == 1
    assert Path(saved[0]).parent == tmp_path
    assert Path(saved[0]).read_bytes() == PNG
    assert f"1. saved to {saved[0]}" in message.content
    if message.artifact.images[0].url:  # the URL stays visible for openai_edit_image
        assert message.artifact.images[0].url in message.content
    await client.aclose()


def test_failed_save_still_reports_the_images(
    api: respx.MockRouter, clock: FakeClock, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    tool = OpenAIGenerateImageTool(client=make_client(clock), save_dir=blocker)
    api.post(GEN).respond(
        200, json={"task_id": "t1", "data": [{"b64_json": base64.b64encode(PNG).decode()}]}
    )
    message = tool.invoke(tool_call("openai_generate_image", {"prompt": "x"}))
    assert message.status == "success"
    assert "Saving the images to disk failed" in message.content
    assert "do not submit it again" in message.content
    assert isinstance(message.artifact, ImageGenerationResult)


# --------------------------------------------------------------------------- progress


def _progress_api(api: respx.MockRouter) -> None:
    api.post(EDITS).respond(200, json={"task_id": "t1"})
    api.post(TASKS).mock(side_effect=task_answers(running(), finished()))


def test_edit_progress_events_sync(api: respx.MockRouter, edit_tool: OpenAIEditImageTool) -> None:
    _progress_api(api)
    recorder = Recorder()
    edit_tool.invoke(
        tool_call("openai_edit_image", {"prompt": "x", "image": IMAGE_URL}),
        config={"callbacks": [recorder]},
    )
    assert [name for name, _ in recorder.events] == [PROGRESS_EVENT] * 4
    assert [data["kind"] for _, data in recorder.events] == [
        "submitted",
        "poll",
        "poll",
        "finished",
    ]
    assert {data["tool"] for _, data in recorder.events} == {"openai_edit_image"}
    assert {data["task_id"] for _, data in recorder.events} == {"t1"}


async def test_edit_progress_events_async(
    api: respx.MockRouter, edit_tool: OpenAIEditImageTool
) -> None:
    _progress_api(api)
    recorder = AsyncRecorder()
    await edit_tool.ainvoke(
        tool_call("openai_edit_image", {"prompt": "x", "image": IMAGE_URL}),
        config={"callbacks": [recorder]},
    )
    kinds = [data["kind"] for name, data in recorder.events if name == PROGRESS_EVENT]
    assert kinds == ["submitted", "poll", "poll", "finished"]
    await edit_tool.client.aclose()  # type: ignore[union-attr]


@pytest.mark.parametrize("use_async", [False, True])
async def test_get_task_progress_events(
    api: respx.MockRouter, task_tool: OpenAIGetTaskTool, use_async: bool
) -> None:
    api.post(TASKS).mock(side_effect=task_answers(running(), running(), finished()))
    recorder = AsyncRecorder() if use_async else Recorder()
    the_call = tool_call("openai_get_task", {"task_id": "t1"})
    config: Any = {"callbacks": [recorder]}
    if use_async:
        await task_tool.ainvoke(the_call, config=config)
    else:
        task_tool.invoke(the_call, config=config)
    kinds = [data["kind"] for _, data in recorder.events]
    assert kinds == ["poll", "poll", "finished"]
    assert recorder.events[0][1]["tool"] == "openai_get_task"
    await task_tool.client.aclose()  # type: ignore[union-attr]


def test_progress_can_be_turned_off(api: respx.MockRouter, clock: FakeClock) -> None:
    _progress_api(api)
    tool = OpenAIEditImageTool(client=make_client(clock), emit_progress=False)
    recorder = Recorder()
    tool.invoke({"prompt": "x", "image": IMAGE_URL}, config={"callbacks": [recorder]})
    assert recorder.events == []


# ---------------------------------------------------------------------------- batching


def _answer_by_prompt(request: httpx.Request) -> httpx.Response:
    prompt = json.loads(request.content)["prompt"]
    return httpx.Response(200, json={"data": [{"url": f"https://cdn.test/{prompt}.png"}]})


def test_batch_with_max_concurrency(api: respx.MockRouter, clock: FakeClock) -> None:
    tool = OpenAIGenerateImageTool(client=make_client(clock))
    route = api.post(GEN).mock(side_effect=_answer_by_prompt)
    prompts = [f"p{i}" for i in range(6)]
    calls = [
        tool_call("openai_generate_image", {"prompt": p}, f"c{i}") for i, p in enumerate(prompts)
    ]
    messages = tool.batch(calls, config={"max_concurrency": 2})
    assert [m.tool_call_id for m in messages] == [f"c{i}" for i in range(6)]
    assert [m.artifact.urls[0] for m in messages] == [f"https://cdn.test/{p}.png" for p in prompts]
    assert route.call_count == 6
    assert len({sent(route, i)["trace_id"] for i in range(6)}) == 6


async def test_abatch_with_max_concurrency(api: respx.MockRouter, clock: FakeClock) -> None:
    client = make_client(clock)
    tool = OpenAIEditImageTool(client=client)
    api.post(EDITS).mock(side_effect=_answer_by_prompt)
    prompts = [f"e{i}" for i in range(5)]
    inputs = [{"prompt": p, "image": IMAGE_URL} for p in prompts]
    contents = await tool.abatch(inputs, config={"max_concurrency": 3})
    assert [c.splitlines()[1] for c in contents] == [
        f"1. https://cdn.test/{p}.png" for p in prompts
    ]
    await client.aclose()
