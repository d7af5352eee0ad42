"""Every kind of emulator answer validates against the contract (openapi-core / OAS 3.0 schema).

Sync, async, streamed-off, multipart edits, task records, ``retrieve_batch``, callbacks and each
documented error status (400, 401, 403, 429, 500, 504), under the default dialect and both
variant presets. Under the default dialect and variant B every error body carries a
``trace_id``; under variant B it also satisfies the strict ``ErrorBody`` (``error.code``,
``error.message`` and a ``trace_id``), as all the published examples do.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from jsonschema import ValidationError
from openapi_schema_validator import OAS30Validator

from langchain_acedata_images.emulator import EmulatorConfig, EmulatorState, create_app
from langchain_acedata_images.emulator.tasks import callback_body
from tests.emulator_fixtures import png, wait_finished

from .validation import (
    Recorder,
    component,
    contract,
    schema_of,
    validate_request,
    validate_response,
)

GEN = "/openai/images/generations"
EDIT = "/openai/images/edits"
TASKS = "/openai/tasks"
AUTH = {"authorization": "Bearer contract-token"}
PRESETS = ("union", "a", "b")
MakeApi = Callable[..., tuple[httpx.AsyncClient, Recorder]]


@pytest.fixture
async def make_api() -> AsyncIterator[MakeApi]:
    clients: list[httpx.AsyncClient] = []

    def make(preset: str, **settings: Any) -> tuple[httpx.AsyncClient, Recorder]:
        config = EmulatorConfig.preset(preset, latency=0.01, queue_delay=0.0, seed=9, **settings)
        recorder = Recorder(asynchronous=httpx.ASGITransport(app=create_app(config)))
        client = httpx.AsyncClient(transport=recorder, base_url="http://emulator", headers=AUTH)
        clients.append(client)
        return client, recorder

    yield make
    for client in clients:
        await client.aclose()


def state_of(recorder: Recorder) -> EmulatorState:
    transport = recorder._async
    assert isinstance(transport, httpx.ASGITransport)
    state: EmulatorState = transport.app.state.emulator  # type: ignore[attr-defined]
    return state


def data_url() -> str:
    return "data:image/png;base64," + base64.b64encode(png()).decode()


def statuses(recorder: Recorder) -> set[int]:
    return {exchange.response.status_code for exchange in recorder.api_exchanges()}


@pytest.mark.parametrize("preset", PRESETS)
async def test_successful_answers_validate(make_api: MakeApi, preset: str) -> None:
    api, recorder = make_api(preset)
    model = {"model": "gpt-image-1"}
    await api.post(GEN, json={"prompt": "sync", **model, "n": 2})
    await api.post(GEN, json={"prompt": "b64", **model, "response_format": "b64_json"})
    await api.post(GEN, json={"prompt": "dalle", "model": "dall-e-3", "style": "natural"})
    submitted = (await api.post(GEN, json={"prompt": "async", **model, "async": True})).json()
    await api.post(EDIT, json={"prompt": "edit", **model, "image": [data_url(), data_url()]})
    await api.post(TASKS, json={"action": "retrieve", "id": submitted["task_id"]})  # running
    await wait_finished(api, submitted["task_id"])
    await api.post(TASKS, json={"action": "retrieve", "id": "no-such-task"})
    await api.post(TASKS, json={"action": "retrieve_batch", "type": "images", "limit": 3})
    await api.post(TASKS, json={"action": "retrieve_batch", "trace_ids": ["x"], "offset": 1})
    assert recorder.validate_all() >= 9
    assert statuses(recorder) == {200}


@pytest.mark.parametrize("preset", ["union", "b"])
async def test_multipart_edit_answers_validate(make_api: MakeApi, preset: str) -> None:
    api, recorder = make_api(preset)
    files = [
        ("image[]", ("a.png", png(), "image/png")),
        ("image[]", ("b.png", png(24, 24), "image/png")),
        ("mask", ("mask.png", png(), "image/png")),
    ]
    form = {"prompt": "hat", "model": "gpt-image-1", "n": "1", "async": "false"}
    answer = await api.post(EDIT, data=form, files=files)
    assert answer.status_code == 200, answer.text
    wrong = await api.post(EDIT, data={**form, "n": "eleven"}, files=files[:1])
    assert wrong.status_code == 400
    good, bad = recorder.api_exchanges()
    validate_request(good.request)
    validate_response(good.request, good.response)
    validate_response(bad.request, bad.response)
    with pytest.raises(ValidationError, match="integer"):
        validate_request(bad.request)  # the emulator refused what the contract refuses


@pytest.mark.parametrize("preset", PRESETS)
async def test_task_records_validate_ours(make_api: MakeApi, preset: str) -> None:
    api, _ = make_api(preset)
    submitted = (
        await api.post(GEN, json={"prompt": "x", "model": "gpt-image-2", "async": True})
    ).json()
    record = await wait_finished(api, submitted["task_id"])
    OAS30Validator(component("TaskRecord")).validate(record)
    if preset == "b":
        OAS30Validator(component("TaskRecordDocumented")).validate(record)
        assert record["type"] == "images"


async def _error_exchanges(api: httpx.AsyncClient, state: EmulatorState) -> None:
    await api.post(GEN, json={"prompt": "", "model": "gpt-image-1"})  # 400
    await api.post(GEN, json={"prompt": "x", "model": "gpt-image-1"}, headers={"authorization": ""})
    await api.post(GEN, json={"prompt": "forbidden-content", "model": "gpt-image-1"})  # 403
    for status in (429, 500):
        state.set_faults({"error_rates": {str(status): 1.0}})
        await api.post(GEN, json={"prompt": "x", "model": "gpt-image-1"})
    state.set_faults({"error_rates": {}, "task_failure_rate": 1.0})
    await api.post(GEN, json={"prompt": "x", "model": "gpt-image-1"})  # 500 from the task
    state.set_faults({"task_failure_rate": 0.0, "timeout_after_accept_rate": 1.0})
    await api.post(GEN, json={"prompt": "x", "model": "gpt-image-1", "trace_id": "t"})  # 504
    state.set_faults({"timeout_after_accept_rate": 0.0, "balance_used_up": True})
    await api.post(GEN, json={"prompt": "x", "model": "gpt-image-1"})  # 403 used_up


@pytest.mark.parametrize("preset", PRESETS)
async def test_error_answers_validate(make_api: MakeApi, preset: str) -> None:
    api, recorder = make_api(preset, mismatched_tokens=frozenset({"other-api-token"}))
    await _error_exchanges(api, state_of(recorder))
    await api.post(GEN, json={"prompt": "x"}, headers={"authorization": "Bearer other-api-token"})
    exchanges = list(recorder.api_exchanges())
    assert {e.response.status_code for e in exchanges} == {400, 401, 403, 429, 500, 504}
    documented = {
        status: response["x-error-codes"]
        for status, response in schema_of(GEN, "responses").items()
        if "x-error-codes" in response
    }
    strict = OAS30Validator(contract()["components"]["schemas"]["ErrorBody"])
    for exchange in exchanges:
        body = exchange.response.json()
        # only the answers: these requests break the request schema on purpose
        validate_response(exchange.request, exchange.response)
        if preset != "a":  # the seed's errors carry the client's trace_id only
            assert isinstance(body.get("trace_id"), str)
            assert body["trace_id"]
        if preset == "b":
            strict.validate(body)
            status = str(exchange.response.status_code)
            # The documents show one example code per status; ours adds the seed's codes for
            # validation (bad_request), a missing token (no_token) and balance (used_up).
            extra = {"bad_request", "used_up", "no_token"}
            assert body["error"]["code"] in {*documented[status], *extra}


@pytest.mark.parametrize("nested", [False, True])
async def test_callback_bodies_validate_ours(make_api: MakeApi, nested: bool) -> None:
    api, recorder = make_api("union")
    state = state_of(recorder)
    await api.post(GEN, json={"prompt": "ok", "model": "gpt-image-1", "trace_id": "cb"})
    state.set_faults({"task_failure_rate": 1.0})
    await api.post(GEN, json={"prompt": "fails", "model": "gpt-image-1"})
    schema = component("CallbackNested" if nested else "CallbackFlat")
    for task in state.tasks():
        OAS30Validator(schema).validate(callback_body(task, nested=nested))
