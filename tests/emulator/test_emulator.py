"""The emulator on its own, in-process through ``httpx.ASGITransport``."""

from __future__ import annotations

import asyncio
import base64
import io
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from PIL import Image

from langchain_acedata_images.emulator import EmulatorConfig, EmulatorState, FaultConfig, create_app

AUTH = {"authorization": "Bearer anything"}
GEN = "/openai/images/generations"
TASKS = "/openai/tasks"


@pytest.fixture
async def api() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(EmulatorConfig(latency=0.01, queue_delay=0.0, seed=3))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
        yield client


def state_of(api: httpx.AsyncClient) -> EmulatorState:
    transport = api._transport
    assert isinstance(transport, httpx.ASGITransport)
    state: EmulatorState = transport.app.state.emulator  # type: ignore[attr-defined]
    return state


async def generate(api: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    answer = await api.post(GEN, json={"prompt": "a fox", **body}, headers=AUTH)
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()
    return data


def decode(item: dict[str, Any]) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(item["b64_json"])))
    image.load()
    return image


@pytest.mark.parametrize(
    ("body", "size", "pil_format", "mode"),
    [
        ({}, (1024, 1024), "PNG", "RGB"),
        ({"size": "1536x1024", "output_format": "jpeg"}, (1536, 1024), "JPEG", "RGB"),
        ({"size": "1024x1536", "output_format": "webp"}, (1024, 1536), "WEBP", "RGB"),
        ({"background": "transparent"}, (1024, 1024), "PNG", "RGBA"),
        ({"model": "gpt-image-2", "size": "3840x2160"}, (3840, 2160), "PNG", "RGB"),
        (
            {"model": "gpt-image-2", "size": "2160x3840", "output_format": "jpeg"},
            (2160, 3840),
            "JPEG",
            "RGB",
        ),
        ({"model": "dall-e-2", "size": "256x256"}, (256, 256), "PNG", "RGB"),
        # 'auto' (the documented default, as AceDataCloud's MCP server sends it): the default.
        ({"model": "dall-e-3", "size": "auto", "quality": "auto"}, (1024, 1024), "PNG", "RGB"),
        ({"model": "dall-e-2", "size": "auto"}, (1024, 1024), "PNG", "RGB"),
        ({"model": "nano-banana", "size": "1000x700"}, (1000, 700), "PNG", "RGB"),
    ],
)
async def test_images_have_the_requested_size_and_format(
    api: httpx.AsyncClient, body: dict[str, Any], size: tuple[int, int], pil_format: str, mode: str
) -> None:
    answer = await generate(api, response_format="b64_json", **body)
    image = decode(answer["data"][0])
    assert (image.size, image.format, image.mode) == (size, pil_format, mode)
    assert answer["size"] == f"{size[0]}x{size[1]}"


async def test_compression_changes_jpeg_bytes_and_images_are_deterministic(
    api: httpx.AsyncClient,
) -> None:
    def size_of(answer: dict[str, Any]) -> int:
        return len(base64.b64decode(answer["data"][0]["b64_json"]))

    common = {"output_format": "jpeg", "response_format": "b64_json"}
    small = await generate(api, output_compression=10, **common)
    large = await generate(api, output_compression=95, **common)
    again = await generate(api, output_compression=95, **common)
    assert size_of(small) < size_of(large)
    assert large["data"] == again["data"]


async def test_url_images_are_served_and_n_gives_distinct_images(api: httpx.AsyncClient) -> None:
    answer = await generate(api, n=3, output_format="webp")
    urls = [item["url"] for item in answer["data"]]
    bodies = []
    for url in urls:
        served = await api.get(url)
        assert served.headers["content-type"] == "image/webp"
        bodies.append(served.content)
    assert len(set(bodies)) == 3
    assert (await api.get("/files/nope.png")).status_code == 404


