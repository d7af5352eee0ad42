"""The webhook path: the emulator's real callback POSTs reach a ``CallbackReceiver`` served by
uvicorn on loopback, and end the client's waits, with polling as the fallback.

The client polls slowly here (first check after 30 s), so a wait that ends at all within the
test's timeout ended through the callback; the emulator's request counts tell which way.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from langchain_acedata_images import AceDataImagesClient, ImageGenerationResult, PollCadence
from langchain_acedata_images.emulator import RunningEmulator
from langchain_acedata_images.webhook import CallbackReceiver, callback_record
from tests.emulator_fixtures import TOKEN

pytestmark = pytest.mark.integration

SLOW = PollCadence(min_interval=30.0, max_interval=30.0)
SECRET = "hook-secret-5d1e"
SMALL = {"prompt": "a fox", "model": "dall-e-2", "size": "256x256"}


class ReceiverServer:
    """A Starlette app with one receiver route, served by uvicorn on 127.0.0.1:<free>."""

    def __init__(self, receiver: CallbackReceiver) -> None:
        self.app = Starlette(routes=[receiver.route("/hooks/acedata")])
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hooks/acedata"
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]})

    def __enter__(self) -> ReceiverServer:
        self.thread.start()
        while not self.server.started:
            threading.Event().wait(0.01)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


class Sink:
    """Stands in for the client until the server knows its URL (the client needs it)."""

    client: AceDataImagesClient | None = None

    def resolve_callback(self, task_id: str, record: Any = None) -> None:
        assert self.client is not None
        self.client.resolve_callback(task_id, record)


@pytest.fixture
def hooked(emulator: RunningEmulator) -> Iterator[tuple[AceDataImagesClient, str]]:
    """A slow-polling client whose jobs carry the receiver's URL (with the secret)."""
    sink = Sink()
    with ReceiverServer(CallbackReceiver(sink, secret=SECRET)) as server:
        url = f"{server.url}?token={SECRET}"
        client = AceDataImagesClient(
            TOKEN, base_url=emulator.base_url, poll_schedule=SLOW, callback_url=url
        )
        sink.client = client
        yield client, server.url
        client.close()


def status_requests(emulator: RunningEmulator) -> int:
    count: int = emulator.stats()["by_path"].get("/openai/tasks", 0)
    return count


@pytest.mark.parametrize("dialect", ["flat", "nested"])
def test_a_trusted_callback_ends_a_sync_wait_without_polling(
    emulator: RunningEmulator, hooked: tuple[AceDataImagesClient, str], dialect: str
) -> None:
    client, _ = hooked
    emulator.set_dialect(callbacks=dialect)
    result = client.generate(**SMALL)
    assert isinstance(result, ImageGenerationResult)
    assert result.urls
    for _ in range(200):  # the emulator logs a delivery once the receiver has answered it
        if emulator.state.callbacks():
            break
        threading.Event().wait(0.01)
    [delivery] = emulator.state.callbacks()
    assert delivery["status"] == 200
    assert delivery["task_id"] == result.task_id
    assert status_requests(emulator) == 0  # the callback's body was the result
    assert client._pollers.running == 0


@pytest.mark.parametrize("dialect", ["flat", "nested"])
async def test_a_trusted_callback_ends_one_async_wait_among_many(
    emulator: RunningEmulator, hooked: tuple[AceDataImagesClient, str], dialect: str
) -> None:
    client, _ = hooked
    emulator.set_dialect(callbacks=dialect)
    results = await asyncio.wait_for(
        asyncio.gather(*(client.agenerate(**SMALL) for _ in range(5))), 20
    )
    assert len({result.task_id for result in results}) == 5
    assert all(isinstance(r, ImageGenerationResult) and r.urls for r in results)
    assert status_requests(emulator) == 0
    await client.aclose()


