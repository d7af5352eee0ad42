"""mcp_server without I/O: tool answers turned into MCP results, progress turned into
notifications."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.messages import ToolMessage
from mcp.types import ResourceLink, TextContent

from langchain_acedata_images import AceDataImagesClient
from langchain_acedata_images.mcp_server import AceDataImagesMCP, _ProgressBridge
from langchain_acedata_images.models import (
    GeneratedImage,
    ImageGenerationResult,
    ImageTask,
    TaskList,
)
from langchain_acedata_images.progress import PROGRESS_EVENT

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


@pytest.fixture
def server() -> Iterator[AceDataImagesMCP]:
    client = AceDataImagesClient("sk-test-token", base_url="https://api.example.test")
    yield AceDataImagesMCP(client)
    client.close()


def message(
    artifact: Any, text: str = "Generated 1 image (gpt-image-1, png).\n1. x"
) -> ToolMessage:
    return ToolMessage(text, tool_call_id="mcp", artifact=artifact)


def result_of(*images: GeneratedImage) -> ImageGenerationResult:
    return ImageGenerationResult(
        task_id="t1", trace_id="lcai-1", images=list(images), model="gpt-image-1", elapsed=1.5
    )


def test_a_url_image_is_one_line_and_a_link(server: AceDataImagesMCP) -> None:
    url = "https://cdn.example.test/a.png"
    answer = server._result(message(result_of(GeneratedImage(url=url, revised_prompt="a\nfox"))))
    text, link = answer.content
    assert isinstance(text, TextContent)
    assert text.text == "Generated 1 image (gpt-image-1, png)."
    assert isinstance(link, ResourceLink)
    assert str(link.uri) == url
    assert answer.structuredContent == {
        "status": "succeeded",
        "task_id": "t1",
        "trace_id": "lcai-1",
        "images": [{"uri": url, "mime_type": "image/png", "url": url, "revised_prompt": "a fox"}],
        "model": "gpt-image-1",
        "elapsed": 1.5,
    }


async def test_a_base64_image_is_a_readable_resource(server: AceDataImagesMCP) -> None:
    data = base64.b64encode(PNG).decode()
    image = GeneratedImage(b64_json=data, handle="img:t1:0", mime_type="image/png")
    answer = server._result(message(result_of(image)))
    assert data not in answer.model_dump_json()
    link = answer.content[1]
    assert isinstance(link, ResourceLink)
    assert str(link.uri) == "acedata-images://image/t1/0"
    [contents] = list(await server.read_resource(link.uri))  # from memory: no request
    assert contents.content == PNG
    assert contents.mime_type == "image/png"


def test_a_saved_image_links_to_its_file(server: AceDataImagesMCP, tmp_path: Any) -> None:
    path = tmp_path / "t1-0.webp"
    image = GeneratedImage(url="https://cdn.example.test/a.webp", path=str(path))
    answer = server._result(message(result_of(image)))
    link = answer.content[1]
    assert isinstance(link, ResourceLink)
    assert str(link.uri) == path.as_uri()


def test_a_non_http_url_is_not_shown(server: AceDataImagesMCP) -> None:
    image = GeneratedImage(url="javascript:alert(1)", b64_json=base64.b64encode(PNG).decode())
    answer = server._result(message(result_of(image)))
    assert "javascript" not in answer.model_dump_json()


def test_a_running_job_and_an_error(server: AceDataImagesMCP) -> None:
    still = "The image job task_id=t1 is still running; call openai_get_task again later."
    running = server._result(message(ImageTask(task_id="t1", status="running"), still))
    assert running.structuredContent == {"status": "running", "task_id": "t1", "images": []}
    assert running.content[0].text == still  # type: ignore[union-attr]
    failed = ToolMessage("Invalid arguments: n", tool_call_id="mcp", status="error")
    error = server._result(failed)
    assert error.isError
    assert error.structuredContent is None


def test_a_task_list_keeps_only_http_urls(server: AceDataImagesMCP) -> None:
    listing = TaskList.model_validate(
        {
            "count": 1,
            "items": [
                {
                    "id": "t1",
                    "created_at": 1.0,
                    "finished_at": 2.0,
                    "response": {
                        "data": [{"url": "https://cdn.example.test/a.png"}, {"url": "file:///x"}]
                    },
                }
            ],
        }
    )
    answer = server._result(message(listing, "1 of 1 tasks"))
    assert answer.structuredContent == {
        "count": 1,
        "items": [
            {
                "id": "t1",
                "status": "succeeded",
                "created_at": 1.0,
                "urls": ["https://cdn.example.test/a.png"],
            }
        ],
    }


class _Context:
    def __init__(self) -> None:
        self.reports: list[tuple[float, float | None, str | None]] = []

    async def report_progress(
        self, progress: float, total: float | None = None, message: str | None = None
    ) -> None:
        self.reports.append((progress, total, message))


async def test_progress_values_always_increase() -> None:
    ctx = _Context()
    bridge = _ProgressBridge(ctx)  # type: ignore[arg-type]
    run = uuid.uuid4()
    for kind, elapsed in (("submitted", 0.2), ("poll", 0.7), ("finished", 0.7)):
        event = {"kind": kind, "elapsed": elapsed, "status": "running"}
        await bridge.on_custom_event(PROGRESS_EVENT, event, run_id=run)
    await bridge.on_custom_event("another_event", {"elapsed": 9}, run_id=run)
    values = [value for value, _, _ in ctx.reports]
    assert len(values) == 3
    assert values == sorted(set(values))
    assert ctx.reports[-1][2] == "finished: running (0.7s)"


def test_http_links_only_names_other_images_in_the_text(tmp_path: Any) -> None:
    client = AceDataImagesClient("sk-test-token", base_url="https://api.example.test")
    server = AceDataImagesMCP(client, local_links=False)
    client.close()
    data = base64.b64encode(PNG).decode()
    url = "https://cdn.example.test/a.png"
    answer = server._result(
        message(
            result_of(
                GeneratedImage(b64_json=data, handle="img:t1:0"),
                GeneratedImage(url=url, path=str(tmp_path / "t1-1.png")),
            )
        )
    )
    text, *links = answer.content
    assert [str(link.uri) for link in links if isinstance(link, ResourceLink)] == [url]
    assert text.text.endswith(" Images: img:t1:0.")  # type: ignore[union-attr]
    images = answer.structuredContent["images"]  # type: ignore[index]
    assert images[0]["uri"] == "acedata-images://image/t1/0"
    assert images[1]["uri"].startswith("file://")