async def test_async_task_life_cycle(api: httpx.AsyncClient) -> None:
    submitted = await generate(api, trace_id="trace-1", **{"async": True})
    assert set(submitted) == {"task_id", "trace_id"}
    first = (
        await api.post(TASKS, json={"action": "retrieve", "id": submitted["task_id"]}, headers=AUTH)
    ).json()
    assert first["finished_at"] is None
    await asyncio.sleep(0.1)
    done = (
        await api.post(TASKS, json={"action": "retrieve", "trace_id": "trace-1"}, headers=AUTH)
    ).json()
    assert done["finished_at"] >= done["started_at"] >= done["created_at"]
    assert done["response"]["success"] is True
    assert done["type"] == "images_generations"
    missing = await api.post(TASKS, json={"action": "retrieve", "id": "unknown"}, headers=AUTH)
    assert missing.json() == {}


async def test_a_batch_by_ids_lists_those_tasks_newest_first(api: httpx.AsyncClient) -> None:
    ids = [(await generate(api, **{"async": True}))["task_id"] for _ in range(4)]
    asked = [ids[2], ids[0], "unknown", ids[3]]
    batch = {"action": "retrieve_batch", "ids": asked, "limit": 2}
    answer = (await api.post(TASKS, json=batch, headers=AUTH)).json()
    assert [item["id"] for item in answer["items"]] == [ids[3], ids[2]]
    assert answer["count"] == 3
    rest = {**batch, "offset": 2}
    answer = (await api.post(TASKS, json=rest, headers=AUTH)).json()
    assert [item["id"] for item in answer["items"]] == [ids[0]]
    entry = state_of(api).log()[-1]
    assert (entry["action"], entry["filters"]) == ("retrieve_batch", ["ids", "limit", "offset"])
    await generate(api, trace_id="shared", **{"async": True})
    await generate(api, trace_id="shared", **{"async": True})  # a duplicate: both are listed
    by_trace = {"action": "retrieve_batch", "trace_ids": ["shared", "none"]}
    answer = (await api.post(TASKS, json=by_trace, headers=AUTH)).json()
    assert answer["count"] == 2
    assert {item["trace_id"] for item in answer["items"]} == {"shared"}
    both = {**by_trace, "ids": [answer["items"][1]["id"], ids[0]]}
    answer = (await api.post(TASKS, json=both, headers=AUTH)).json()
    assert answer["count"] == 1


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "no_token"),
        ({"authorization": "Basic abc"}, "no_token"),
        ({"authorization": "Bearer "}, "no_token"),
    ],
)
async def test_missing_tokens_are_refused(
    api: httpx.AsyncClient, headers: dict[str, str], code: str
) -> None:
    answer = await api.post(GEN, json={"prompt": "x"}, headers=headers)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == code


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"prompt": ""}, "prompt is required"),
        ({"prompt": "x", "model": "dall-e-3", "n": 2}, "n must be 1"),
        ({"prompt": "x", "style": "vivid"}, "style is only supported by dall-e-3"),
        ({"prompt": "x", "model": "gpt-image-2", "size": "1000x1000"}, "multiples of 16"),
        ({"prompt": "x", "model": "gpt-image-2", "size": "4096x1024"}, "at most 3840"),
        (
            {"prompt": "x", "model": "dall-e-2", "background": "opaque"},
            "only supported by gpt-image",
        ),
        ({"prompt": "x", "background": "transparent", "output_format": "jpeg"}, "png or webp"),
        ({"prompt": "x", "output_compression": 50}, "only to jpeg and webp"),
        ({"prompt": "x", "callback_url": "ftp://x"}, "http or https"),
        ({"prompt": "x", "n": "2"}, "integer"),
    ],
)
async def test_server_side_rules(
    api: httpx.AsyncClient, body: dict[str, Any], fragment: str
) -> None:
    answer = await api.post(GEN, json=body, headers=AUTH)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "bad_request"
    assert fragment in answer.json()["error"]["message"]
    assert state_of(api).stats()["submissions"] == 0


async def test_non_json_bodies_and_unknown_actions(api: httpx.AsyncClient) -> None:
    assert (await api.post(GEN, content=b"{", headers=AUTH)).status_code == 400
    assert (await api.post(GEN, json=[1], headers=AUTH)).status_code == 400
    assert (await api.post(TASKS, json={"action": "delete"}, headers=AUTH)).status_code == 400
    bad_batch = await api.post(TASKS, json={"action": "retrieve_batch", "limit": -1}, headers=AUTH)
    assert bad_batch.status_code == 400


