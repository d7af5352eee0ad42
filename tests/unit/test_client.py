"""Client behaviour against respx-mocked HTTP: flow, polling, errors, retries, billing safety."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import respx

from langchain_acedata_images import (
    AceDataImagesClient,
    APIError,
    AuthenticationError,
    ConfigurationError,
    ImageGenerationResult,
    ImageTask,
    InsufficientBalanceError,
    InvalidRequestError,
    MalformedAnswerError,
    ModerationError,
    PollSchedule,
    ProgressEvent,
    RateLimitError,
    ResourceDisabledError,
    RetryPolicy,
    ServerError,
    TaskFailedError,
    TaskTimeoutError,
    TransportError,
)
from tests.conftest import BASE_URL, TOKEN, FakeClock, make_client, mock_api, task_answers
from tests.helpers import GEN, TASKS


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    # No canned "no such job": these tests script the recovery look-ups themselves.
    with mock_api(earlier_jobs=False) as router:
        yield router


DONE = {"created": 1732500000, "data": [{"url": "https://cdn.test/1.png", "revised_prompt": "rp"}]}


def task(task_id: str = "t1", finished: bool = True, **response: Any) -> dict[str, Any]:
    record: dict[str, Any] = {"id": task_id, "trace_id": "tr", "created_at": 1.0, "started_at": 1.5}
    if finished:
        record["finished_at"] = 9.0
        record["response"] = response or DONE
    return record


def body_of(call: Any) -> dict[str, Any]:
    return json.loads(call.request.content)  # type: ignore[no-any-return]


def actions(route: respx.Route) -> list[str]:
    """The ``action`` of every call to ``/openai/tasks`` (retrieve / retrieve_batch)."""
    return [body_of(call)["action"] for call in route.calls]


def tasks_sequence(*records: Any) -> Callable[[httpx.Request], httpx.Response]:
    """Answer successive status requests with ``records`` (see ``task_answers``)."""
    return task_answers(*records)


# ------------------------------------------------------------------------------ main flow


def test_sync_answer_is_used_directly(api: respx.MockRouter, client: AceDataImagesClient) -> None:
    api.post(GEN).respond(200, json={**DONE, "task_id": "t9"})
    tasks = api.post(TASKS)
    result = client.generate(prompt="a fox")
    assert isinstance(result, ImageGenerationResult)
    assert result.urls == ["https://cdn.test/1.png"]
    assert result.task_id == "t9"
    assert result.created == 1732500000
    assert result.images[0].revised_prompt == "rp"
    assert result.raw["data"][0]["url"] == "https://cdn.test/1.png"
    assert not tasks.called


def test_request_body_headers_and_trace_id(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    route = api.post(GEN).respond(200, json=DONE)
    client.generate(prompt="a fox", size="1536x1024", quality="high")
    request = route.calls.last.request
    body = body_of(route.calls.last)
    assert body["async"] is True
    assert body["trace_id"].startswith("lcai-")
    assert {k: v for k, v in body.items() if k not in ("trace_id", "async")} == {
        "prompt": "a fox",
        "model": "gpt-image-1",
        "size": "1536x1024",
        "quality": "high",
    }
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept"] == "application/json"


def test_each_submission_gets_a_fresh_trace_id(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    route = api.post(GEN).respond(200, json=DONE)
    client.generate(prompt="a")
    client.generate(prompt="b")
    client.generate(prompt="c", trace_id="mine")
    traces = [body_of(call)["trace_id"] for call in route.calls]
    assert len(set(traces)) == 3
    assert traces[2] == "mine"


def test_async_submission_is_polled_until_finished(
    api: respx.MockRouter, client: AceDataImagesClient, clock: FakeClock
) -> None:
    api.post(GEN).respond(200, json={"task_id": "t1", "trace_id": "x"})
    tasks = api.post(TASKS).mock(
        side_effect=tasks_sequence(task(finished=False), task(finished=False), task())
    )
    events: list[ProgressEvent] = []
    result = client.generate(prompt="a fox", on_progress=events.append)
    assert isinstance(result, ImageGenerationResult)
    assert result.task_id == "t1"
    assert tasks.call_count == 3
    batch = {"action": "retrieve_batch", "ids": ["t1"], "limit": 1}
    assert all(body_of(c) == batch for c in tasks.calls)  # the client-wide poller's batch
    assert clock.sleeps == [0.5, 0.75, 1.125]
    assert [e.kind for e in events] == ["submitted", "poll", "poll", "poll", "finished"]
    assert [e.status for e in events if e.kind == "poll"] == ["running", "running", "succeeded"]
    assert result.elapsed == pytest.approx(2.375)


async def test_async_client_shares_the_flow(
    api: respx.MockRouter, aclient: AceDataImagesClient, clock: FakeClock
) -> None:
    api.post(GEN).respond(200, json={"task_id": "t1"})
    api.post(TASKS).mock(side_effect=tasks_sequence(task(finished=False), task()))
    events: list[str] = []

    async def on_progress(event: ProgressEvent) -> None:
        events.append(event.kind)

    result = await aclient.agenerate(prompt="a fox", on_progress=on_progress)
    assert isinstance(result, ImageGenerationResult)
    assert result.urls == ["https://cdn.test/1.png"]
    assert clock.sleeps == [0.5, 0.75]
    assert events == ["submitted", "poll", "poll", "finished"]


def test_poll_schedule_backs_off_to_the_cap(
    api: respx.MockRouter, client: AceDataImagesClient, clock: FakeClock
) -> None:
    api.post(GEN).respond(200, json={"task_id": "t1"})
    api.post(TASKS).mock(side_effect=tasks_sequence(*[task(finished=False)] * 9, task()))
    client.generate(prompt="slow")
    assert clock.sleeps == [0.5, 0.75, 1.125, 1.6875, 2.53125, 3.796875, 5.0, 5.0, 5.0, 5.0]


def test_callback_url_returns_the_task_handle_without_polling(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    route = api.post(GEN).respond(200, json={"task_id": "t7"})
    tasks = api.post(TASKS)
    handle = client.generate(prompt="fox", callback_url="https://hooks.test/done")
    assert isinstance(handle, ImageTask)
    assert (handle.task_id, handle.status, handle.callback_url) == (
        "t7",
        "submitted",
        "https://hooks.test/done",
    )
    assert body_of(route.calls.last)["callback_url"] == "https://hooks.test/done"
    assert not tasks.called


async def test_wait_false_returns_a_handle_that_can_be_resumed(
    api: respx.MockRouter, aclient: AceDataImagesClient
) -> None:
    api.post(GEN).respond(200, json={"task_id": "t8"})
    api.post(TASKS).mock(side_effect=tasks_sequence(task("t8", finished=False), task("t8")))
    handle = await aclient.agenerate(prompt="fox", wait=False)
    assert isinstance(handle, ImageTask)
    assert handle.trace_id
    result = await aclient.await_for_task(handle.task_id)
    assert result.urls == ["https://cdn.test/1.png"]


def test_get_task_by_id_and_trace_id_and_missing(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    route = api.post(TASKS).mock(
        side_effect=[httpx.Response(200, json=task()), httpx.Response(200, json={})]
    )
    record = client.get_task("t1")
    assert record is not None
    assert record.status == "succeeded"
    assert client.get_task(trace_id="nope") is None
    assert body_of(route.calls[1]) == {"action": "retrieve", "trace_id": "nope"}


def test_list_tasks(api: respx.MockRouter, client: AceDataImagesClient) -> None:
    route = api.post(TASKS).respond(200, json={"items": [task("a"), task("b")], "count": 7})
    listing = client.list_tasks(type="images", limit=2, offset=4)
    assert [t.id for t in listing.items] == ["a", "b"]
    assert listing.count == 7
    assert body_of(route.calls.last) == {
        "action": "retrieve_batch",
        "type": "images",
        "limit": 2,
        "offset": 4,
    }


def test_b64_images_and_output_format(api: respx.MockRouter, client: AceDataImagesClient) -> None:
    route = api.post(GEN).respond(200, json={"created": 1, "data": [{"b64_json": "aGk="}]})
    result = client.generate(
        prompt="fox", response_format="b64_json", output_format="webp", n=2, trace_id="t"
    )
    assert isinstance(result, ImageGenerationResult)
    # b64_json carries one image per request: two single-image jobs, each with its own trace id.
    assert [i.b64_json for i in result.images] == ["aGk=", "aGk="]
    bodies = [json.loads(c.request.content) for c in route.calls]
    assert sorted(b["trace_id"] for b in bodies) == ["t-1", "t-2"]
    assert all("n" not in b for b in bodies)
    assert result.images[0].mime_type == "image/webp"
    assert "aGk=" not in repr(result)


# ------------------------------------------------------------------------------- errors

ERROR_CASES: list[tuple[int, Any, dict[str, str], type[APIError], str | None, str]] = [
    (401, {"error": {"code": "invalid_token", "message": "bad token"}}, {}, AuthenticationError,
     "invalid_token", "bad token"),
    (401, {"error": {"code": "token_expired", "message": "expired"}}, {}, AuthenticationError,
     "token_expired", "expired"),
    (401, {"error": {"code": "no_token", "message": "no token"}}, {}, AuthenticationError,
     "no_token", "no token"),
    (403, {"error": {"code": "token_mismatched", "message": "wrong"}}, {}, AuthenticationError,
     "token_mismatched", "wrong"),
    (403, {"error": {"code": "used_up", "message": "no credit"}}, {}, InsufficientBalanceError,
     "used_up", "no credit"),
    (402, {"error": {"code": "used_up", "message": "no credit"}}, {}, InsufficientBalanceError,
     "used_up", "no credit"),
    (403, {"error": {"code": "disabled", "message": "off"}}, {}, ResourceDisabledError,
     "disabled", "off"),
    (403, {"error": {"message": "rejected by safety system"}}, {}, ModerationError, None,
     "rejected by safety system"),
    (400, {"error": {"code": "bad_request", "message": "size invalid"}}, {},
     InvalidRequestError, "bad_request", "size invalid"),
    (400, {"error": "plain string error"}, {}, InvalidRequestError, None, "plain string error"),
    (404, "<html><body>Not Found</body></html>", {}, APIError, None, "HTML page"),
    (418, "", {}, APIError, None, "HTTP 418"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("status", "body", "headers", "error_type", "code", "message"), ERROR_CASES
)
def test_error_answers_map_to_typed_errors(
    api: respx.MockRouter,
    client: AceDataImagesClient,
    status: int,
    body: Any,
    headers: dict[str, str],
    error_type: type[APIError],
    code: str | None,
    message: str,
) -> None:
    if isinstance(body, str):
        route = api.post(GEN).respond(status, text=body, headers=headers)
    else:
        route = api.post(GEN).respond(status, json={**body, "trace_id": "srv"}, headers=headers)
    with pytest.raises(error_type) as caught:
        client.generate(prompt="fox")
    error = caught.value
    assert type(error) is error_type
    assert error.status_code == status
    assert error.code == code
    assert message in error.message
    assert error.trace_id  # from the body, or our own
    assert route.call_count == 1  # non-transient errors are never resent


def test_html_proxy_page_on_poll_is_retried_then_reported(
    api: respx.MockRouter, clock: FakeClock
) -> None:
    client = make_client(clock, max_poll_failures=2)
    api.post(GEN).respond(200, json={"task_id": "t1"})
    tasks = api.post(TASKS).respond(502, text="<html><h1>502 Bad Gateway</h1></html>")
    with pytest.raises(ServerError, match="HTML page") as caught:
        client.generate(prompt="fox")
    assert tasks.call_count == 3
    assert caught.value.task_id == "t1"


def test_transient_poll_failures_are_retried(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    api.post(GEN).respond(200, json={"task_id": "t1"})
    api.post(TASKS).mock(
        side_effect=tasks_sequence(
            httpx.ReadTimeout("slow"),
            httpx.Response(503, text=""),
            httpx.Response(200, text="{truncated"),
            task(),
        )
    )
    result = client.generate(prompt="fox")
    assert isinstance(result, ImageGenerationResult)


def test_poll_honours_retry_after(
    api: respx.MockRouter, client: AceDataImagesClient, clock: FakeClock
) -> None:
    api.post(GEN).respond(200, json={"task_id": "t1"})
    api.post(TASKS).mock(
        side_effect=tasks_sequence(
            httpx.Response(429, json={"error": {"code": "too_many_requests"}},
                           headers={"retry-after": "7"}),
            task(),
        )
    )  # fmt: skip
    client.generate(prompt="fox")
    assert clock.sleeps == [0.5, 7.0]


def test_failed_task_raises_task_failed(api: respx.MockRouter, client: AceDataImagesClient) -> None:
    api.post(GEN).respond(200, json={"task_id": "t1"})
    failed = task(success=False, error={"code": "content_policy", "message": "nope"})
    api.post(TASKS).respond(200, json=failed)
    with pytest.raises(TaskFailedError, match="nope") as caught:
        client.generate(prompt="fox")
    assert (caught.value.code, caught.value.task_id) == ("content_policy", "t1")


def test_finished_task_without_images_is_a_failure(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    api.post(GEN).respond(200, json={"task_id": "t1"})
    api.post(TASKS).respond(200, json={"id": "t1", "finished_at": 3.0})
    with pytest.raises(TaskFailedError, match="without images"):
        client.generate(prompt="fox")


async def test_deadline_raises_task_timeout_with_ids(
    api: respx.MockRouter, clock: FakeClock
) -> None:
    client = make_client(clock, max_wait=20.0)
    api.post(GEN).respond(200, json={"task_id": "t1"})
    api.post(TASKS).respond(200, json=task(finished=False))
    with pytest.raises(TaskTimeoutError) as caught:
        await client.agenerate(prompt="fox")
    error = caught.value
    assert error.task_id == "t1"
    assert error.trace_id
    assert error.trace_id.startswith("lcai-")
    assert error.waited == pytest.approx(20.0)
    assert sum(clock.sleeps) == pytest.approx(20.0)  # never sleeps past the deadline
    await client.aclose()


def test_answer_without_data_or_task_id_is_an_error(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    api.post(GEN).respond(200, json={"message": "ok"})
    with pytest.raises(MalformedAnswerError, match="without images and without a task_id") as e:
        client.generate(prompt="fox")
    assert e.value.maybe_submitted  # accepted (2xx): look it up by trace_id, never resubmit
    assert e.value.trace_id


# ---------------------------------------------------------------- never double-bill


def test_per_call_max_wait_overrides_the_client_default(
    api: respx.MockRouter, client: AceDataImagesClient, clock: FakeClock
) -> None:
    api.post(GEN).respond(200, json={"task_id": "t1"})
    api.post(TASKS).respond(200, json=task(finished=False))
    with pytest.raises(TaskTimeoutError) as caught:
        client.generate(prompt="fox", max_wait=7.0)
    assert caught.value.waited == pytest.approx(7.0)
    assert client.max_wait == 600


async def test_one_client_serves_several_event_loops() -> None:
    """Notebooks call asyncio.run() again and again; each loop gets its own pool."""
    client = make_client()
    with respx.mock(base_url=BASE_URL) as api:
        api.post(GEN).respond(200, json=DONE)
        pools = []
        for _ in range(2):
            pools.append(await asyncio.to_thread(asyncio.run, _pool_after_call(client)))
    assert pools[0] is not pools[1]
    client.close()


async def _pool_after_call(client: AceDataImagesClient) -> httpx.AsyncClient:
    await client.agenerate(prompt="fox")
    pool = client.http_async_client
    await client.aclose()
    assert pool.is_closed
    return pool


def test_read_timeout_after_sending_is_recovered_by_trace_id_not_resent(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    submit = api.post(GEN).mock(side_effect=httpx.ReadTimeout("no answer"))
    tasks = api.post(TASKS).mock(side_effect=tasks_sequence(task(finished=False), task()))
    result = client.generate(prompt="fox")
    assert isinstance(result, ImageGenerationResult)
    assert submit.call_count == 1
    trace_id = body_of(submit.calls[0])["trace_id"]
    assert body_of(tasks.calls[0]) == {"action": "retrieve", "trace_id": trace_id}
    assert body_of(tasks.calls[1]) == {"action": "retrieve_batch", "ids": ["t1"], "limit": 1}
    assert result.trace_id == trace_id


@pytest.mark.parametrize(
    "failure",
    [
        httpx.RemoteProtocolError("peer closed connection"),
        httpx.ReadError("connection reset"),
        httpx.WriteTimeout("write stalled"),
        httpx.Response(502, text="<html>Bad gateway</html>"),
        httpx.Response(504, text=""),
        httpx.Response(500, json={"error": "boom"}),
        httpx.Response(200, text='{"task_id": "t1", "tra'),
    ],
)
async def test_ambiguous_failures_adopt_the_existing_task(
    api: respx.MockRouter, aclient: AceDataImagesClient, failure: Any
) -> None:
    submit = api.post(GEN).mock(side_effect=[failure])
    api.post(TASKS).respond(200, json=task())
    result = await aclient.agenerate(prompt="fox")
    assert isinstance(result, ImageGenerationResult)
    assert submit.call_count == 1


def test_resubmits_with_the_same_trace_id_only_where_duplicates_are_dropped(
    api: respx.MockRouter, clock: FakeClock
) -> None:
    policy = RetryPolicy(max_retries=2, settle_time=3.0, dedupes_trace_ids=True)
    client = make_client(clock, retry_policy=policy)
    submit = api.post(GEN).mock(
        side_effect=[httpx.ReadTimeout("lost"), httpx.Response(200, json=DONE)]
    )
    lookups = api.post(TASKS).respond(200, json={})
    result = client.generate(prompt="fox")
    assert isinstance(result, ImageGenerationResult)
    assert submit.call_count == 2
    # After a timeout the server may still be creating the job: look-ups continue for the
    # settle time (3 s) at the poll schedule (0, 0.5, 1.25, 2.375, 3.0 s) before resending;
    # the first and last looks also scan recent tasks (the server may ignore trace_ids).
    assert actions(lookups) == ["retrieve", "retrieve_batch"] + ["retrieve"] * 4 + [
        "retrieve_batch"
    ]
    assert body_of(submit.calls[0])["trace_id"] == body_of(submit.calls[1])["trace_id"]


def test_a_job_that_appears_late_is_adopted_not_resent(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    client._trace_ids_honoured = True  # no scans: every look-up is one retrieve
    submit = api.post(GEN).mock(side_effect=[httpx.ReadTimeout("slow server")])
    record = {"id": "t-late", "trace_id": "x", "finished_at": 5.0, "response": DONE}
    lookups = api.post(TASKS).mock(
        side_effect=[httpx.Response(200, json={}), httpx.Response(200, json=record)]
    )
    result = client.generate(prompt="fox")
    assert isinstance(result, ImageGenerationResult)
    assert (submit.call_count, lookups.call_count) == (1, 2)
    assert result.task_id == "t-late"


def test_an_error_answer_is_looked_up_over_the_settle_window_not_resent(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    submit = api.post(GEN).mock(
        side_effect=[
            httpx.Response(500, json={"error": {"code": "x"}}),
            httpx.Response(200, json=DONE),
        ]
    )
    lookups = api.post(TASKS).respond(200, json={})
    with pytest.raises(ServerError) as caught:
        client.generate(prompt="fox")
    assert caught.value.maybe_submitted is True
    assert submit.call_count == 1
    assert actions(lookups).count("retrieve") == 5


def test_unknown_outcome_is_reported_not_resent(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    submit = api.post(GEN).mock(side_effect=httpx.ReadTimeout("lost"))
    api.post(TASKS).mock(side_effect=httpx.ConnectError("down"))
    with pytest.raises(TransportError) as caught:
        client.generate(prompt="fox")
    assert caught.value.maybe_submitted is True
    assert caught.value.trace_id == body_of(submit.calls[0])["trace_id"]
    assert "get_task(trace_id=" in str(caught.value)
    assert submit.call_count == 1


def test_connect_errors_are_retried_a_bounded_number_of_times(
    api: respx.MockRouter, client: AceDataImagesClient, clock: FakeClock
) -> None:
    submit = api.post(GEN).mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(TransportError) as caught:
        client.generate(prompt="fox")
    assert caught.value.maybe_submitted is False
    assert submit.call_count == 3  # first try + max_retries=2
    assert clock.sleeps == [0.5, 1.0]


def test_retry_waits_are_jittered_by_the_policys_random_source(
    api: respx.MockRouter, clock: FakeClock
) -> None:
    draws = iter([0.5, 1.0, 0.0])
    policy = RetryPolicy(max_retries=2, base_delay=0.5, max_delay=8.0, random=draws.__next__)
    client = make_client(clock, retry_policy=policy)
    api.post(GEN).mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(TransportError):
        client.generate(prompt="fox")
    assert clock.sleeps == [0.375, 0.5]  # 0.5 less 25 %, 1.0 less 50 %


def test_a_lookup_retry_waits_the_servers_retry_after_unjittered(
    api: respx.MockRouter, clock: FakeClock
) -> None:
    policy = RetryPolicy(max_retries=2, base_delay=0.5, max_delay=8.0, random=lambda: 0.99)
    client = make_client(clock, retry_policy=policy)
    api.post(TASKS).mock(
        side_effect=[
            httpx.Response(429, headers={"retry-after": "4"}, json={"error": "slow down"}),
            httpx.Response(503, json={"error": "busy"}),
            httpx.Response(200, json={"id": "t1", "response": DONE, "finished_at": 1.0}),
        ]
    )
    client.get_task("t1")
    assert clock.sleeps == [4.0, pytest.approx(0.505)]  # Retry-After as given; 1.0 jittered


def test_connect_error_then_success(api: respx.MockRouter, client: AceDataImagesClient) -> None:
    submit = api.post(GEN).mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json=DONE)]
    )
    client.generate(prompt="fox")
    assert submit.call_count == 2


def test_rate_limit_on_submit_waits_retry_after_until_the_deadline(
    api: respx.MockRouter, client: AceDataImagesClient, clock: FakeClock
) -> None:
    submit = api.post(GEN).respond(
        429, json={"error": {"code": "too_many_requests", "message": "slow down"}},
        headers={"retry-after": "3"},
    )  # fmt: skip
    # A 429 created nothing: it is waited out until the job's deadline, not the retry budget.
    with pytest.raises(RateLimitError) as caught:
        client.generate(prompt="fox", max_wait=10)
    assert caught.value.retry_after == 3.0
    assert submit.call_count == 4
    assert clock.sleeps == [3.0, 3.0, 3.0]


def test_no_task_after_server_error_resubmits_then_raises_where_duplicates_are_dropped(
    api: respx.MockRouter, clock: FakeClock
) -> None:
    policy = RetryPolicy(max_retries=2, settle_time=3.0, dedupes_trace_ids=True)
    client = make_client(clock, retry_policy=policy)
    submit = api.post(GEN).respond(503, json={"error": {"code": "unavailable", "message": "x"}})
    api.post(TASKS).respond(200, json={})
    with pytest.raises(ServerError):
        client.generate(prompt="fox")
    assert submit.call_count == 3
    assert len({body_of(c)["trace_id"] for c in submit.calls}) == 1


# -------------------------------------------------------------------------- streaming

SSE = (
    "event: image_generation.partial_image\n"
    'data: {"type": "image_generation.partial_image", "b64_json": "cDA=", '
    '"partial_image_index": 0, "task_id": "s1"}\n\n'
    "event: image_generation.completed\n"
    'data: {"type": "image_generation.completed", "b64_json": "ZmluYWw=", '
    '"size": "1024x1024", "created_at": 5}\n\n'
)


@pytest.mark.parametrize("use_async", [False, True])
async def test_partial_images_stream_progress_then_result(
    api: respx.MockRouter, client: AceDataImagesClient, use_async: bool
) -> None:
    route = api.post(GEN).respond(200, text=SSE, headers={"content-type": "text/event-stream"})
    events: list[ProgressEvent] = []
    if use_async:
        result = await client.agenerate(prompt="fox", partial_images=1, on_progress=events.append)
        await client.aclose()
    else:
        result = client.generate(prompt="fox", partial_images=1, on_progress=events.append)
    assert isinstance(result, ImageGenerationResult)
    body = body_of(route.calls.last)
    assert body["stream"] is True
    assert "async" not in body
    assert [i.b64_json for i in result.images] == ["ZmluYWw="]
    assert result.size == "1024x1024"
    assert result.task_id == "s1"
    partial = [e for e in events if e.kind == "partial_image"]
    assert partial[0].b64_json == "cDA="
    assert partial[0].partial_image_index == 0


def test_partial_images_fall_back_when_server_does_not_stream(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    api.post(GEN).respond(200, json={"task_id": "t1"})
    api.post(TASKS).respond(200, json=task())
    result = client.generate(prompt="fox", partial_images=2)
    assert isinstance(result, ImageGenerationResult)


def test_broken_stream_recovers_by_trace_id(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    partial_only = SSE.split("event: image_generation.completed")[0]
    submit = api.post(GEN).respond(
        200, text=partial_only, headers={"content-type": "text/event-stream"}
    )
    api.post(TASKS).respond(200, json=task())
    result = client.generate(prompt="fox", partial_images=1)
    assert isinstance(result, ImageGenerationResult)
    assert submit.call_count == 1


# ---------------------------------------------------------------- config and secrets


def test_missing_token_fails_before_any_request(
    api: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ACEDATACLOUD_API_TOKEN", raising=False)
    client = AceDataImagesClient(base_url=BASE_URL)  # constructing is fine
    route = api.post(GEN)
    with pytest.raises(ConfigurationError, match="ACEDATACLOUD_API_TOKEN"):
        client.generate(prompt="fox")
    assert not route.called


def test_environment_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACEDATACLOUD_API_TOKEN", TOKEN)
    monkeypatch.setenv("ACEDATACLOUD_API_BASE_URL", "http://localhost:9999/")
    client = AceDataImagesClient()
    assert client.base_url == "http://localhost:9999"
    assert client.has_token
    assert AceDataImagesClient("explicit", base_url="http://x").base_url == "http://x"


def test_pooled_clients_are_reused_and_closed() -> None:
    client = AceDataImagesClient(TOKEN)
    first = client.http_client
    assert client.http_client is first
    client.close()
    assert first.is_closed


async def test_caller_supplied_clients_are_not_closed() -> None:
    mine = httpx.AsyncClient()
    client = AceDataImagesClient(TOKEN, http_async_client=mine)
    await client.aclose()
    assert not mine.is_closed
    await mine.aclose()


def test_token_never_leaks_into_repr_errors_or_logs(
    api: respx.MockRouter, client: AceDataImagesClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    api.post(GEN).mock(side_effect=httpx.ReadTimeout("lost"))
    api.post(TASKS).mock(side_effect=[httpx.ConnectError("down")] * 3)
    with pytest.raises(TransportError) as caught:
        client.generate(prompt="fox")
    texts = [repr(client), str(client), str(caught.value), repr(caught.value), caplog.text]
    texts += [repr(caught.value.__cause__), str(client.__dict__)]
    assert all(TOKEN not in text for text in texts)
    assert "api_token=<set>" in repr(client)


def test_poll_schedule_times() -> None:
    schedule = PollSchedule(first_delay=0.5, factor=1.5, max_interval=5.0)
    assert schedule.times(5.0) == [0.5, 1.25, 2.375, 4.0625]
    with pytest.raises(ValueError, match="factor >= 1"):
        PollSchedule(factor=0.5)
