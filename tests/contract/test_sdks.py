"""Third-party clients against the emulator, used as their own documentation shows.

- The OpenAI Python SDK (AceDataCloud's guides: ``OpenAI(base_url=".../openai")``):
  ``images.generate``, streamed partial images, and ``images.edit`` with one file, two files and
  a mask (multipart uploads). The async client runs in-process through a recording transport, so
  every request it sends is also validated against the contract.
- AceDataCloud's ``acedatacloud`` SDK (its OpenAI-compatible facade ``client.openai``):
  generate, edit, async + ``tasks.retrieve`` / ``retrieve_batch`` and its task waiter.
"""

from __future__ import annotations

import base64
import io
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import openai
import pytest
from acedatacloud import AceDataCloud, AsyncAceDataCloud
from PIL import Image

from langchain_acedata_images.emulator import (
    EmulatorConfig,
    RunningEmulator,
    create_app,
    run_emulator,
)

from .validation import Recorder

TOKEN = "sdk-token"
FAST = EmulatorConfig(latency=0.01, queue_delay=0.0, seed=21)


def png(width: int = 64, height: int = 64, alpha: int = 255) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (width, height), (30, 120, 200, alpha)).save(buffer, format="PNG")
    return buffer.getvalue()


def decoded_size(b64: str) -> tuple[int, int]:
    with Image.open(io.BytesIO(base64.b64decode(b64))) as image:
        return image.size


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with run_emulator(FAST) as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh(emulator: RunningEmulator) -> None:
    emulator.reset()


@pytest.fixture
async def recorded_openai() -> AsyncIterator[tuple[openai.AsyncOpenAI, Recorder]]:
    recorder = Recorder(asynchronous=httpx.ASGITransport(app=create_app(FAST)))
    async with (
        httpx.AsyncClient(transport=recorder) as http,
        openai.AsyncOpenAI(
            api_key=TOKEN, base_url="http://emulator/openai", http_client=http, max_retries=0
        ) as client,
    ):
        yield client, recorder


# ------------------------------------------------------------------------------ OpenAI SDK


def test_openai_generate_urls_and_base64(emulator: RunningEmulator) -> None:
    with openai.OpenAI(api_key=TOKEN, base_url=emulator.base_url + "/openai") as client:
        urls = client.images.generate(model="gpt-image-1", prompt="a red fox", n=2)
        b64 = client.images.generate(
            model="gpt-image-2", prompt="a red fox", size="1152x2048", response_format="b64_json"
        )
        dalle = client.images.generate(model="dall-e-3", prompt="a red fox", style="natural")
    assert urls.data is not None
    assert len(urls.data) == 2
    assert all(item.url and item.url.startswith(emulator.base_url) for item in urls.data)
    assert b64.data is not None
    assert b64.data[0].b64_json is not None
    assert decoded_size(b64.data[0].b64_json) == (1152, 2048)
    assert dalle.data is not None
    assert dalle.data[0].revised_prompt
    assert emulator.stats()["submissions"] == 3


def test_openai_v1_base_url_works_through_the_aliases(emulator: RunningEmulator) -> None:
    with openai.OpenAI(api_key=TOKEN, base_url=emulator.base_url + "/v1") as client:
        answer = client.images.generate(model="gpt-image-1", prompt="alias")
    assert answer.data is not None
    assert answer.data[0].url


def test_openai_errors_map_to_its_exceptions(emulator: RunningEmulator) -> None:
    emulator.set_dialect("b")
    with openai.OpenAI(
        api_key=TOKEN, base_url=emulator.base_url + "/openai", max_retries=0
    ) as client:
        with pytest.raises(openai.BadRequestError) as bad:
            client.images.generate(model="dall-e-3", prompt="x", n=2)
        with pytest.raises(openai.PermissionDeniedError) as refused:
            client.images.generate(model="gpt-image-1", prompt="forbidden-content")
    assert bad.value.code == "bad_request"
    assert refused.value.code == "forbidden"