async def test_admin_faults_log_stats_and_reset(api: httpx.AsyncClient) -> None:
    changed = await api.post(
        "/_emulator/faults", json={"error_rates": {"503": 1.0}, "retry_after": 2}
    )
    assert changed.json()["error_rates"] == {"503": 1.0}
    refused = await api.post(GEN, json={"prompt": "x"}, headers=AUTH)
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "service_unavailable"
    bad = await api.post("/_emulator/faults", json={"error_rates": {"503": 2}})
    assert bad.status_code == 400
    unknown = await api.post("/_emulator/faults", json={"nonsense": 1})
    assert "unknown fault settings" in unknown.json()["error"]["message"]
    stats = (await api.get("/_emulator/stats")).json()
    assert stats["faults"] == {"error_503": 1}
    assert stats["submissions"] == 0
    log = (await api.get("/_emulator/log")).json()["items"]
    assert [entry["status"] for entry in log] == [503]
    await api.post("/_emulator/reset")
    assert (await api.get("/_emulator/faults")).json()["error_rates"] == {}
    assert (await api.get("/_emulator/stats")).json()["requests"] == 0


async def test_fault_bodies(api: httpx.AsyncClient) -> None:
    state = state_of(api)
    state.set_faults({"html_error_rate": 1.0})
    html = await api.post(GEN, json={"prompt": "x"}, headers=AUTH)
    assert (html.status_code, html.headers["content-type"].split(";")[0]) == (502, "text/html")
    state.set_faults(FaultConfig(string_error_rate=1.0))
    assert (await api.post(GEN, json={"prompt": "x"}, headers=AUTH)).json() == {
        "error": "emulated internal server error"
    }
    state.set_faults(FaultConfig(malformed_json_rate=1.0))
    cut = await api.post(GEN, json={"prompt": "x"}, headers=AUTH)
    with pytest.raises(ValueError):
        cut.json()
    assert state.stats()["submissions"] == 1  # accepted, then spoiled
    state.set_faults(FaultConfig(balance_used_up=True))
    used_up = await api.post(GEN, json={"prompt": "x"}, headers=AUTH)
    assert (used_up.status_code, used_up.json()["error"]["code"]) == (403, "used_up")
    state.set_faults(FaultConfig())
    refused = await api.post(GEN, json={"prompt": "a forbidden-content scene"}, headers=AUTH)
    assert refused.status_code == 403
    assert "code" not in refused.json()["error"]


async def test_callbacks_go_only_to_loopback_hosts(api: httpx.AsyncClient) -> None:
    handle = await generate(api, callback_url="https://example.com/hook")
    for _ in range(50):
        if state_of(api).callbacks():
            break
        await asyncio.sleep(0.02)
    (delivery,) = state_of(api).callbacks()
    assert delivery["task_id"] == handle["task_id"]
    assert "loopback" in delivery["error"]


def test_fault_config_rules_and_environment() -> None:
    with pytest.raises(ValueError, match="add up to"):
        FaultConfig(error_rates={500: 0.7}, html_error_rate=0.5)
    with pytest.raises(ValueError, match="probability"):
        FaultConfig(task_failure_rate=1.5)
    with pytest.raises(ValueError, match="HTTP error statuses"):
        FaultConfig(error_rates={200: 0.1})
    config = EmulatorConfig.from_env(
        {
            "ACEDATA_EMULATOR_LATENCY": "2.5",
            "ACEDATA_EMULATOR_TOKENS": "a, b",
            "ACEDATA_EMULATOR_FORCE_SYNC": "yes",
            "ACEDATA_EMULATOR_FINISH_BEFORE_ANSWER": "1",
            "ACEDATA_EMULATOR_FAULTS": '{"error_rates": {"429": 0.1}, "retry_after": 3}',
        }
    )
    assert config.latency == 2.5
    assert config.tokens == frozenset({"a", "b"})
    assert config.force_sync is True
    assert config.finish_before_answer is True
    assert config.faults.error_rates == {429: 0.1}
    with pytest.raises(ValueError, match="ACEDATA_EMULATOR_LATENCY"):
        EmulatorConfig.from_env({"ACEDATA_EMULATOR_LATENCY": "soon"})