def test_a_nested_callback_body_resolves_the_wait(
    emulator: RunningEmulator, hooked: tuple[AceDataImagesClient, str]
) -> None:
    """The nested body ({"success", "task_id", "trace_id", "data": {"created", "data"}})
    posted by hand: its content (not the API's) becomes the result."""
    client, url = hooked
    emulator.set_faults(never_finish_rate=1.0)  # the emulator's own callback never comes
    handle = client.generate(**SMALL, wait=False)
    waiting: dict[str, Any] = {}

    def wait() -> None:
        waiting["result"] = client.wait_for_task(handle.task_id)

    waiter = threading.Thread(target=wait)
    waiter.start()
    nested = {
        "success": True,
        "task_id": handle.task_id,
        "trace_id": handle.trace_id,
        "data": {"created": 1732500000, "data": [{"url": "https://cdn.test/nested.png"}]},
    }
    while waiter.is_alive():
        answer = httpx.post(f"{url}?token={SECRET}", json=nested)
        assert answer.status_code == 200
        waiter.join(0.05)
    result = waiting["result"]
    assert isinstance(result, ImageGenerationResult)
    assert result.urls == ["https://cdn.test/nested.png"]
    assert result.created == 1732500000


def test_without_the_secret_a_callback_is_refused_and_polling_decides(
    emulator: RunningEmulator, hooked: tuple[AceDataImagesClient, str]
) -> None:
    _, url = hooked
    forged = {"task_id": "t-forged", "data": [{"url": "https://evil.test/x.png"}]}
    assert httpx.post(url, json=forged).status_code == 403
    assert httpx.post(f"{url}?token=wrong", json=forged).status_code == 403


def test_an_untrusted_callback_only_wakes_the_poller(emulator: RunningEmulator) -> None:
    """No secret: the body is not believed; the job is checked at once over the API."""
    sink = Sink()
    with ReceiverServer(CallbackReceiver(sink)) as server:
        client = AceDataImagesClient(
            TOKEN, base_url=emulator.base_url, poll_schedule=SLOW, callback_url=server.url
        )
        sink.client = client
        with client:
            result = client.generate(**SMALL)
            assert isinstance(result, ImageGenerationResult)
            assert result.urls[0].startswith(emulator.base_url)  # from the API, not the body
            assert status_requests(emulator) == 1  # one check, at the callback


def test_bad_callbacks_are_refused(hooked: tuple[AceDataImagesClient, str]) -> None:
    _, url = hooked
    secret = f"{url}?token={SECRET}"
    assert httpx.post(secret, content=b"not json").status_code == 400
    assert httpx.post(secret, json={"data": []}).status_code == 400  # no task id
    assert httpx.post(secret, json=["a", "list"]).status_code == 400


def test_an_oversized_callback_is_refused() -> None:
    sink = Sink()
    with ReceiverServer(CallbackReceiver(sink, max_body_bytes=100)) as server:
        answer = httpx.post(server.url, json={"task_id": "t1", "pad": "x" * 200})
        assert answer.status_code == 413


@pytest.mark.parametrize(
    ("body", "response"),
    [
        (
            {"task_id": "t1", "trace_id": "tr", "created": 5, "data": [{"url": "u"}]},
            {"created": 5, "data": [{"url": "u"}]},
        ),
        (
            {"success": True, "task_id": "t1", "trace_id": "tr",
             "data": {"created": 5, "data": [{"url": "u"}]}},
            {"success": True, "created": 5, "data": [{"url": "u"}]},
        ),
        (
            {"success": False, "task_id": "t1", "error": {"code": "failed", "message": "no"}},
            {"success": False, "error": {"code": "failed", "message": "no"}},
        ),
    ],
)  # fmt: skip
def test_callback_record_reads_both_dialects(body: dict[str, Any], response: Any) -> None:
    record = callback_record(body, received_at=9.0)
    assert record is not None
    assert (record.id, record.finished_at, record.response) == ("t1", 9.0, response)
    assert record.finished
    assert record.failed == (response.get("success") is False)
