"""Submit / recover flows at their edges (``_flows``, ``_outcomes``, ``_lookups``).

The billing path: what is sent, when it is sent again, how long a look-up waits, and which
ids every error carries. Complements ``test_client.py`` (the main paths) with the cases that
mutation testing found unguarded.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from langchain_acedata_images import (
    AceDataImagesClient,
    AuthenticationError,
    ImageGenerationResult,
    InvalidRequestError,
    MalformedAnswerError,
    RateLimitError,
    RetryPolicy,
    ServerError,
    TaskNotFoundError,
    TransportError,
)
from langchain_acedata_images._flows import CLAIM_WAIT
from langchain_acedata_images._idempotency import derive_trace_id
from tests.conftest import BASE_URL, FakeClock, make_client, mock_api, task_answers
from tests.helpers import EDITS, GEN, TASKS


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    # No canned "no such job": these tests script the recovery look-ups themselves.
    with mock_api(earlier_jobs=False) as router:
        yield router


DONE = {"created": 1732500000, "data": [{"url": "https://cdn.test/1.png"}]}
RECORD = {"id": "t1", "trace_id": "tr", "finished_at": 9.0, "response": DONE}


def body_of(call: Any) -> dict[str, Any]:
    return json.loads(call.request.content)  # type: ignore[no-any-return]


# ------------------------------------------------------------------- what is sent


def test_a_plain_submission_asks_for_json_and_runs_async(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    route = api.post(GEN).respond(200, json=DONE)
    client.generate(prompt="fox", size="1024x1024")
    request = route.calls.last.request
    assert request.headers["accept"] == "application/json"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["authorization"].startswith("Bearer ")
    body = body_of(route.calls.last)
    assert body["async"] is True
    assert "stream" not in body
    assert body["trace_id"].startswith("lcai-")
    assert (body["prompt"], body["size"], body["model"]) == ("fox", "1024x1024", "gpt-image-1")


def test_a_streamed_submission_accepts_event_streams(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    route = api.post(GEN).respond(200, json=DONE)  # a server that ignores `stream`
    result = client.generate(prompt="fox", partial_images=2)
    assert isinstance(result, ImageGenerationResult)
    request = route.calls.last.request
    assert request.headers["accept"] == "text/event-stream, application/json"
    body = body_of(route.calls.last)
    assert body["stream"] is True
    assert "async" not in body


def test_a_callback_submission_neither_streams_nor_waits(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    route = api.post(GEN).respond(200, json={"task_id": "t1"})
    tasks = api.post(TASKS)
    handle = client.generate(prompt="fox", partial_images=2, callback_url="https://h.test/cb")
    assert handle.task_id == "t1"
    body = body_of(route.calls.last)
    assert (body["async"], "stream" in body) == (True, False)
    assert route.calls.last.request.headers["accept"] == "application/json"
    assert tasks.call_count == 0


def test_edits_go_to_the_edits_path(api: respx.MockRouter, client: AceDataImagesClient) -> None:
    route = api.post(EDITS).respond(200, json=DONE)
    client.edit(prompt="fox", image="https://a.test/x.png")
    assert body_of(route.calls.last)["image"] == "https://a.test/x.png"


# ------------------------------------------------------------ rate limits on submit


def test_a_bare_429_is_retried_after_retry_after_never_recovered(
    api: respx.MockRouter, client: AceDataImagesClient, clock: FakeClock
) -> None:
    """A gateway's 429 carries no error code: it created nothing, so wait and resend."""
    submit = api.post(GEN).mock(
        side_effect=[
            httpx.Response(429, text="Too Many Requests", headers={"Retry-After": "4"}),
            httpx.Response(200, json=DONE),
        ]
    )
    lookups = api.post(TASKS)
    result = client.generate(prompt="fox")
    assert isinstance(result, ImageGenerationResult)
    assert submit.call_count == 2
    assert lookups.call_count == 0  # no recovery look-up for a 429
    assert clock.sleeps == [4.0]
    assert body_of(submit.calls[0])["trace_id"] == body_of(submit.calls[1])["trace_id"]


