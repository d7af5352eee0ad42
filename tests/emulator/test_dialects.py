"""Each dialect setting of the emulator, one documented-variants row at a time (in-process)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from PIL import Image

from langchain_acedata_images.emulator import Dialect, EmulatorConfig, EmulatorState, create_app
from langchain_acedata_images.emulator.cli import add_arguments, config_from_args
from langchain_acedata_images.emulator.dialect import FIELD_NAMES
from tests.emulator_fixtures import png, wait_finished

AUTH = {"authorization": "Bearer dialect-token"}
GEN = "/openai/images/generations"
EDIT = "/openai/images/edits"
TASKS = "/openai/tasks"
ApiFactory = Callable[..., AsyncIterator[httpx.AsyncClient]]


@pytest.fixture
async def make_api() -> AsyncIterator[Callable[..., Any]]:
    clients: list[httpx.AsyncClient] = []

    def make(preset: str = "union", **changes: Any) -> httpx.AsyncClient:
        config = EmulatorConfig.preset(preset, latency=0.01, queue_delay=0.0, seed=5, **changes)
        transport = httpx.ASGITransport(app=create_app(config))
        client = httpx.AsyncClient(transport=transport, base_url="http://emulator", headers=AUTH)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


def state_of(api: httpx.AsyncClient) -> EmulatorState:
    transport = api._transport
    assert isinstance(transport, httpx.ASGITransport)
    state: EmulatorState = transport.app.state.emulator  # type: ignore[attr-defined]
    return state


def test_presets_and_names() -> None:
    assert Dialect.preset("union") == Dialect()
    assert Dialect.preset("variant_b") == Dialect.preset("B")
    a, b = Dialect.preset("a"), Dialect.preset("b")
    assert (a.models, a.multipart_edits, a.v1_aliases) == ("seed", False, False)
    assert (b.trace_id, b.errors, b.n_policy, b.callbacks) == (
        "ignored",
        "documented",
        "one",
        "nested",
    )
    with pytest.raises(ValueError, match="dialect must be one of"):
        Dialect.preset("c")
    with pytest.raises(ValueError, match="n_policy must be one of honoured, one"):
        Dialect(n_policy="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown dialect settings: colour"):
        Dialect().patched({"colour": "red"})


def test_environment_and_cli_set_every_field() -> None:
    env = {"ACEDATA_EMULATOR_DIALECT": "b", "ACEDATA_EMULATOR_TRACE_ID": "honoured"}
    config = EmulatorConfig.from_env(env)
    assert config.dialect == Dialect.preset("b", trace_id="honoured")
    assert (
        EmulatorConfig.from_env({"ACEDATA_EMULATOR_V1_ALIASES": "no"}).dialect.v1_aliases is False
    )
    with pytest.raises(ValueError, match="ACEDATA_EMULATOR_"):
        EmulatorConfig.from_env({"ACEDATA_EMULATOR_STREAM": "maybe"})
    import argparse

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    flags = {action.dest for action in parser._actions}
    assert set(FIELD_NAMES) <= flags
    args = parser.parse_args(["--dialect", "a", "--n-policy", "one", "--v1-aliases"])
    dialect = config_from_args(args, EmulatorConfig()).dialect
    assert dialect == Dialect.preset("a", n_policy="one", v1_aliases=True)


@pytest.mark.parametrize(
    ("preset", "model", "status"),
    [
        ("a", "gpt-image-2:official", 400),
        ("a", "nano-banana-2-lite", 400),
        ("a", "gpt-image-1", 200),
        ("union", "gpt-image-2:official", 200),
        ("union", "nano-banana-2-lite", 200),
        ("b", "gpt-image-2:reverse", 200),
        ("union", "gpt-image-9", 400),
    ],
)
async def test_model_lists(make_api: Any, preset: str, model: str, status: int) -> None:
    api = make_api(preset)
    answer = await api.post(GEN, json={"prompt": "x", "model": model})
    assert answer.status_code == status, answer.text
    if status == 400:
        assert "model must be one of" in answer.json()["error"]["message"]


async def test_unknown_models_accepted_when_asked(make_api: Any) -> None:
    api = make_api(unknown_models="accept")
    answer = await api.post(GEN, json={"prompt": "x", "model": "gpt-image-9", "size": "640x480"})
    assert answer.status_code == 200


async def test_model_required_and_edit_default(make_api: Any) -> None:
    union, b = make_api(), make_api("b")
    assert (await union.post(GEN, json={"prompt": "x"})).status_code == 200
    missing = await b.post(GEN, json={"prompt": "x"})
    assert (missing.status_code, missing.json()["error"]["message"]) == (400, "model is required")
    edited = await b.post(EDIT, json={"prompt": "x", "image": "data:image/png;base64,"})
    assert edited.status_code == 400  # empty data: URL, but the model defaulted to dall-e-3
    record = state_of(b)
    assert record.dialect.edit_default_model == "dall-e-3"


@pytest.mark.parametrize(
    ("preset", "model", "n", "delivered"),
    [
        ("union", "gpt-image-1", 3, 3),
        ("b", "gpt-image-1", 3, 1),
        ("b", "nano-banana", 2, 1),
        ("b", "dall-e-2", 3, 3),
    ],
)
async def test_n_policy(make_api: Any, preset: str, model: str, n: int, delivered: int) -> None:
    api = make_api(preset)
    size = {"dall-e-2": "256x256"}.get(model, "1024x1024")
    answer = await api.post(GEN, json={"prompt": "x", "model": model, "n": n, "size": size})
    assert len(answer.json()["data"]) == delivered
    assert state_of(api).tasks()[0].request["n"] == n  # stored as sent


async def test_gpt_image_always_base64_and_b64_with_n(make_api: Any) -> None:
    b = make_api("b")
    gpt = await b.post(GEN, json={"prompt": "x", "model": "gpt-image-1", "response_format": "url"})
    assert set(gpt.json()["data"][0]) == {"b64_json"}
    dalle = await b.post(GEN, json={"prompt": "x", "model": "dall-e-2", "size": "256x256"})
    assert set(dalle.json()["data"][0]) == {"url"}
    many = {"prompt": "x", "model": "dall-e-2", "size": "256x256", "n": 2}
    refused = await b.post(GEN, json={**many, "response_format": "b64_json"})
    assert refused.status_code == 400
    assert "only n=1" in refused.json()["error"]["message"]
    union = make_api()
    assert (await union.post(GEN, json={**many, "response_format": "b64_json"})).status_code == 200


@pytest.mark.parametrize(
    ("model", "length", "union_status", "b_status"),
    [
        ("dall-e-2", 1_001, 200, 400),
        ("dall-e-3", 4_001, 200, 400),
        ("dall-e-3", 4_000, 200, 200),
        ("gpt-image-1", 32_000, 200, 200),
        ("gpt-image-1", 32_001, 400, 400),
    ],
)
async def test_prompt_limits(
    make_api: Any, model: str, length: int, union_status: int, b_status: int
) -> None:
    size = {"dall-e-2": "256x256"}.get(model, "1024x1024")
    body = {"prompt": "p" * length, "model": model, "size": size}
    assert (await make_api().post(GEN, json=body)).status_code == union_status
    assert (await make_api("b").post(GEN, json=body)).status_code == b_status


async def test_multipart_edits(make_api: Any) -> None:
    api = make_api()
    files = [
        ("image[]", ("a.png", png(), "image/png")),
        ("image[]", ("b.png", png(32, 32), "image/png")),
        ("mask", ("mask.png", png(mode="RGBA"), "image/png")),
    ]
    data = {"prompt": "add a hat", "model": "gpt-image-1", "n": "2", "size": "1024x1024"}
    answer = await api.post(EDIT, data=data, files=files)
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["data"]) == 2
    stored = state_of(api).tasks()[0].request
    assert stored["n"] == 2
    assert stored["image"][1] == {
        "filename": "b.png",
        "content_type": "image/png",
        "bytes": len(png(32, 32)),
    }
    one = await api.post(EDIT, data=data, files={"image": ("a.png", png(), "image/png")})
    assert one.status_code == 200
    wrong_mask = [files[0], ("mask", ("m.png", png(10, 10), "image/png"))]
    refused = await api.post(EDIT, data=data, files=wrong_mask)
    assert refused.status_code == 400
    assert "same size" in refused.json()["error"]["message"]
    jpeg_mask = io.BytesIO()
    Image.new("RGB", (64, 64)).save(jpeg_mask, format="JPEG")
    not_png = [files[0], ("mask", ("m.jpg", jpeg_mask.getvalue(), "image/jpeg"))]
    assert "PNG" in (await api.post(EDIT, data=data, files=not_png)).json()["error"]["message"]
    too_many = [("image[]", (f"{i}.png", png(8, 8), "image/png")) for i in range(17)]
    assert (await api.post(EDIT, data=data, files=too_many)).status_code == 400
    assert state_of(api).stats()["submissions"] == 2


async def test_multipart_edits_refused_by_variant_a(make_api: Any) -> None:
    api = make_api("a")
    files = {"image": ("a.png", png(), "image/png")}
    answer = await api.post(EDIT, data={"prompt": "x"}, files=files)
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == "the body must be a JSON object"


@pytest.mark.parametrize(
    ("preset", "model", "status"), [("a", "dall-e-2", 400), ("b", "dall-e-2", 200)]
)
async def test_edit_models(make_api: Any, preset: str, model: str, status: int) -> None:
    api = make_api(preset)
    image = "data:image/png;base64," + __import__("base64").b64encode(png()).decode()
    body = {"prompt": "x", "model": model, "image": image, "size": "256x256"}
    assert (await api.post(EDIT, json=body)).status_code == status


async def test_v1_aliases(make_api: Any) -> None:
    union, a, b = make_api(), make_api("a"), make_api("b")
    assert (await union.post("/v1/images/generations", json={"prompt": "x"})).status_code == 200
    assert (await a.post("/v1/images/generations", json={"prompt": "x"})).status_code == 404
    unknown = await b.post("/openai/images/variations", json={"prompt": "x"})
    assert unknown.status_code == 400
    assert unknown.json()["error"]["code"] == "api_not_implemented"
    assert unknown.json()["trace_id"]


async def test_error_codes_and_trace_ids(make_api: Any) -> None:
    a, b = make_api("a"), make_api("b")
    body = {"prompt": "forbidden-content", "model": "gpt-image-1", "trace_id": "mine"}
    seed_refusal = (await a.post(GEN, json=body)).json()
    assert "code" not in seed_refusal["error"]
    assert seed_refusal["trace_id"] == "mine"
    documented = (await b.post(GEN, json=body)).json()
    assert documented["error"]["code"] == "forbidden"
    assert documented["trace_id"] not in (None, "mine")
    for api, code in ((a, "internal_error"), (b, "api_error")):
        state_of(api).set_faults({"error_rates": {"500": 1.0}})
        answer = (await api.post(GEN, json={"prompt": "x", "model": "gpt-image-1"})).json()
        assert answer["error"]["code"] == code
        state_of(api).set_faults({"error_rates": {}})
    bad = (await b.post(GEN, json={"prompt": "", "model": "gpt-image-1"})).json()
    assert bad["error"]["code"] == "bad_request"
    assert bad["trace_id"]


async def test_default_errors_always_carry_a_trace_id(make_api: Any) -> None:
    union, a = make_api(), make_api("a")
    bare = {"prompt": "forbidden-content", "model": "gpt-image-1"}
    mine = {**bare, "trace_id": "mine"}
    made = [(await union.post(GEN, json=bare)).json()["trace_id"] for _ in range(2)]
    assert made[0]
    assert made[0] != made[1]  # server-made, one per request
    assert (await union.post(GEN, json=mine)).json()["trace_id"] == "mine"  # honoured
    ignored = make_api(trace_id="ignored")
    assert (await ignored.post(GEN, json=mine)).json()["trace_id"] not in (None, "mine")
    unknown = await union.post("/openai/images/variations", json={"prompt": "x"})
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "not_found")
    assert unknown.json()["trace_id"]
    # The seed keeps its own: the client's trace id when it sent one, else none.
    assert "trace_id" not in (await a.post(GEN, json=bare)).json()
    assert (await a.post(GEN, json=mine)).json()["trace_id"] == "mine"
    seedlike = make_api(error_trace_id="seed")
    assert "trace_id" not in (await seedlike.post(GEN, json=bare)).json()


async def test_token_mismatched(make_api: Any) -> None:
    api = make_api(mismatched_tokens=frozenset({"dialect-token"}))
    answer = await api.post(GEN, json={"prompt": "x"})
    assert (answer.status_code, answer.json()["error"]["code"]) == (400, "token_mismatched")


async def test_timeout_after_accept_creates_and_finishes_the_task(make_api: Any) -> None:
    api = make_api("b", trace_id="honoured")
    state_of(api).set_faults({"timeout_after_accept_rate": 1.0})
    answer = await api.post(GEN, json={"prompt": "x", "model": "gpt-image-1", "trace_id": "t-1"})
    assert (answer.status_code, answer.json()["error"]["code"]) == (504, "timeout")
    assert state_of(api).stats()["submissions"] == 1
    (task,) = state_of(api).tasks()
    assert (await wait_finished(api, task.id))["response"]["success"] is True
    found = (await api.post(TASKS, json={"action": "retrieve", "trace_id": "t-1"})).json()
    assert found["id"] == task.id


async def test_task_records_and_batch_filters(make_api: Any) -> None:
    b = make_api("b")
    submitted = (
        await b.post(GEN, json={"prompt": "x", "model": "gpt-image-2", "async": True})
    ).json()
    record = await wait_finished(b, submitted["task_id"])
    assert {"_id", "application_id", "user_id", "credential_id", "duration"} <= set(record)
    assert record["type"] == "images"
    mine = {"action": "retrieve_batch", "user_id": record["user_id"]}
    assert (await b.post(TASKS, json=mine)).json()["count"] == 1
    other = {"action": "retrieve_batch", "application_id": "someone-else"}
    assert (await b.post(TASKS, json=other)).json()["count"] == 0
    a = make_api("a")
    await a.post(GEN, json={"prompt": "x"})
    assert (await a.post(TASKS, json=other)).json()["count"] == 1  # filter not known: ignored
    seed_record = (await a.post(TASKS, json={"action": "retrieve_batch"})).json()["items"][0]
    assert "_id" not in seed_record
    assert seed_record["type"] == "images_generations"


async def test_trace_id_ignored(make_api: Any) -> None:
    api = make_api("b")
    body = {"prompt": "x", "model": "gpt-image-1", "trace_id": "client-trace", "async": True}
    submitted = (await api.post(GEN, json=body)).json()
    assert submitted["trace_id"] != "client-trace"
    lookup = await api.post(TASKS, json={"action": "retrieve", "trace_id": "client-trace"})
    assert lookup.json() == {}
    record = await wait_finished(api, submitted["task_id"])
    assert record["request"]["trace_id"] == "client-trace"
    assert record["trace_id"] == submitted["trace_id"]


async def test_stream_ignored(make_api: Any) -> None:
    body = {"prompt": "x", "model": "gpt-image-1", "stream": True, "partial_images": 1}
    streamed = await make_api().post(GEN, json=body)
    assert streamed.headers["content-type"].startswith("text/event-stream")
    plain = await make_api("b").post(GEN, json=body)
    assert plain.headers["content-type"] == "application/json"
    assert plain.json()["data"]


async def test_runtime_switch_and_reset(make_api: Any) -> None:
    api = make_api()
    switched = await api.post("/_emulator/dialect", json={"preset": "b", "trace_id": "honoured"})
    assert switched.json()["errors"] == "documented"
    assert (await api.post(GEN, json={"prompt": "x"})).status_code == 400  # model required
    assert (await api.post("/_emulator/dialect", json={"n_policy": 3})).status_code == 400
    await api.post("/_emulator/reset")
    assert (await api.get("/_emulator/dialect")).json() == Dialect().to_dict()


async def test_callback_bodies_flat_and_nested(make_api: Any) -> None:
    from langchain_acedata_images.emulator.tasks import callback_body

    api = make_api()
    await api.post(GEN, json={"prompt": "x", "trace_id": "cb"})
    (task,) = state_of(api).tasks()
    flat = callback_body(task, nested=False)
    assert flat["task_id"] == task.id
    assert flat["trace_id"] == "cb"
    assert flat["data"]
    nested = callback_body(task, nested=True)
    assert (nested["success"], nested["task_id"]) == (True, task.id)
    assert nested["data"]["data"] == flat["data"]
    assert "success" not in nested["data"]


@pytest.mark.parametrize("style", ["flat", "nested"])
def test_callbacks_are_delivered_in_the_dialect_shape(style: str) -> None:
    import json
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from langchain_acedata_images.emulator import run_emulator

    received: list[dict[str, Any]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    with ThreadingHTTPServer(("127.0.0.1", 0), Receiver) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        hook = f"http://127.0.0.1:{server.server_address[1]}/hook"
        config = EmulatorConfig.preset("union", callbacks=style, latency=0.01, queue_delay=0.0)
        with run_emulator(config) as emulator, httpx.Client(headers=AUTH) as http:
            body = {"prompt": "x", "callback_url": hook, "trace_id": "cb-1"}
            task_id = http.post(emulator.base_url + GEN, json=body).json()["task_id"]
            deadline = time.monotonic() + 5
            while not received and time.monotonic() < deadline:
                time.sleep(0.01)
        server.shutdown()
    (payload,) = received
    assert (payload["task_id"], payload["trace_id"]) == (task_id, "cb-1")
    if style == "nested":
        assert payload["success"] is True
        assert payload["data"]["data"][0]["url"]
    else:
        assert payload["data"][0]["url"]


async def test_listings_run_in_the_dialects_order_and_cap_their_pages(make_api: Any) -> None:
    api = make_api(listing_order="oldest_first", max_page_size=2)
    made = []
    for index in range(3):
        answer = await api.post(GEN, json={"prompt": f"fox {index}", "async": True})
        made.append(answer.json()["task_id"])
    page = (await api.post(TASKS, json={"action": "retrieve_batch", "limit": 10})).json()
    assert [item["id"] for item in page["items"]] == made[:2]  # oldest first, capped at 2
    assert page["count"] == 3
    state_of(api).set_dialect({"listing_order": "newest_first", "max_page_size": "0"})
    page = (await api.post(TASKS, json={"action": "retrieve_batch", "limit": 10})).json()
    assert [item["id"] for item in page["items"]] == made[::-1]
    with pytest.raises(ValueError, match="max_page_size must be a whole number"):
        Dialect().patched({"max_page_size": "many"})


async def test_a_gateway_error_after_creation_and_a_lagging_look_up(make_api: Any) -> None:
    api = make_api()
    state_of(api).set_faults(
        {"gateway_after_accept_rate": 1.0, "gateway_status": 524, "lookup_delay": 30.0}
    )
    answer = await api.post(GEN, json={"prompt": "fox", "async": True, "trace_id": "lcai-1"})
    assert answer.status_code == 524
    assert "text/html" in answer.headers["content-type"]
    assert state_of(api).stats()["submissions"] == 1  # created (and billed) all the same
    by_trace = await api.post(TASKS, json={"action": "retrieve", "trace_id": "lcai-1"})
    assert by_trace.json() == {}  # not visible to look-ups yet
    listed = await api.post(TASKS, json={"action": "retrieve_batch", "trace_ids": ["lcai-1"]})
    assert listed.json()["items"] == []
    task_id = state_of(api).tasks()[0].id
    by_id = await api.post(TASKS, json={"action": "retrieve_batch", "ids": [task_id]})
    assert [item["id"] for item in by_id.json()["items"]] == [task_id]  # polls still see it
