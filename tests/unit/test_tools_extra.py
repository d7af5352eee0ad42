"""Edit, get-task and list-tasks tools; image content blocks, saving, progress and batching."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from langchain_core.callbacks import AsyncCallbackHandler, BaseCallbackHandler
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool
from langchain_tests.unit_tests import ToolsUnitTests

from langchain_acedata_images import (
    PROGRESS_EVENT,
    EditImageInput,
    GetTaskInput,
    ImageGenerationResult,
    ImageTask,
    OpenAIEditImageTool,
    OpenAIGenerateImageTool,
    OpenAIGetTaskTool,
    OpenAIListTasksTool,
    TaskList,
    TaskQuery,
)
from langchain_acedata_images._image_inputs import (
    MAX_LOCAL_IMAGE_BYTES,
    ImageInputError,
    aresolve_image_inputs,
    resolve_image_inputs,
    sniff_image_type,
)
from langchain_acedata_images._text import MAX_SUMMARY_BYTES
from tests.conftest import BASE_URL, TOKEN, FakeClock, make_client, task_answers
from tests.helpers import EDITS, GEN, TASKS, tool_call

IMAGE_URL = "https://cdn.test/base.png"

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x01" * 24
JPEG = b"\xff\xd8\xff\xe0" + b"\x02" * 24
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x03" * 24
GIF = b"GIF89a" + b"\x04" * 24
ENV_PARAMS = (
    {"ACEDATACLOUD_API_TOKEN": TOKEN, "ACEDATACLOUD_API_BASE_URL": "http://env.test"},
    {},
    {"api_token": TOKEN, "base_url": "http://env.test"},
)


def finished(task_id: str = "t1", **image: Any) -> dict[str, Any]:
    image = image or {"url": f"https://cdn.test/{task_id}.png", "revised_prompt": "A fox."}
    return {
        "id": task_id,
        "trace_id": f"trace-{task_id}",
        "type": "images_edits",
        "request": {"prompt": "a fox", "model": "gpt-image-1", "image": IMAGE_URL},
        "created_at": 1_732_500_000,
        "started_at": 1_732_500_001,
        "finished_at": 1_732_500_030,
        "response": {"data": [image]},
    }


def running(task_id: str = "t1") -> dict[str, Any]:
    return {"id": task_id, "trace_id": f"trace-{task_id}", "started_at": 1_732_500_001}


def sent(route: respx.Route, index: int = -1) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(route.calls[index].request.content)
    return body


@pytest.fixture
def edit_tool(clock: FakeClock) -> OpenAIEditImageTool:
    return OpenAIEditImageTool(client=make_client(clock))


@pytest.fixture
def task_tool(clock: FakeClock) -> OpenAIGetTaskTool:
    return OpenAIGetTaskTool(client=make_client(clock))


class Recorder(BaseCallbackHandler):
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def on_custom_event(self, name: str, data: Any, **kwargs: Any) -> None:
        self.events.append((name, data))


class AsyncRecorder(AsyncCallbackHandler):
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    async def on_custom_event(self, name: str, data: Any, **kwargs: Any) -> None:
        self.events.append((name, data))


# --------------------------------------------------------------- standard LangChain tests


class TestEditToolStandard(ToolsUnitTests):
    @property
    def tool_constructor(self) -> type[OpenAIEditImageTool]:
        return OpenAIEditImageTool

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return {"api_token": TOKEN, "base_url": BASE_URL}

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"prompt": "Make the sky stormy", "image": [IMAGE_URL, "https://cdn.test/r.png"]}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return ENV_PARAMS


class TestGetTaskToolStandard(ToolsUnitTests):
    @property
    def tool_constructor(self) -> type[OpenAIGetTaskTool]:
        return OpenAIGetTaskTool

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return {"api_token": TOKEN, "base_url": BASE_URL}

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"task_id": "t1"}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return ENV_PARAMS


class TestListTasksToolStandard(ToolsUnitTests):
    @property
    def tool_constructor(self) -> type[OpenAIListTasksTool]:
        return OpenAIListTasksTool

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return {"api_token": TOKEN, "base_url": BASE_URL}

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"type": "images_generations", "limit": 5}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return ENV_PARAMS


@pytest.mark.parametrize(
    ("tool_cls", "name", "schema", "start"),
    [
        (OpenAIEditImageTool, "openai_edit_image", EditImageInput, "Edit images by instruction"),
        (OpenAIGetTaskTool, "openai_get_task", GetTaskInput, "Get an earlier image job"),
        (OpenAIListTasksTool, "openai_list_tasks", TaskQuery, "List the account's image jobs"),
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


# ---------------------------------------------------------------------------- edit tool


def test_edit_tool_call_returns_summary_and_artifact(
    api: respx.MockRouter, edit_tool: OpenAIEditImageTool
) -> None:
    route = api.post(EDITS).respond(200, json={"task_id": "t1"})
    api.post(TASKS).respond(200, json=finished())
    args = {"prompt": "make it blue", "image": [IMAGE_URL, "https://cdn.test/ref.png"]}
    message = edit_tool.invoke(tool_call("openai_edit_image", args))
    assert isinstance(message, ToolMessage)
    assert message.status == "success"
    assert message.content.startswith("Edited 1 image (gpt-image-1, png)")
    assert "https://cdn.test/t1.png" in message.content
    assert "task_id=t1" in message.content
    assert isinstance(message.artifact, ImageGenerationResult)
    body = sent(route)
    assert body["image"] == [IMAGE_URL, "https://cdn.test/ref.png"]
    assert body["async"] is True
    assert body["trace_id"].startswith("lcai-")


async def test_edit_tool_async_call(api: respx.MockRouter, edit_tool: OpenAIEditImageTool) -> None:
    route = api.post(EDITS).respond(200, json={"data": [{"url": "https://cdn.test/e.png"}]})
    message = await edit_tool.ainvoke(
        tool_call("openai_edit_image", {"prompt": "make it blue", "image": IMAGE_URL})
    )
    assert message.status == "success"
    assert "https://cdn.test/e.png" in message.content
    assert message.artifact.urls == ["https://cdn.test/e.png"]
    assert sent(route)["image"] == IMAGE_URL
    await edit_tool.client.aclose()  # type: ignore[union-attr]


def test_edit_wait_false_returns_task_handle(api: respx.MockRouter, clock: FakeClock) -> None:
    tool = OpenAIEditImageTool(client=make_client(clock), wait=False)
    api.post(EDITS).respond(200, json={"task_id": "t9"})
    message = tool.invoke(tool_call("openai_edit_image", {"prompt": "x", "image": IMAGE_URL}))
    assert isinstance(message.artifact, ImageTask)
    assert "task_id=t9" in message.content
    assert "openai_get_task" in message.content


def test_edit_invalid_arguments_are_listed(
    api: respx.MockRouter, edit_tool: OpenAIEditImageTool
) -> None:
    images = [IMAGE_URL] * 17
    message = edit_tool.invoke(
        tool_call("openai_edit_image", {"prompt": "x", "image": images, "quality": "hd"})
    )
    assert message.status == "error"
    assert "image takes 1 to 16 images, got 17" in message.content
    assert "- quality:" in message.content
    assert not api.calls


@pytest.mark.parametrize("use_async", [False, True])
@pytest.mark.parametrize("entry", ["photo.png", "/tmp/photo.png", "file:///tmp/photo.png"])
async def test_local_paths_are_refused_by_default(
    api: respx.MockRouter, edit_tool: OpenAIEditImageTool, entry: str, use_async: bool
) -> None:
    the_call = tool_call("openai_edit_image", {"prompt": "x", "image": [IMAGE_URL, entry]})
    message = await edit_tool.ainvoke(the_call) if use_async else edit_tool.invoke(the_call)
    assert message.status == "error"
    assert "only http(s) URLs, data: URLs and image references are accepted" in message.content
    assert "call the tool again" in message.content
    assert not api.calls


def test_unsupported_scheme_is_refused(
    api: respx.MockRouter, edit_tool: OpenAIEditImageTool
) -> None:
    message = edit_tool.invoke(
        tool_call("openai_edit_image", {"prompt": "x", "image": "ftp://host/a.png"})
    )
    assert message.status == "error"
    assert "unsupported scheme 'ftp'" in message.content
    assert not api.calls


@pytest.mark.parametrize("allow", [False, True])
def test_data_urls_pass_through(api: respx.MockRouter, clock: FakeClock, allow: bool) -> None:
    tool = OpenAIEditImageTool(client=make_client(clock), allow_local_files=allow)
    route = api.post(EDITS).respond(200, json={"data": [{"url": "https://cdn.test/e.png"}]})
    data_url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    message = tool.invoke(tool_call("openai_edit_image", {"prompt": "x", "image": data_url}))
    assert message.status == "success"
    assert sent(route)["image"] == data_url
    assert "base64" not in message.content


@pytest.mark.parametrize("use_async", [False, True])
async def test_local_files_opt_in_become_data_urls(
    api: respx.MockRouter, clock: FakeClock, tmp_path: Path, use_async: bool
) -> None:
    files = {"a.png": PNG, "b.jpg": JPEG, "c.webp": WEBP, "d.gif": GIF}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    client = make_client(clock)
    tool = OpenAIEditImageTool(client=client, allow_local_files=True)
    route = api.post(EDITS).respond(200, json={"data": [{"url": "https://cdn.test/e.png"}]})
    images = [str(tmp_path / "a.png"), (tmp_path / "b.jpg").as_uri(), str(tmp_path / "c.webp")]
    images += [str(tmp_path / "d.gif"), IMAGE_URL]
    the_call = tool_call("openai_edit_image", {"prompt": "x", "image": images})
    message = await tool.ainvoke(the_call) if use_async else tool.invoke(the_call)
    assert message.status == "success", message.content
    expected = [
        f"data:{mime};base64,{base64.b64encode(data).decode()}"
        for mime, data in [
            ("image/png", PNG), ("image/jpeg", JPEG), ("image/webp", WEBP), ("image/gif", GIF)
        ]
    ]  # fmt: skip
    assert sent(route)["image"] == [*expected, IMAGE_URL]
    await client.aclose()


def test_local_files_are_described_to_the_llm_only_when_allowed() -> None:
    closed = OpenAIEditImageTool(api_token=TOKEN)
    opened = OpenAIEditImageTool(api_token=TOKEN, allow_local_files=True)
    assert "Local image file paths are accepted" not in closed.description
    assert "Local image file paths are accepted" in opened.description


@pytest.mark.parametrize(
    ("name", "data", "options", "fragment"),
    [
        ("notes.txt", b"secret text", {}, "is not a PNG, JPEG, WebP or GIF image"),
        ("big.png", PNG, {"max_local_image_bytes": 10}, "is larger than 10 bytes"),
        ("missing.png", None, {}, "does not exist or is not a file"),
    ],
)
def test_local_file_problems_are_actionable(
    api: respx.MockRouter,
    clock: FakeClock,
    tmp_path: Path,
    name: str,
    data: bytes | None,
    options: dict[str, Any],
    fragment: str,
) -> None:
    if data is not None:
        (tmp_path / name).write_bytes(data)
    tool = OpenAIEditImageTool(client=make_client(clock), allow_local_files=True, **options)
    message = tool.invoke(
        tool_call("openai_edit_image", {"prompt": "x", "image": str(tmp_path / name)})
    )
    assert message.status == "error"
    assert fragment in message.content
    assert not api.calls


def test_local_files_root_confines_reads(
    api: respx.MockRouter, clock: FakeClock, tmp_path: Path
) -> None:
    inside = tmp_path / "images"
    inside.mkdir()
    (inside / "ok.png").write_bytes(PNG)
    (tmp_path / "outside.png").write_bytes(PNG)
    tool = OpenAIEditImageTool(
        client=make_client(clock), allow_local_files=True, local_files_root=inside
    )
    edits = api.post(EDITS).respond(200, json={"data": [{"url": "https://cdn.test/e.png"}]})
    ok = tool.invoke(tool_call("openai_edit_image", {"prompt": "x", "image": "ok.png"}))
    assert ok.status == "success"
    for escape in ["../outside.png", str(tmp_path / "outside.png")]:
        refused = tool.invoke(tool_call("openai_edit_image", {"prompt": "x", "image": escape}))
        assert refused.status == "error"
        assert "outside the directory" in refused.content
    assert edits.call_count == 1


async def test_image_input_helpers_keep_the_shape(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(PNG)
    path = str(tmp_path / "a.png")
    assert resolve_image_inputs(IMAGE_URL) == IMAGE_URL
    assert await aresolve_image_inputs([IMAGE_URL]) == [IMAGE_URL]
    single = resolve_image_inputs(path, allow_local_files=True)
    assert isinstance(single, str)
    assert single.startswith("data:image/png;base64,")
    assert await aresolve_image_inputs([path], allow_local_files=True) == [single]
    with pytest.raises(ImageInputError, match=r"file URL 'file://other/a\.png' names another host"):
        resolve_image_inputs("file://other/a.png", allow_local_files=True)
    assert sniff_image_type(b"BM....") is None
    assert MAX_LOCAL_IMAGE_BYTES == 20 * 1024 * 1024


# ------------------------------------------------------------------------ get task tool


def test_get_task_finished_returns_summary_without_waiting(
    api: respx.MockRouter, task_tool: OpenAIGetTaskTool, clock: FakeClock
) -> None:
    route = api.post(TASKS).respond(200, json=finished())
    message = task_tool.invoke(tool_call("openai_get_task", {"task_id": "t1"}))
    assert message.status == "success"
    assert message.content.startswith("Retrieved 1 image (gpt-image-1, png), task_id=t1.")
    assert "https://cdn.test/t1.png" in message.content
    assert isinstance(message.artifact, ImageGenerationResult)
    assert sent(route) == {"action": "retrieve", "id": "t1"}
    assert clock.sleeps == []


@pytest.mark.parametrize("use_async", [False, True])
async def test_get_task_waits_a_bounded_time_then_reports_the_result(
    api: respx.MockRouter, task_tool: OpenAIGetTaskTool, clock: FakeClock, use_async: bool
) -> None:
    api.post(TASKS).mock(
        side_effect=[httpx.Response(200, json=running())] * 3
        + [httpx.Response(200, json=finished())]
    )
    the_call = tool_call("openai_get_task", {"task_id": "t1"})
    message = await task_tool.ainvoke(the_call) if use_async else task_tool.invoke(the_call)
    assert message.status == "success"
    assert "https://cdn.test/t1.png" in message.content
    assert 0 < sum(clock.sleeps) < task_tool.max_wait
    await task_tool.client.aclose()  # type: ignore[union-attr]


@pytest.mark.parametrize("use_async", [False, True])
async def test_get_task_still_running_is_a_note_not_an_error(
    api: respx.MockRouter, clock: FakeClock, use_async: bool
) -> None:
    client = make_client(clock)
    tool = OpenAIGetTaskTool(client=client, max_wait=20)
    api.post(TASKS).respond(200, json=running())
    the_call = tool_call("openai_get_task", {"trace_id": "trace-t1"})
    message = await tool.ainvoke(the_call) if use_async else tool.invoke(the_call)
    assert message.status == "success"
    assert message.content == (
        "The image job task_id=t1 is still running (waited 20s). It has not failed: call "
        "openai_get_task again later; do not submit the job again."
    )
    assert isinstance(message.artifact, ImageTask)
    assert message.artifact.status == "running"
    assert message.artifact.task_id == "t1"
    assert sum(clock.sleeps) == pytest.approx(20)
    assert json.loads(api.calls[0].request.content) == {
        "action": "retrieve",
        "trace_id": "trace-t1",
    }
    await client.aclose()


def test_get_task_unknown_id_is_a_clear_error(
    api: respx.MockRouter, task_tool: OpenAIGetTaskTool
) -> None:
    api.post(TASKS).respond(200, json={})
    message = task_tool.invoke(tool_call("openai_get_task", {"task_id": "nope"}))
    assert message.status == "error"
    assert message.content == (
        "No image task matches task_id=nope. Copy the id exactly from the earlier tool result, "
        "or find the task with openai_list_tasks."
    )


def test_get_task_failed_job_is_an_error(
    api: respx.MockRouter, task_tool: OpenAIGetTaskTool
) -> None:
    record = {**finished(), "response": {"error": {"code": "bad", "message": "safety system"}}}
    api.post(TASKS).respond(200, json=record)
    message = task_tool.invoke(tool_call("openai_get_task", {"task_id": "t1"}))
    assert message.status == "error"
    assert message.content.startswith("The image job failed: safety system. task_id=t1")
    assert "task_id=t1" in message.content


def test_get_task_needs_exactly_one_id(api: respx.MockRouter, task_tool: OpenAIGetTaskTool) -> None:
    message = task_tool.invoke(tool_call("openai_get_task", {"task_id": "a", "trace_id": "b"}))
    assert message.status == "error"
    assert "pass exactly one of task_id or trace_id" in message.content
    assert not api.calls


# ---------------------------------------------------------------------- list tasks tool


def test_list_tasks_text_stays_under_one_kilobyte_for_100_tasks(
    api: respx.MockRouter, clock: FakeClock
) -> None:
    items = [
        {**finished(f"task-{i:03d}"), "request": {"prompt": "a fox in the snow " * 20}}
        for i in range(100)
    ]
    route = api.post(TASKS).respond(200, json={"items": items, "count": 250})
    tool = OpenAIListTasksTool(client=make_client(clock))
    args = {"type": "images_edits", "limit": 100, "created_at_min": 1_732_000_000}
    message = tool.invoke(tool_call("openai_list_tasks", args))
    assert message.status == "success"
    assert len(message.content.encode()) <= MAX_SUMMARY_BYTES
    lines = message.content.splitlines()
    assert lines[0].startswith("100 of 250 matching image tasks")
    assert lines[1] == (
        "task-000 images_edits succeeded 2024-11-25 02:00:00Z 'a fox in the snow a fox in the "
        "snow a f…' https://cdn.test/task-000.png"
    )
    assert lines[-1].endswith("more in the artifact)")
    assert isinstance(message.artifact, TaskList)
    assert len(message.artifact.items) == 100
    assert sent(route) == {
        "action": "retrieve_batch",
        "type": "images_edits",
        "limit": 100,
        "created_at_min": 1_732_000_000,
    }


async def test_list_tasks_async_and_empty(api: respx.MockRouter, clock: FakeClock) -> None:
    client = make_client(clock)
    tool = OpenAIListTasksTool(client=client)
    api.post(TASKS).mock(
        side_effect=[
            httpx.Response(200, json={"items": [], "count": 0}),
            httpx.Response(200, json={"items": [running("r1")], "count": 1}),
        ]
    )
    empty = await tool.ainvoke(tool_call("openai_list_tasks", {}))
    assert empty.content == "No image tasks matched."
    one = await tool.ainvoke(tool_call("openai_list_tasks", {"ids": ["r1"]}))
    assert one.content.splitlines()[1] == "r1 ? running ?"
    await client.aclose()


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