def test_429_backoff_when_no_retry_after(
    api: respx.MockRouter, client: AceDataImagesClient, clock: FakeClock
) -> None:
    api.post(GEN).mock(
        side_effect=[httpx.Response(429), httpx.Response(429), httpx.Response(200, json=DONE)]
    )
    client.generate(prompt="fox")
    assert clock.sleeps == [0.5, 1.0]


def test_429_gives_up_at_the_deadline_with_the_error(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    submit = api.post(GEN).respond(429, json={"error": {"code": "too_many_requests"}})
    with pytest.raises(RateLimitError) as caught:
        client.generate(prompt="fox", max_wait=5.0)
    # A bare 429 created nothing: retried with backoff (0.5, 1, 2 s) until the deadline, not
    # limited by max_retries.
    assert submit.call_count == 4
    assert caught.value.trace_id == body_of(submit.calls[0])["trace_id"]


def test_a_retry_never_sleeps_past_the_deadline(api: respx.MockRouter, clock: FakeClock) -> None:
    client = make_client(clock, max_wait=2.0)
    api.post(GEN).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "30"}),
            httpx.Response(200, json=DONE),
        ]
    )
    # A 429 whose wait would pass the deadline is raised at once: no pointless wait.
    with pytest.raises(RateLimitError):
        client.generate(prompt="fox")
    assert clock.sleeps == []


def test_429s_do_not_spend_the_retry_budget(
    api: respx.MockRouter, client: AceDataImagesClient, clock: FakeClock
) -> None:
    limited = httpx.Response(429, headers={"Retry-After": "1"})
    submit = api.post(GEN).mock(side_effect=[limited] * 4 + [httpx.Response(200, json=DONE)])
    result = client.generate(prompt="fox")  # max_retries=2, yet four 429s are waited out
    assert isinstance(result, ImageGenerationResult)
    assert submit.call_count == 5
    assert clock.sleeps == [1.0] * 4


def test_a_429_whose_wait_ends_exactly_at_the_deadline_gives_up(
    api: respx.MockRouter, client: AceDataImagesClient, clock: FakeClock
) -> None:
    submit = api.post(GEN).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "10"}),
            httpx.Response(200, json=DONE),
        ]
    )
    with pytest.raises(RateLimitError):
        client.generate(prompt="fox", max_wait=10.0)
    assert submit.call_count == 1
    assert clock.sleeps == []


def test_after_a_429_submissions_take_turns_and_hand_the_turn_on(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    submit = api.post(GEN).mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "1"})]
        + [httpx.Response(200, json=DONE)] * 2
    )
    first = client.generate(prompt="fox")
    second = client.generate(prompt="cat")  # still in the limited period: needs the turn
    assert isinstance(first, ImageGenerationResult)
    assert isinstance(second, ImageGenerationResult)
    assert submit.call_count == 3
    assert client._turn is None  # each submission gave its turn back


