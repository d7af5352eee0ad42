"""The edit tool: standard LangChain tests, calls, image inputs (URLs, data: URLs, local files)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import respx
from langchain_core.messages import ToolMessage
from langchain_tests.unit_tests import ToolsUnitTests

from langchain_acedata_images import (
    ImageGenerationResult,
    ImageTask,
    OpenAIEditImageTool,
)
from langchain_acedata_images._image_inputs import (
    MAX_LOCAL_IMAGE_BYTES,
    ImageInputError,
    aresolve_image_inputs,
    resolve_image_inputs,
    sniff_image_type,
)
from tests.conftest import BASE_URL, TOKEN, FakeClock, make_client
from tests.helpers import EDITS, TASKS, tool_call
from tests.unit.tool_support import (
    ENV_PARAMS,
    GIF,
    IMAGE_URL,
    JPEG,
    PNG,
    WEBP,
    finished,
    sent,
)

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
