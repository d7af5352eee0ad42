"""The submission verdicts (pure): when a job may be sent again, looked up, or must fail."""

from __future__ import annotations

import httpx
import pytest

from langchain_acedata_images._outcomes import (
    Accepted,
    Fail,
    Recover,
    Retry,
    Streaming,
    Submission,
    classify,
)
from langchain_acedata_images.errors import (
    InvalidRequestError,
    MalformedAnswerError,
    RateLimitError,
    ServerError,
    TransportError,
    error_from_response,
)

REQUEST = httpx.Request("POST", "https://api.test/openai/images/generations")


def verdict(
    outcome: httpx.Response | Exception, *, may_retry: bool = True, time_left: bool = True
) -> object:
    return classify(
        outcome,
        may_retry=may_retry,
        time_left=time_left,
        trace_id="tr-1",
        base_url="https://api.test",
        api_error=lambda response: error_from_response(response, trace_id="tr-1"),
    )


def answer(status: int, **kwargs: object) -> httpx.Response:
    return httpx.Response(status, request=REQUEST, **kwargs)  # type: ignore[arg-type]


def test_connect_errors_are_retried_while_allowed_then_fail_with_the_cause() -> None:
    cause = httpx.ConnectError("refused")
    assert verdict(cause) == Retry()
    failed = verdict(cause, may_retry=False)
    assert isinstance(failed, Fail)
    assert isinstance(failed.error, TransportError)
    assert failed.error.__cause__ is cause
    assert failed.error.trace_id == "tr-1"


@pytest.mark.parametrize(
    "cause", [httpx.ReadTimeout("slow"), httpx.ReadError("reset"), httpx.RemoteProtocolError("x")]
)
def test_errors_after_sending_are_looked_up_never_retried_blindly(cause: Exception) -> None:
    for may_retry in (True, False):
        found = verdict(cause, may_retry=may_retry)
        assert isinstance(found, Recover)
        assert found.cause is cause
        assert isinstance(found.if_missing, TransportError)


def test_a_429_waits_retry_after_until_the_deadline_not_the_retry_budget() -> None:
    limited = answer(429, headers={"retry-after": "7"}, json={"error": {"code": "x"}})
    again = verdict(limited, may_retry=False)
    assert isinstance(again, Retry)
    assert again.retry_after == 7.0
    assert isinstance(again.rate_limited, RateLimitError)
    failed = verdict(limited, time_left=False)
    assert isinstance(failed, Fail)
    assert isinstance(failed.error, RateLimitError)


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_server_errors_may_hide_a_created_job_so_they_are_looked_up(status: int) -> None:
    found = verdict(answer(status, json={"error": {"message": "boom"}}))
    assert isinstance(found, Recover)
    assert isinstance(found.cause, ServerError)
    assert found.retryable


def test_a_refusal_fails_at_once() -> None:
    failed = verdict(answer(400, json={"error": {"code": "bad_request", "message": "no"}}))
    assert isinstance(failed, Fail)
    assert isinstance(failed.error, InvalidRequestError)


def test_an_unreadable_success_is_looked_up_and_never_resent() -> None:
    found = verdict(answer(200, content=b"{trunc"))
    assert isinstance(found, Recover)
    assert found.retryable is False


def test_accepted_json_and_event_streams() -> None:
    assert verdict(answer(200, json={"task_id": "t"})) == Accepted({"task_id": "t"})
    stream = answer(200, headers={"content-type": "text/event-stream"}, content=b"")
    assert isinstance(verdict(stream), Streaming)


def test_one_submission_type_for_every_answer() -> None:
    done = Submission.from_answer({"data": [{"url": "u"}], "task_id": 5}, "tr")
    assert done.answered
    assert done.record.finished
    assert done.record.id == "5"
    pending = Submission.from_answer({"task_id": "t"}, "tr")
    assert pending.answered
    assert not pending.record.finished
    assert pending.record.id == "t"
    with pytest.raises(MalformedAnswerError, match="without a task_id") as caught:
        Submission.from_answer({}, "tr")
    assert caught.value.trace_id == "tr"
    assert caught.value.maybe_submitted  # a 2xx: accepted, so never resubmitted blindly
    with pytest.raises(MalformedAnswerError, match="without a task_id"):
        Submission.from_answer({"task_id": {"nested": "id"}}, "tr")


def test_the_documented_504_timeout_is_looked_up_and_never_resent() -> None:
    body = {"error": {"code": "timeout", "message": "Timeout to generate the image"}}
    found = verdict(answer(504, json=body))
    assert isinstance(found, Recover)
    assert found.retryable is False
    assert isinstance(found.if_missing, TransportError)
    assert found.if_missing.maybe_submitted is True
    other = verdict(answer(408, json=body))  # a 408 with that code keeps the usual rule
    assert isinstance(other, Recover)
    assert other.retryable is True