def test_a_shared_pause_past_the_deadline_names_its_wait(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    submit = api.post(GEN).respond(200, json=DONE)
    client._pause_submissions(30.0)
    with pytest.raises(RateLimitError, match=r"30\.0s") as caught:
        client.generate(prompt="fox", max_wait=5.0)
    assert caught.value.retry_after == 30.0
    assert caught.value.trace_id is not None
    assert submit.call_count == 0


def test_a_client_callback_url_never_overrides_the_requests_own(
    api: respx.MockRouter, clock: FakeClock
) -> None:
    route = api.post(GEN).respond(200, json={"task_id": "t1"})
    with make_client(clock, callback_url="https://client.test/cb") as client:
        client.generate(prompt="fox", callback_url="https://request.test/cb", wait=False)
        assert body_of(route.calls.last)["callback_url"] == "https://request.test/cb"


# ------------------------------------------------------- keyed jobs in one client


def test_a_keyed_job_waits_while_another_run_submits_it(
    api: respx.MockRouter, client: AceDataImagesClient, clock: FakeClock
) -> None:
    submit = api.post(GEN).respond(200, json=DONE)
    api.post(TASKS).respond(200, json={"items": [], "count": 0})
    trace_id = derive_trace_id("same-key")
    assert client._claim(trace_id)  # another run of the key is submitting
    sleep = clock.sleep

    def other_run_finishes(seconds: float) -> None:
        sleep(seconds)
        client._release(trace_id)

    clock.sleep = other_run_finishes  # type: ignore[method-assign]
    client._sleep = other_run_finishes
    result = client.generate(prompt="fox", idempotency_key="same-key")
    assert isinstance(result, ImageGenerationResult)
    assert clock.sleeps == [CLAIM_WAIT]
    assert submit.call_count == 1
    assert client._claim(trace_id)  # the call gave its claim back


def test_a_keyed_job_held_by_another_run_past_the_deadline_is_reported(
    api: respx.MockRouter, client: AceDataImagesClient, clock: FakeClock
) -> None:
    submit = api.post(GEN).respond(200, json=DONE)
    trace_id = derive_trace_id("held")
    client._claim(trace_id)
    with pytest.raises(TransportError, match="still submitting") as caught:
        client.generate(prompt="fox", idempotency_key="held", max_wait=1.0)
    assert caught.value.trace_id == trace_id
    assert caught.value.maybe_submitted is True
    assert submit.call_count == 0
    assert max(clock.sleeps) == CLAIM_WAIT
    assert sum(clock.sleeps) == pytest.approx(1.0)  # waited until max_wait, not past it


def test_a_keyed_streamed_job_still_streams(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    route = api.post(GEN).respond(200, json=DONE)
    api.post(TASKS).respond(200, json={"items": [], "count": 0})
    client.generate(prompt="fox", partial_images=1, idempotency_key="streamed")
    assert route.calls.last.request.headers["accept"] == "text/event-stream, application/json"
    assert body_of(route.calls.last)["stream"] is True


@pytest.mark.parametrize(
    ("status", "kind"), [(401, AuthenticationError), (422, InvalidRequestError)]
)
def test_refusals_are_raised_at_once_without_lookups(
    api: respx.MockRouter, client: AceDataImagesClient, status: int, kind: type[Exception]
) -> None:
    submit = api.post(GEN).respond(status, json={"message": "no"})
    lookups = api.post(TASKS)
    with pytest.raises(kind, match="no"):
        client.generate(prompt="fox")
    assert (submit.call_count, lookups.call_count) == (1, 0)


# ------------------------------------------------------------------ recovery window


def test_the_settle_window_ends_exactly_at_settle_time(
    api: respx.MockRouter, clock: FakeClock
) -> None:
    client = make_client(clock, retry_policy=RetryPolicy(max_retries=0, settle_time=3.0))
    api.post(GEN).mock(side_effect=httpx.ReadTimeout("lost"))
    api.post(TASKS).respond(200, json={})
    with pytest.raises(TransportError, match="no task for it was found yet") as caught:
        client.generate(prompt="fox")
    assert caught.value.maybe_submitted is True
    assert sum(clock.sleeps) == pytest.approx(3.0)
    assert clock.sleeps == pytest.approx([0.5, 0.75, 1.125, 0.625])
    assert caught.value.trace_id
    assert caught.value.trace_id.startswith("lcai-")


def test_the_settle_window_never_runs_past_max_wait(
    api: respx.MockRouter, clock: FakeClock
) -> None:
    client = make_client(
        clock, max_wait=1.0, retry_policy=RetryPolicy(max_retries=2, settle_time=3.0)
    )
    submit = api.post(GEN).mock(side_effect=httpx.ReadTimeout("lost"))
    api.post(TASKS).respond(200, json={})
    with pytest.raises(TransportError):
        client.generate(prompt="fox")
    assert sum(clock.sleeps) <= 1.0 + 1e-9
    assert submit.call_count == 1  # no time left to send again


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(500, json={"error": "boom"}),
        httpx.Response(502, text="<html><body>502 Bad Gateway</body></html>"),
        httpx.Response(524, text="<html><body>A timeout occurred</body></html>"),
        httpx.Response(503),
    ],
)
def test_any_server_error_settles_and_is_never_resent(
    api: respx.MockRouter, client: AceDataImagesClient, clock: FakeClock, answer: httpx.Response
) -> None:
    submit = api.post(GEN).mock(side_effect=[answer, httpx.Response(200, json=DONE)])
    lookups = api.post(TASKS).respond(200, json={})
    with pytest.raises(ServerError) as caught:
        client.generate(prompt="fox")
    # A proxy may answer any 5xx after the server took the job, which may show only later.
    assert caught.value.maybe_submitted is True
    assert caught.value.trace_id == body_of(submit.calls[0])["trace_id"]
    assert submit.call_count == 1
    assert sum(clock.sleeps) == pytest.approx(3.0)  # the settle window
    # Five retrieves over the settle time; the first and the last look also scan.
    sent = [body_of(call)["action"] for call in lookups.calls]
    assert sent == ["retrieve", "retrieve_batch"] + ["retrieve"] * 4 + ["retrieve_batch"]


