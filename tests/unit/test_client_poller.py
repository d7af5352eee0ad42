"""The client's wait path over the poller, against respx: dialects without batch retrieval,
batches that ignore ``ids``, the default cadence and the learned durations."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

from langchain_acedata_images import (
    AceDataImagesClient,
    DurationEstimate,
    ImageGenerationResult,
    MalformedAnswerError,
    PollCadence,
)
from langchain_acedata_images._text import tool_error_text
from tests.conftest import BASE_URL, TOKEN, FakeClock
from tests.helpers import GEN, TASKS

DONE = {"data": [{"url": "https://cdn.test/1.png"}]}


def record(task_id: str, finished: bool) -> dict[str, Any]:
    answer: dict[str, Any] = {"id": task_id, "created_at": 100.0, "started_at": 100.0}
    if finished:
        answer.update(finished_at=104.0, response=DONE)
    return answer


def fake_client(clock: FakeClock, **options: Any) -> AceDataImagesClient:
    client = AceDataImagesClient(TOKEN, base_url=BASE_URL, **options)
    client._clock, client._sleep, client._async_sleep = clock.time, clock.sleep, clock.async_sleep
    return client


def tasks_server(
    batch: Callable[[list[str]], httpx.Response], finished_after: int = 2
) -> tuple[Callable[[httpx.Request], httpx.Response], list[dict[str, Any]]]:
    """``/openai/tasks``: ``batch`` answers retrieve_batch; retrieve finds the task finished
    from its ``finished_after``-th status request on."""
    bodies: list[dict[str, Any]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        bodies.append(body)
        if body["action"] == "retrieve_batch":
            return batch(body["ids"])
        return httpx.Response(200, json=record(body["id"], len(bodies) >= finished_after))

    return answer, bodies


@pytest.mark.parametrize(
    "refusal",
    [
        httpx.Response(404, text="Not Found"),
        httpx.Response(400, json={"error": {"code": "api_not_implemented", "message": "no"}}),
        httpx.Response(200, json={"unexpected": "shape"}),
    ],
)
def test_a_dialect_without_batches_is_polled_per_job_from_then_on(
    api: respx.MockRouter, clock: FakeClock, refusal: httpx.Response
) -> None:
    api.post(GEN).respond(200, json={"task_id": "t1"})
    answer, bodies = tasks_server(lambda ids: refusal, finished_after=3)
    api.post(TASKS).mock(side_effect=answer)
    with fake_client(clock) as client:
        first = client.generate(prompt="fox")
        second = client.generate(prompt="fox")
    assert isinstance(first, ImageGenerationResult)
    assert isinstance(second, ImageGenerationResult)
    actions = [body["action"] for body in bodies]
    assert actions[0] == "retrieve_batch"
    assert actions[1:] == ["retrieve"] * (len(actions) - 1)  # the first refusal sufficed


def test_a_batch_that_ignores_ids_gets_the_missing_job_asked_for_alone(
    api: respx.MockRouter, clock: FakeClock
) -> None:
    api.post(GEN).respond(200, json={"task_id": "t1"})
    others = {"items": [record("someone-else", True)], "count": 1}
    answer, bodies = tasks_server(lambda ids: httpx.Response(200, json=others))
    api.post(TASKS).mock(side_effect=answer)
    with fake_client(clock) as client:
        result = client.generate(prompt="fox")
    assert isinstance(result, ImageGenerationResult)
    assert [body["action"] for body in bodies] == ["retrieve_batch", "retrieve"]


def test_the_default_cadence_checks_every_half_second_at_first(
    api: respx.MockRouter, clock: FakeClock
) -> None:
    api.post(GEN).respond(200, json={"task_id": "t1"})
    finished = iter([False, False, False, True])

    def batch(ids: list[str]) -> httpx.Response:
        items = [record(ids[0], next(finished))]
        return httpx.Response(200, json={"items": items, "count": 1})

    answer, _ = tasks_server(batch)
    api.post(TASKS).mock(side_effect=answer)
    with fake_client(clock) as client:
        assert isinstance(client.poll_schedule, PollCadence)
        client.generate(prompt="fox")
    assert clock.sleeps == pytest.approx([0.5, 0.5, 0.5, 0.5])


def test_finished_jobs_teach_the_client_their_duration_group(
    api: respx.MockRouter, clock: FakeClock
) -> None:
    api.post(GEN).respond(200, json={"task_id": "t1"})
    answer, _ = tasks_server(
        lambda ids: httpx.Response(200, json={"items": [record(ids[0], True)], "count": 1})
    )
    api.post(TASKS).mock(side_effect=answer)
    with fake_client(clock) as client:
        assert client.durations is not None
        for _ in range(3):
            client.generate(prompt="fox", model="gpt-image-1", quality="low", size="1024x1024")
        assert client.durations.snapshot() == {
            ("gpt-image-1", "low", "1K"): DurationEstimate(4.0, 4.0, 3)
        }
    with fake_client(clock, learn_durations=False) as quiet:
        assert quiet.durations is None
        quiet.generate(prompt="fox")


def test_callback_url_goes_with_every_submission_and_the_call_still_waits(
    api: respx.MockRouter, clock: FakeClock
) -> None:
    route = api.post(GEN).respond(200, json={"task_id": "t1"})
    answer, _ = tasks_server(
        lambda ids: httpx.Response(200, json={"items": [record(ids[0], True)], "count": 1})
    )
    api.post(TASKS).mock(side_effect=answer)
    hook = "https://me.example/hooks/acedata?token=s"
    with fake_client(clock, callback_url=hook) as client:
        result = client.generate(prompt="fox")
    assert isinstance(result, ImageGenerationResult)
    assert json.loads(route.calls.last.request.content)["callback_url"] == hook


def test_callback_url_must_be_http() -> None:
    with pytest.raises(ValueError, match="callback_url"):
        AceDataImagesClient(TOKEN, callback_url="ftp://me.example/hook")


@pytest.mark.parametrize("count", [1, 50])
def test_a_look_up_answered_with_another_tasks_record_fails_within_seconds(
    api: respx.MockRouter, clock: FakeClock, count: int
) -> None:
    api.post(GEN).respond(200, json={"task_id": "t1"})
    lie = record("someone-else", True)
    bodies: list[dict[str, Any]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        bodies.append(body)
        if body["action"] == "retrieve_batch":
            return httpx.Response(200, json={"items": [lie], "count": count})
        return httpx.Response(200, json=lie)

    api.post(TASKS).mock(side_effect=answer)
    start = clock.now
    client = fake_client(clock, max_wait=600.0)
    with client, pytest.raises(MalformedAnswerError) as caught:
        client.generate(prompt="fox")
    assert caught.value.task_id == "t1"
    assert [body["action"] for body in bodies] == ["retrieve_batch", "retrieve"]
    assert clock.now - start < 5.0  # the fake clock: not max_wait
    text = tool_error_text(caught.value)
    assert "task_id=t1" in text
    assert "\n" not in text
    assert "Do not submit" in text


async def test_get_task_answered_with_another_tasks_record_names_the_asked_task(
    api: respx.MockRouter, clock: FakeClock
) -> None:
    api.post(TASKS).respond(200, json=record("t9", True))
    async with fake_client(clock) as client:
        with pytest.raises(MalformedAnswerError, match="task t1") as caught:
            await client.aget_task("t1")
    assert caught.value.task_id == "t1"
