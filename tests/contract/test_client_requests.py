"""Every request the client sends validates against the published request schema.

The client runs its public API against the emulator through a recording transport; afterwards
each API exchange is validated: the request against the contract (JSON by openapi-core, multipart
by the OAS 3.0 schema validator, ``/openai/tasks`` against our own document) and the answer
against the response schema of its status. Nothing is checked by hand, so whatever bodies the
client produces (new fields, multipart uploads) are covered as soon as it sends them.
"""

from __future__ import annotations

import base64
import io
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from PIL import Image

from langchain_acedata_images import AceDataImagesClient, ImageTask, PollSchedule
from langchain_acedata_images.emulator import EmulatorConfig, create_app, run_emulator

from .validation import Recorder, contract_path, is_multipart, validate_request

TOKEN = "contract-client-token"
FAST = EmulatorConfig(latency=0.01, queue_delay=0.0, seed=11)
POLLS = PollSchedule(first_delay=0.01, factor=1.2, max_interval=0.05)
GENERATIONS: list[dict[str, Any]] = [
    {"prompt": "a fox"},
    {"prompt": "a fox", "model": "gpt-image-2", "size": "2048x1152", "quality": "high"},
    {"prompt": "a fox", "model": "dall-e-3", "style": "natural", "quality": "hd"},
    {"prompt": "a fox", "model": "dall-e-2", "size": "256x256", "n": 2},
    {"prompt": "a fox", "response_format": "b64_json", "output_format": "webp"},
    {"prompt": "a fox", "output_format": "jpeg", "output_compression": 40},
    {"prompt": "a fox", "background": "transparent", "moderation": "low"},
    {"prompt": "a fox", "model": "nano-banana", "n": 3},
    {"prompt": "a fox", "partial_images": 2},
]


def png(width: int = 40, height: int = 40) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (width, height), (200, 10, 10, 255)).save(buffer, format="PNG")
    return buffer.getvalue()


def data_url(width: int = 40) -> str:
    return "data:image/png;base64," + base64.b64encode(png(width, width)).decode()


EDITS: list[dict[str, Any]] = [
    {"prompt": "add a hat", "image": data_url()},
    {"prompt": "add a hat", "image": [data_url(), data_url(20)], "input_fidelity": "high"},
    {"prompt": "add a hat", "image": data_url(), "model": "nano-banana-pro", "n": 2},
]
UPLOADS: list[dict[str, Any]] = [
    {"prompt": "add a hat", "image": png()},
    {"prompt": "add a hat", "image": [png(), png(20, 20)]},
    {"prompt": "add a hat", "image": png(), "mask": png()},
]
"""Edits with raw bytes: the client uploads them as multipart/form-data."""


@pytest.fixture
async def recorded() -> AsyncIterator[tuple[AceDataImagesClient, Recorder]]:
    recorder = Recorder(asynchronous=httpx.ASGITransport(app=create_app(FAST)))
    async with (
        httpx.AsyncClient(transport=recorder) as http,
        AceDataImagesClient(
            TOKEN, base_url="http://emulator", http_async_client=http, poll_schedule=POLLS
        ) as client,
    ):
        yield client, recorder


def validate_requests(recorder: Recorder) -> list[str]:
    """Validate every API request; return the paths seen (multipart ones marked)."""
    seen = []
    for exchange in recorder.api_exchanges():
        validate_request(exchange.request)
        path = contract_path(exchange.request.url.path)
        seen.append(path + (" multipart" if is_multipart(exchange.request) else ""))
    return seen


CALLS = [
    *(
        pytest.param("agenerate", "/openai/images/generations", p, id=",".join(sorted(p)))
        for p in GENERATIONS
    ),
    *(
        pytest.param("aedit", "/openai/images/edits", p, id=f"edit-{name}")
        for name, p in zip(["one", "two", "nano"], EDITS, strict=True)
    ),
    *(
        pytest.param("aedit", "/openai/images/edits multipart", p, id=f"upload-{name}")
        for name, p in zip(["one", "two", "mask"], UPLOADS, strict=True)
    ),
]


@pytest.mark.parametrize(("method", "sent_as", "params"), CALLS)
async def test_every_request_validates(
    recorded: tuple[AceDataImagesClient, Recorder],
    method: str,
    sent_as: str,
    params: dict[str, Any],
) -> None:
    client, recorder = recorded
    await getattr(client, method)(**params)
    assert sent_as in validate_requests(recorder)
    recorder.validate_all()


async def test_task_requests(recorded: tuple[AceDataImagesClient, Recorder]) -> None:
    client, recorder = recorded
    handle = await client.agenerate(prompt="later", wait=False, trace_id="contract-trace")
    assert isinstance(handle, ImageTask)
    await client.await_for_task(handle.task_id)
    await client.aget_task(trace_id="contract-trace")
    await client.aget_task("no-such-task")
    await client.alist_tasks(type="images_generations", limit=5, offset=0)
    await client.alist_tasks(trace_ids=["contract-trace"], created_at_min=0)
    assert set(validate_requests(recorder)) == {"/openai/images/generations", "/openai/tasks"}
    assert recorder.validate_all() >= 6


@pytest.fixture(scope="module")
def loopback() -> Iterator[str]:
    with run_emulator(FAST) as emulator:
        yield emulator.base_url


def test_sync_requests(loopback: str) -> None:
    recorder = Recorder(sync=httpx.HTTPTransport())
    calls: list[Callable[[AceDataImagesClient], Any]] = [
        lambda client: client.generate(prompt="sync fox", n=2),
        lambda client: client.edit(prompt="sync hat", image=data_url()),
        lambda client: client.list_tasks(limit=2),
        lambda client: client.get_task(trace_id="nothing"),
    ]
    with (
        httpx.Client(transport=recorder) as http,
        AceDataImagesClient(
            TOKEN, base_url=loopback, http_client=http, poll_schedule=POLLS
        ) as client,
    ):
        for call in calls:
            call(client)
    assert recorder.validate_all() >= 4
