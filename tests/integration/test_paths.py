"""Every API path, through the real client over loopback HTTP, sync and async."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from PIL import Image

from langchain_acedata_images import (
    AceDataImagesClient,
    ImageGenerationResult,
    ImageTask,
    InvalidRequestError,
    ProgressEvent,
    TaskNotFoundError,
)
from langchain_acedata_images.emulator import EmulatorConfig, RunningEmulator, run_emulator
from tests.emulator_fixtures import FAST, emulator_client

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def call(client: AceDataImagesClient, mode: str, method: str, *args: Any, **kw: Any) -> Any:
    """Run a client method through its sync twin (in a thread) or its async twin."""
    if mode == "sync":
        return await asyncio.to_thread(getattr(client, method), *args, **kw)
    return await getattr(client, "a" + method)(*args, **kw)


def open_image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def fetch(url: str) -> bytes:
    response = httpx.get(url)
    response.raise_for_status()
    return response.content


async def test_async_submission_is_polled_to_a_real_image(
    client: AceDataImagesClient, emulator: RunningEmulator, mode: str
) -> None:
    events: list[ProgressEvent] = []
    result = await call(
        client, mode, "generate", prompt="a red fox", size="1536x1024", on_progress=events.append
    )
    assert isinstance(result, ImageGenerationResult)
    assert result.task_id
    assert result.trace_id
    image = open_image(fetch(result.urls[0]))
    assert (image.format, image.size) == ("PNG", (1536, 1024))
    kinds = [event.kind for event in events]
    assert kinds[0] == "submitted"
    assert kinds[-1] == "finished"
    assert "poll" in kinds
    stats = emulator.stats()
    assert stats["submissions"] == 1
    assert stats["duplicate_trace_ids"] == []


async def test_synchronous_answers_are_used_directly(mode: str) -> None:
    with run_emulator(EmulatorConfig(latency=0.05, queue_delay=0.0, force_sync=True)) as emulator:
        async with emulator_client(emulator.base_url) as client:
            result = await call(client, mode, "generate", prompt="sync please", n=2)
            assert isinstance(result, ImageGenerationResult)
            assert len(result.images) == 2
            assert result.task_id  # the synchronous answer carries the task id too
        assert emulator.stats()["by_path"].get("/openai/tasks", 0) == 0


async def test_jobs_finished_before_the_answer_need_one_status_check(mode: str) -> None:
    # Without the setting, a 0.6 s job is still running at the poller's first check (0.5 s).
    config = EmulatorConfig(latency=0.6, queue_delay=0.0, finish_before_answer=True)
    with run_emulator(config) as emulator:
        async with emulator_client(emulator.base_url) as client:
            for index in range(2):
                result = await call(client, mode, "generate", prompt=f"instant {index}")
                assert isinstance(result, ImageGenerationResult)
                assert result.images
        stats = emulator.stats()
        assert stats["submissions"] == 2
        assert stats["by_path"]["/openai/tasks"] == 2  # one check per job, which finds it done


@pytest.mark.parametrize(
    ("fmt", "pil_format", "mode_"), [("jpeg", "JPEG", "RGB"), ("webp", "WEBP", "RGB")]
)
async def test_b64_json_images_decode_to_the_requested_format(
    client: AceDataImagesClient, mode: str, fmt: str, pil_format: str, mode_: str
) -> None:
    result = await call(
        client,
        mode,
        "generate",
        prompt="b64",
        model="gpt-image-2",
        size="2048x1152",
        output_format=fmt,
        output_compression=40,
        response_format="b64_json",
    )
    image = open_image(base64.b64decode(result.images[0].b64_json))
    assert (image.format, image.size, image.mode) == (pil_format, (2048, 1152), mode_)
    assert result.images[0].url is None


async def test_transparent_background_keeps_alpha(client: AceDataImagesClient, mode: str) -> None:
    result = await call(
        client, mode, "generate", prompt="sticker", background="transparent", output_format="webp"
    )
    image = open_image(fetch(result.urls[0]))
    assert image.mode == "RGBA"
    assert image.getpixel((0, 0))[3] == 0  # type: ignore[index]


class _Receiver(BaseHTTPRequestHandler):
    bodies: list[dict[str, Any]]
    arrived: threading.Event

    def do_POST(self) -> None:
        length = int(self.headers["content-length"])
        type(self).bodies.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()
        type(self).arrived.set()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[_Receiver]]]:
    handler = type("Receiver", (_Receiver,), {"bodies": [], "arrived": threading.Event()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", handler
    finally:
        server.shutdown()
        server.server_close()


async def test_callback_url_returns_a_handle_and_posts_the_result(
    client: AceDataImagesClient, mode: str, receiver: tuple[str, type[_Receiver]]
) -> None:
    url, handler = receiver
    handle = await call(client, mode, "generate", prompt="call me", callback_url=url)
    assert isinstance(handle, ImageTask)
    assert handle.callback_url == url
    assert await asyncio.to_thread(handler.arrived.wait, 5)
    (body,) = handler.bodies
    assert body["task_id"] == handle.task_id
    assert body["trace_id"] == handle.trace_id
    assert body["success"] is True
    assert open_image(fetch(body["data"][0]["url"])).size == (1024, 1024)


async def test_wait_false_then_resume_and_look_up(client: AceDataImagesClient, mode: str) -> None:
    handle = await call(client, mode, "generate", prompt="later", wait=False)
    assert isinstance(handle, ImageTask)
    assert handle.status == "submitted"
    result = await call(client, mode, "wait_for_task", handle.task_id)
    assert isinstance(result, ImageGenerationResult)
    assert result.task_id == handle.task_id
    by_id = await call(client, mode, "get_task", handle.task_id)
    by_trace = await call(client, mode, "get_task", trace_id=handle.trace_id)
    assert by_id == by_trace
    assert by_id.status == "succeeded"
    assert await call(client, mode, "get_task", "no-such-task") is None
    with pytest.raises(TaskNotFoundError):
        await call(client, mode, "wait_for_task", "no-such-task")


async def test_edit_with_emulator_urls_and_data_urls(
    client: AceDataImagesClient, mode: str
) -> None:
    base = await call(client, mode, "generate", prompt="base", size="1024x1536")
    reference = Image.new("RGB", (64, 64), (0, 200, 0))
    buffer = io.BytesIO()
    reference.save(buffer, format="PNG")
    data_url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    result = await call(
        client, mode, "edit", prompt="add a hat", image=[base.urls[0], data_url], size="1024x1536"
    )
    assert isinstance(result, ImageGenerationResult)
    assert open_image(fetch(result.urls[0])).size == (1024, 1536)


async def test_edit_rejects_images_the_emulator_may_not_fetch(
    client: AceDataImagesClient, mode: str, emulator: RunningEmulator
) -> None:
    with pytest.raises(InvalidRequestError, match="loopback"):
        await call(client, mode, "edit", prompt="x", image="https://example.com/cat.png")
    assert emulator.stats()["submissions"] == 0


async def test_batch_listing_filters(client: AceDataImagesClient, mode: str) -> None:
    started = time.time() - 1
    generated = [await call(client, mode, "generate", prompt=f"p{i}") for i in range(3)]
    edited = await call(client, mode, "edit", prompt="e", image=generated[0].urls[0])
    everything = await call(client, mode, "list_tasks")
    assert everything.count == 4
    assert everything.items[0].id == edited.task_id  # newest first
    edits = await call(client, mode, "list_tasks", type="images_edits")
    assert [t.id for t in edits.items] == [edited.task_id]
    by_ids = await call(client, mode, "list_tasks", ids=[generated[1].task_id])
    assert [t.id for t in by_ids.items] == [generated[1].task_id]
    by_trace = await call(client, mode, "list_tasks", trace_ids=[generated[2].trace_id])
    assert [t.trace_id for t in by_trace.items] == [generated[2].trace_id]
    page = await call(client, mode, "list_tasks", limit=2, offset=1)
    assert (page.count, len(page.items)) == (4, 2)
    window = await call(client, mode, "list_tasks", created_at_min=started, created_at_max=started)
    assert window.count == 0


async def test_partial_images_stream_as_progress_events(
    client: AceDataImagesClient, emulator: RunningEmulator, mode: str
) -> None:
    events: list[ProgressEvent] = []
    result = await call(
        client, mode, "generate", prompt="stream", partial_images=2, on_progress=events.append
    )
    partials = [event for event in events if event.kind == "partial_image"]
    assert [event.partial_image_index for event in partials] == [0, 1]
    assert all(open_image(base64.b64decode(e.b64_json or "")).width < 1024 for e in partials)
    assert isinstance(result, ImageGenerationResult)
    assert open_image(fetch(result.urls[0])).size == (1024, 1024)
    assert emulator.stats()["by_path"].get("/openai/tasks", 0) == 0  # nothing polled


async def test_dall_e_3_revised_prompt_and_4k_gpt_image_2(
    client: AceDataImagesClient, mode: str
) -> None:
    dalle = await call(client, mode, "generate", prompt="owl", model="dall-e-3", size="1792x1024")
    assert dalle.images[0].revised_prompt
    big = await call(client, mode, "generate", prompt="city", model="gpt-image-2", size="3840x2160")
    assert open_image(fetch(big.urls[0])).size == (3840, 2160)


def test_server_side_validation_mirrors_the_client(emulator: RunningEmulator) -> None:
    headers = {"authorization": "Bearer t"}
    answer = httpx.post(
        f"{emulator.base_url}/openai/images/generations",
        json={"prompt": "x", "model": "dall-e-2", "size": "1792x1024"},
        headers=headers,
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "bad_request"
    assert "256x256" in answer.json()["error"]["message"]
    assert FAST.latency < 1
