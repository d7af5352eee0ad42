"""n asked → n delivered: the plan, the single-image jobs, top-ups, partial failures, resume."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx
import pytest
import respx

from langchain_acedata_images import (
    AceDataImagesClient,
    GenerateImageInput,
    ImageGenerationResult,
    ImageTask,
    ModerationError,
    TaskFailedError,
    TaskNotFoundError,
    TaskTimeoutError,
)
from langchain_acedata_images._fanout import plan_for, split_task_id, sub_trace_ids
from langchain_acedata_images.models import ALLOW_UNKNOWN_MODELS
from tests.helpers import GEN, TASKS


def _numbered_answers(count_key: str = "n") -> Any:
    """Each submission gets its own task id and as many URLs as it asked for."""
    lock = threading.Lock()
    seen: list[dict[str, Any]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        with lock:
            seen.append(body)
            number = len(seen)
        images = [{"url": f"https://cdn.test/{number}-{i}.png"} for i in range(body.get("n", 1))]
        return httpx.Response(200, json={"created": 1, "data": images, "task_id": f"t{number}"})

    answer.seen = seen  # type: ignore[attr-defined]
    return answer


@pytest.mark.parametrize(
    ("args", "jobs"),
    [
        ({"prompt": "x"}, 1),
        ({"prompt": "x", "n": 1}, 1),
        ({"prompt": "x", "n": 4}, 4),  # gpt-image may ignore n
        ({"prompt": "x", "n": 3, "model": "nano-banana-2-lite"}, 3),
        ({"prompt": "x", "n": 3, "model": "dall-e-2"}, 1),  # dall-e-2 honours n
        ({"prompt": "x", "n": 3, "model": "dall-e-2", "response_format": "b64_json"}, 3),
    ],
)
def test_plan(args: dict[str, Any], jobs: int) -> None:
    assert plan_for(GenerateImageInput.model_validate(args)).jobs == jobs


def test_unknown_models_are_fanned_out() -> None:
    request = GenerateImageInput.model_validate(
        {"prompt": "x", "n": 2, "model": "gpt-image-9"}, context={ALLOW_UNKNOWN_MODELS: True}
    )
    assert plan_for(request).jobs == 2


def test_trace_ids_and_group_ids() -> None:
    assert sub_trace_ids("T", 2, 3) == ["T-2", "T-3", "T-4"]
    assert split_task_id(" a, b ,,c") == ["a", "b", "c"]
    assert split_task_id(None) == []


@pytest.mark.parametrize("use_async", [False, True])
async def test_n_single_image_jobs_in_parallel(
    api: respx.MockRouter, client: AceDataImagesClient, use_async: bool
) -> None:
    answer = _numbered_answers()
    api.post(GEN).mock(side_effect=answer)
    args = {"prompt": "a fox", "n": 3, "trace_id": "call"}
    result = await client.agenerate(**args) if use_async else client.generate(**args)
    assert isinstance(result, ImageGenerationResult)
    assert len(result.images) == 3
    assert result.trace_id == "call"
    assert sorted(body["trace_id"] for body in answer.seen) == ["call-1", "call-2", "call-3"]
    assert all("n" not in body for body in answer.seen)
    assert sorted(result.task_ids) == ["t1", "t2", "t3"]
    assert result.task_id == ",".join(result.task_ids)
    assert result.note == "3 images via 3 single-image jobs (gpt-image-1 may ignore n > 1)."
    # Each image names its own job, index 0.
    assert sorted(image.handle or "" for image in result.images) == [
        "img:t1:0",
        "img:t2:0",
        "img:t3:0",
    ]


def test_a_short_answer_is_topped_up_once(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    calls: list[dict[str, Any]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(json.loads(request.content))
        # The first job gets 1 of the 3 images asked; the top-up jobs get theirs.
        data = [{"url": f"https://cdn.test/{len(calls)}.png"}]
        return httpx.Response(200, json={"data": data, "task_id": f"t{len(calls)}"})

    api.post(GEN).mock(side_effect=answer)
    result = client.generate(prompt="x", model="dall-e-2", n=3, trace_id="c")
    assert isinstance(result, ImageGenerationResult)
    assert len(result.images) == 3
    assert calls[0]["n"] == 3
    assert sorted(call["trace_id"] for call in calls[1:]) == ["c-2", "c-3"]
    assert all("n" not in call for call in calls[1:])
    assert "plus 2 single-image job(s)" in (result.note or "")


def test_partial_failure_keeps_the_images_made(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if json.loads(request.content)["trace_id"] == "c-2":
            return httpx.Response(200, json={"task_id": "t2"})  # then fails while polled
        return httpx.Response(200, json={"data": [{"url": "https://cdn.test/ok.png"}]})

    api.post(GEN).mock(side_effect=answer)
    failed = {"id": "t2", "finished_at": 2.0, "response": {"error": {"message": "boom"}}}
    api.post(TASKS).respond(200, json=failed)
    result = client.generate(prompt="x", n=2, trace_id="c")
    assert isinstance(result, ImageGenerationResult)
    assert len(result.images) == 1
    assert "1 image(s) missing: the image job failed: boom" in (result.note or "")


def test_every_job_refused_raises_the_error(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    body = {"error": {"code": "forbidden", "message": "moderators"}, "trace_id": "srv"}
    api.post(GEN).respond(403, json=body)
    with pytest.raises(ModerationError):
        client.generate(prompt="x", n=2)


def test_wait_false_gives_one_handle_for_all_jobs(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    numbers = iter(range(1, 10))
    api.post(GEN).mock(
        side_effect=lambda request: httpx.Response(200, json={"task_id": f"t{next(numbers)}"})
    )
    task = client.generate(prompt="x", n=2, wait=False, trace_id="c")
    assert isinstance(task, ImageTask)
    assert sorted(task.task_ids) == ["t1", "t2"]
    assert task.trace_id == "c"
    assert task.note == "Submitted as 2 single-image jobs (gpt-image-1 may ignore n > 1)."


def test_resume_a_group_by_task_ids(api: respx.MockRouter, client: AceDataImagesClient) -> None:
    def record(request: httpx.Request) -> httpx.Response:
        task_id = json.loads(request.content)["id"]
        data = [{"b64_json": "aGk="}]
        return httpx.Response(
            200, json={"id": task_id, "finished_at": 1.0, "response": {"data": data}}
        )

    api.post(TASKS).mock(side_effect=record)
    result = client.wait_for_task("t1,t2")
    assert sorted(result.task_ids) == ["t1", "t2"]
    assert sorted(image.handle or "" for image in result.images) == ["img:t1:0", "img:t2:0"]


def test_resume_a_group_by_the_call_trace_id(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    done = {"finished_at": 1.0, "response": {"data": [{"url": "https://cdn.test/x.png"}]}}

    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if body["action"] == "retrieve_batch":
            assert body["trace_ids"][:2] == ["c-1", "c-2"]
            items = [{"id": "t2", "trace_id": "c-2"}, {"id": "t1", "trace_id": "c-1"}]
            return httpx.Response(200, json={"items": items, "count": 2})
        if body.get("trace_id") == "c":
            return httpx.Response(200, json={})
        return httpx.Response(200, json={"id": body["id"], **done})

    api.post(TASKS).mock(side_effect=answer)
    result = client.wait_for_task(trace_id="c")
    assert result.task_ids == ["t1", "t2"]


def test_resume_by_an_unknown_trace_id(api: respx.MockRouter, client: AceDataImagesClient) -> None:
    api.post(TASKS).respond(200, json={})
    with pytest.raises(TaskNotFoundError, match="no image task found"):
        client.wait_for_task(trace_id="nothing")


def test_a_failed_group_member_without_images_raises(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    failed = {"finished_at": 1.0, "response": {"success": False}}
    api.post(TASKS).mock(
        side_effect=lambda r: httpx.Response(
            200, json={"id": json.loads(r.content)["id"], **failed}
        )
    )
    with pytest.raises(TaskFailedError):
        client.wait_for_task("t1,t2")


def test_every_job_still_running_names_them_all(
    api: respx.MockRouter, clock: object, client: AceDataImagesClient
) -> None:
    numbers = iter(range(1, 10))
    api.post(GEN).mock(
        side_effect=lambda request: httpx.Response(200, json={"task_id": f"t{next(numbers)}"})
    )

    def running(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if body["action"] == "retrieve_batch":  # the client-wide poller's check
            items = [{"id": task_id} for task_id in body["ids"]]
            return httpx.Response(200, json={"items": items, "count": len(items)})
        return httpx.Response(200, json={"id": body["id"]})

    api.post(TASKS).mock(side_effect=running)
    with pytest.raises(TaskTimeoutError) as caught:
        client.generate(prompt="x", n=2, trace_id="c", max_wait=5)
    assert sorted(split_task_id(caught.value.task_id)) == ["t1", "t2"]
    assert caught.value.trace_id == "c"