async def test_openai_edit_one_two_files_and_mask(
    recorded_openai: tuple[openai.AsyncOpenAI, Recorder],
) -> None:
    client, recorder = recorded_openai
    one = await client.images.edit(
        model="gpt-image-1",
        image=("a.png", png(), "image/png"),
        prompt="add a hat",
        size="1024x1024",
    )
    two = await client.images.edit(
        model="gpt-image-1",
        image=[("a.png", png(), "image/png"), ("b.png", png(32, 32), "image/png")],
        prompt="combine",
        n=2,
    )
    masked = await client.images.edit(
        model="gpt-image-1",
        image=("a.png", png(), "image/png"),
        mask=("mask.png", png(alpha=0), "image/png"),
        prompt="fill the transparent part",
        response_format="b64_json",
        input_fidelity="high",
    )
    assert one.data is not None
    assert len(one.data) == 1
    assert two.data is not None
    assert len(two.data) == 2
    assert masked.data is not None
    assert masked.data[0].b64_json
    sent = [exchange.request.headers["content-type"] for exchange in recorder.api_exchanges()]
    assert all(kind.startswith("multipart/form-data") for kind in sent)
    assert recorder.validate_all() == 3


async def test_openai_streamed_partial_images(
    recorded_openai: tuple[openai.AsyncOpenAI, Recorder],
) -> None:
    client, recorder = recorded_openai
    # OpenAI's completed event always carries b64_json; the emulator follows response_format.
    stream = await client.images.generate(
        model="gpt-image-1",
        prompt="a lighthouse",
        stream=True,
        partial_images=2,
        response_format="b64_json",
    )
    events = [event async for event in stream]
    kinds = [event.type for event in events]
    assert kinds == [
        "image_generation.partial_image",
        "image_generation.partial_image",
        "image_generation.completed",
    ]
    final: Any = events[-1]
    assert decoded_size(final.b64_json) == (1024, 1024)
    recorder.validate_all()  # the request; a stream answer is not in the documents


# ------------------------------------------------------------------------ acedatacloud SDK


def test_acedatacloud_generate_edit_and_tasks(emulator: RunningEmulator) -> None:
    with AceDataCloud(api_token=TOKEN, base_url=emulator.base_url, max_retries=0) as client:
        done = client.openai.images.generate(prompt="a fox", model="gpt-image-1", n=2)
        image_url = done["data"][0]["url"]
        edited = client.openai.images.edit(
            image=[image_url, "data:image/png;base64," + base64.b64encode(png()).decode()],
            prompt="add a hat",
            model="nano-banana",
        )
        masked = client.openai.images.edit(
            image=image_url,
            mask="data:image/png;base64," + base64.b64encode(png(1024, 1024, 0)).decode(),
            prompt="fill",
            model="gpt-image-1",
        )
        handle = client.openai.images.generate(
            prompt="later", model="gpt-image-1", async_=True, trace_id="sdk-trace"
        )
        finished = client.tasks.wait(
            handle["task_id"], service="openai", poll_interval=0.02, max_wait=10
        )
        by_trace = client.openai.tasks.retrieve(trace_id="sdk-trace")
        batch = client.openai.tasks.retrieve_batch(type="images_generations", limit=10)
        mine = client.openai.tasks.retrieve_batch(user_id=by_trace.get("user_id") or "nobody")
    assert len(done["data"]) == 2
    assert edited["data"][0]["url"]
    assert masked["data"][0]["url"]
    assert finished["id"] == handle["task_id"]
    assert finished["response"]["success"] is True
    assert by_trace["id"] == handle["task_id"]
    assert batch["count"] == 2
    assert mine["count"] == 0  # default dialect: seed records carry no user_id


def test_acedatacloud_under_variant_b(emulator: RunningEmulator) -> None:
    emulator.set_dialect("b")
    with AceDataCloud(api_token=TOKEN, base_url=emulator.base_url, max_retries=0) as client:
        handle = client.openai.images.generate(
            prompt="later", model="gpt-image-2", async_=True, trace_id="mine"
        )
        record = client.tasks.wait(
            handle["task_id"], service="openai", poll_interval=0.02, max_wait=10
        )
        lost = client.openai.tasks.retrieve(trace_id="mine")
        mine = client.openai.tasks.retrieve_batch(user_id=record["user_id"])
    assert record["type"] == "images"
    assert record["request"]["trace_id"] == "mine"
    assert lost == {}  # the server gave the task its own trace id
    assert mine["count"] == 1


async def test_acedatacloud_async_client(emulator: RunningEmulator) -> None:
    async with AsyncAceDataCloud(api_token=TOKEN, base_url=emulator.base_url) as client:
        done = await client.openai.images.generate(prompt="async fox", model="nano-banana-2-lite")
        record = await client.openai.tasks.retrieve(id=done["task_id"])
    assert done["data"][0]["url"]
    assert record["finished_at"] is not None