def test_where_the_api_drops_duplicate_trace_ids_a_job_not_found_is_sent_again(
    api: respx.MockRouter, clock: FakeClock
) -> None:
    policy = RetryPolicy(max_retries=2, settle_time=3.0, dedupes_trace_ids=True)
    client = make_client(clock, retry_policy=policy)
    submit = api.post(GEN).mock(side_effect=[httpx.Response(504), httpx.Response(200, json=DONE)])
    api.post(TASKS).respond(200, json={})
    assert isinstance(client.generate(prompt="fox"), ImageGenerationResult)
    assert submit.call_count == 2
    assert len({body_of(call)["trace_id"] for call in submit.calls}) == 1


# --------------------------------------------------------- ids on every error


def test_a_failed_lookup_during_recovery_keeps_the_trace_id(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    submit = api.post(GEN).mock(side_effect=httpx.ReadTimeout("lost"))
    api.post(TASKS).respond(503, text="down")
    with pytest.raises(TransportError, match="looking it up failed") as caught:
        client.generate(prompt="fox")
    error = caught.value
    assert error.maybe_submitted is True
    assert error.trace_id == body_of(submit.calls[0])["trace_id"]
    assert isinstance(error.__cause__, ServerError)
    assert error.__cause__.trace_id == error.trace_id


def test_lookup_errors_carry_the_ids_they_asked_for(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    api.post(TASKS).respond(500, json={"error": "boom"})
    with pytest.raises(ServerError) as by_id:
        client.get_task("t-42")
    assert (by_id.value.task_id, by_id.value.trace_id) == ("t-42", None)
    with pytest.raises(ServerError) as by_trace:
        client.get_task(trace_id="tr-42")
    assert (by_trace.value.task_id, by_trace.value.trace_id) == (None, "tr-42")


def test_a_lookup_that_cannot_connect_keeps_the_ids(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    api.post(TASKS).mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(TransportError) as caught:
        client.get_task("t-7")
    assert caught.value.task_id == "t-7"
    assert "/openai/tasks" in caught.value.message


def test_a_connect_failure_on_submit_is_safe_to_resend_and_says_so(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    submit = api.post(GEN).mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(TransportError, match="could not connect") as caught:
        client.generate(prompt="fox")
    assert submit.call_count == 3
    assert caught.value.maybe_submitted is False
    assert caught.value.trace_id == body_of(submit.calls[0])["trace_id"]


def test_lookups_are_retried_then_raise(
    api: respx.MockRouter, client: AceDataImagesClient, clock: FakeClock
) -> None:
    route = api.post(TASKS).mock(
        side_effect=[
            httpx.Response(502),
            httpx.Response(429, headers={"Retry-After": "3"}),
            httpx.Response(200, json=RECORD),
        ]
    )
    record = client.get_task("t1")
    assert record is not None
    assert record.id == "t1"
    assert route.call_count == 3
    assert clock.sleeps == [0.5, 3.0]
    assert body_of(route.calls[0]) == {"action": "retrieve", "id": "t1"}


def test_lookup_needs_an_id() -> None:
    with pytest.raises(ValueError, match="pass task_id or trace_id"):
        make_client().get_task()


def test_junk_in_partial_image_events_is_dropped_not_fatal(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    stream = (
        'data: {"type": "image_generation.partial_image", "partial_image_index": "x",'
        ' "b64_json": 5, "task_id": {"a": 1}}\n\n'
        'data: {"type": "image_generation.completed", "b64_json": "ZmluYWw=", "task_id": 77,'
        ' "created_at": "Infinity", "size": ["big"]}\n\n'
    )
    api.post(GEN).respond(200, text=stream, headers={"content-type": "text/event-stream"})
    lookups = api.post(TASKS)
    events: list[Any] = []
    result = client.generate(prompt="fox", partial_images=1, on_progress=events.append)
    assert isinstance(result, ImageGenerationResult)
    assert lookups.call_count == 0  # read as a good stream, no recovery needed
    partial = [e for e in events if e.kind == "partial_image"]
    assert (partial[0].partial_image_index, partial[0].b64_json) == (None, None)
    assert (result.task_id, result.created, result.size) == ("77", None, None)


# ------------------------------------------------------- events and handles of a job


def test_a_direct_answer_emits_finished_succeeded(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    api.post(GEN).respond(200, json=DONE)
    events: list[Any] = []
    client.generate(prompt="fox", on_progress=events.append)
    assert [(e.kind, e.status) for e in events] == [("finished", "succeeded")]


def test_not_waiting_emits_submitted_and_returns_the_handle(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    api.post(GEN).respond(200, json={"task_id": "t1"})
    events: list[Any] = []
    handle = client.generate(prompt="fox", wait=False, on_progress=events.append)
    assert [(e.kind, e.status, e.task_id) for e in events] == [("submitted", "submitted", "t1")]
    assert (handle.task_id, handle.status) == ("t1", "submitted")


@pytest.mark.parametrize(
    ("record", "status"),
    [
        ({"id": "t5", "started_at": 1.0}, "running"),
        ({"id": "t5"}, "queued"),
        ({"id": "t5", "finished_at": 2.0, "response": DONE}, "succeeded"),
    ],
)
def test_a_recovered_job_not_waited_for_keeps_its_real_status(
    api: respx.MockRouter, client: AceDataImagesClient, record: dict[str, Any], status: str
) -> None:
    api.post(GEN).mock(side_effect=httpx.ReadTimeout("lost"))
    api.post(TASKS).respond(200, json=record)
    events: list[Any] = []
    handle = client.generate(prompt="fox", wait=False, on_progress=events.append)
    assert type(handle).__name__ == "ImageTask"
    assert (handle.task_id, handle.status) == ("t5", status)
    assert events == []  # nothing was answered, nothing waited for


def test_a_recovered_job_that_is_waited_for_emits_submitted(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    api.post(GEN).mock(side_effect=httpx.ReadTimeout("lost"))
    api.post(TASKS).mock(
        side_effect=task_answers({"id": "t5", "started_at": 1.0}, {**RECORD, "id": "t5"})
    )
    events: list[Any] = []
    result = client.generate(prompt="fox", on_progress=events.append)
    assert isinstance(result, ImageGenerationResult)
    assert next((e.kind, e.status) for e in events) == ("submitted", "submitted")
    assert ("finished", "succeeded") in [(e.kind, e.status) for e in events]


def test_the_connect_error_names_the_api(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    api.post(GEN).mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(TransportError, match=f"could not connect to {BASE_URL}"):
        client.generate(prompt="fox")


def test_the_last_retry_sleeps_only_what_is_left(api: respx.MockRouter, clock: FakeClock) -> None:
    client = make_client(clock, max_wait=0.3)
    submit = api.post(GEN).respond(429, headers={"Retry-After": "5"})
    with pytest.raises(RateLimitError):
        client.generate(prompt="fox")
    assert clock.sleeps == []  # the wait asked for passes the deadline: raised at once
    assert submit.call_count == 1


# ------------------------------------------------------------- ids on more errors


def test_lookup_transport_and_json_errors_carry_the_trace_id(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    api.post(TASKS).mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(TransportError) as refused:
        client.get_task(trace_id="tr-1")
    assert (refused.value.task_id, refused.value.trace_id) == (None, "tr-1")
    api.post(TASKS).mock(side_effect=None).respond(200, text='{"id": ')
    with pytest.raises(TransportError, match="not valid JSON") as broken:
        client.get_task(trace_id="tr-2")
    assert broken.value.trace_id == "tr-2"


@pytest.mark.parametrize(("task_id", "trace_id"), [("t-8", None), (None, "tr-8")])
def test_a_malformed_record_keeps_the_ids_that_were_asked_for(
    api: respx.MockRouter, client: AceDataImagesClient, task_id: str | None, trace_id: str | None
) -> None:
    api.post(TASKS).respond(200, json={"finished_at": "soon"})
    with pytest.raises(MalformedAnswerError) as caught:
        client.get_task(task_id, trace_id=trace_id)
    assert (caught.value.task_id, caught.value.trace_id) == (task_id, trace_id)


def test_a_broken_stream_without_a_task_says_so_with_the_trace_id(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    stream = 'data: {"type": "image_generation.partial_image", "b64_json": "cDA="}\n\n'
    submit = api.post(GEN).respond(200, text=stream, headers={"content-type": "text/event-stream"})
    api.post(TASKS).respond(200, json={})
    with pytest.raises(TransportError, match="streamed answer ended without an image") as caught:
        client.generate(prompt="fox", partial_images=1)
    assert caught.value.trace_id == body_of(submit.calls[0])["trace_id"]


@pytest.mark.parametrize(
    "failure",
    [httpx.ReadTimeout("lost"), httpx.Response(200, text='{"task_id": "t1", "tr')],
)
def test_the_no_task_error_keeps_its_cause_and_trace_id(
    api: respx.MockRouter, clock: FakeClock, failure: Any
) -> None:
    client = make_client(clock, retry_policy=RetryPolicy(max_retries=0, settle_time=0))
    submit = api.post(GEN).mock(side_effect=[failure])
    api.post(TASKS).respond(200, json={})
    with pytest.raises(TransportError, match="no task") as caught:
        client.generate(prompt="fox")
    assert caught.value.trace_id == body_of(submit.calls[0])["trace_id"]
    assert caught.value.__cause__ is not None
    if isinstance(failure, httpx.Response):
        assert "not valid JSON, and no task exists for it" in caught.value.message
        assert isinstance(caught.value.__cause__, TransportError)
    else:
        assert caught.value.__cause__ is failure


# ---------------------------------------------------------------------- resuming


@pytest.mark.parametrize(("task_id", "trace_id"), [("t-9", None), (None, "tr-9")])
def test_resuming_an_unknown_job_names_what_was_asked(
    api: respx.MockRouter, client: AceDataImagesClient, task_id: str | None, trace_id: str | None
) -> None:
    api.post(TASKS).respond(200, json={})
    with pytest.raises(TaskNotFoundError, match="no image task found") as caught:
        client.wait_for_task(task_id, trace_id=trace_id)
    assert (caught.value.task_id, caught.value.trace_id) == (task_id, trace_id)


@pytest.mark.parametrize(
    ("record_trace", "asked_trace", "expected"),
    [("tr-rec", None, "tr-rec"), (None, None, None)],
)
def test_a_resumed_result_keeps_the_best_trace_id(
    api: respx.MockRouter,
    client: AceDataImagesClient,
    record_trace: str | None,
    asked_trace: str | None,
    expected: str | None,
) -> None:
    record = {**RECORD, "trace_id": record_trace}
    api.post(TASKS).respond(200, json=record)
    task_id = None if asked_trace else "t1"
    result = client.wait_for_task(task_id, trace_id=asked_trace)
    assert result.trace_id == expected
    assert result.task_id == "t1"


# ----------------------------------------------------------------------- resuming


def test_resuming_by_trace_id_finds_the_job_and_keeps_both_ids(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    # A server that ignores client trace ids: its record carries none of ours.
    found = {"id": "t9", "trace_id": None, "started_at": 1.0}
    tasks = api.post(TASKS).mock(
        side_effect=task_answers(found, {**found, "finished_at": 9.0, "response": DONE})
    )
    result = client.wait_for_task(trace_id="lcai-mine")
    assert (result.task_id, result.trace_id) == ("t9", "lcai-mine")
    first = json.loads(tasks.calls[0].request.content)
    assert (first["action"], first["trace_id"]) == ("retrieve", "lcai-mine")
    assert client.durations is not None
    assert client.durations._samples == {}  # a resumed job's start is unknown: not learned


def test_resuming_a_job_nobody_has_names_the_ids_asked_for(
    api: respx.MockRouter, client: AceDataImagesClient
) -> None:
    api.post(TASKS).respond(200, json={})
    with pytest.raises(TaskNotFoundError) as caught:
        client.wait_for_task(trace_id="lcai-gone")
    assert caught.value.trace_id == "lcai-gone"
