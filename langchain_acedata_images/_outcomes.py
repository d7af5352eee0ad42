"""What one submission attempt's outcome means: accept it, look the job up, retry, or fail.

This is the billing-safety rule in one pure function (:func:`classify`): a request is sent
again only when it provably created nothing (a connect error, a 429). After an ambiguous
failure (a timeout, any 5xx or gateway page, a connection dropped after sending) the job is
looked up; not finding it proves nothing, so it is not sent again unless the API is known to
drop duplicate trace_ids (``RetryPolicy.dedupes_trace_ids``). Everything it decides is data;
:func:`._flows.submit_flow` carries it out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from ._results import json_object, task_id_of
from .errors import (
    APIError,
    MalformedAnswerError,
    RateLimitError,
    ServerError,
    TransportError,
)
from .models import TaskRecord

# Errors raised before a byte of the request could reach the server: safe to resend.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)
# Errors after (part of) the request was sent: the job may exist.
MAYBE_SENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
# The error code of the documented 504 "Timeout to generate the image" (job created);
# an emulated or proxy 408 may carry the same code without that meaning.
SERVER_TIMEOUT = "timeout"


@dataclass(frozen=True)
class Submission:
    """The one result of submitting a job: its task as far as known, and how it was learned.

    ``answered`` is true when the submission's own answer (JSON or stream) said it, false when
    a look-up found the job after an ambiguous failure.
    """

    record: TaskRecord
    answered: bool

    @classmethod
    def from_answer(cls, answer: Mapping[str, Any], trace_id: str) -> Submission:
        """A submission's JSON answer: images (the job is done) or a ``task_id`` to poll."""
        task_id = task_id_of(answer.get("task_id"))
        if answer.get("data") is not None:
            finished = TaskRecord(id=task_id, response=dict(answer), finished_at=0.0)
            return cls(finished, answered=True)
        if not task_id:
            # A 2xx answer: the job was accepted, the answer just does not say where it is.
            raise MalformedAnswerError(
                "the API answered without images and without a task_id", trace_id=trace_id
            )
        return cls(TaskRecord(id=task_id), answered=True)


@dataclass(frozen=True)
class Accepted:
    """The job was created and its JSON answer read."""

    answer: dict[str, Any]


@dataclass(frozen=True)
class Streaming:
    """The job was created and answers as an event stream."""

    response: httpx.Response


@dataclass(frozen=True)
class Retry:
    """Nothing was created: send again after the backoff (or ``retry_after``)."""

    retry_after: float | None = None
    rate_limited: RateLimitError | None = None
    """The 429 that asked to wait: every submission of the client pauses, the retry budget is
    not spent, and it is raised when the wait would outlast the job's deadline."""


@dataclass(frozen=True)
class Recover:
    """The job may exist: look it up; if missing, raise ``if_missing`` (or, only where the API
    is known to drop duplicate trace_ids and ``retryable``, send it again)."""

    cause: Exception
    if_missing: Exception
    retryable: bool = True


@dataclass(frozen=True)
class Fail:
    error: Exception


Verdict = Accepted | Streaming | Retry | Recover | Fail


def is_event_stream(response: httpx.Response) -> bool:
    content_type = response.headers.get("content-type", "")
    return response.is_success and content_type.startswith("text/event-stream")


def classify(
    outcome: httpx.Response | Exception,
    *,
    may_retry: bool,
    time_left: bool,
    trace_id: str,
    base_url: str,
    api_error: Callable[[httpx.Response], APIError],
) -> Verdict:
    """The verdict on one attempt: ``outcome`` is its (fully read) answer or transport error.

    ``may_retry``: attempts and time are left; ``time_left``: the job's deadline is not reached
    (a 429 created nothing, so only the deadline bounds waiting it out).
    """
    if isinstance(outcome, NOT_SENT):
        error = TransportError(f"could not connect to {base_url}: {outcome!r}", trace_id=trace_id)
        return Retry() if may_retry else Fail(_caused(error, outcome))
    if isinstance(outcome, Exception):
        missing = TransportError(
            f"the submission failed after it was sent ({outcome!r}) and no task for it was "
            "found yet; it may still have been created",
            trace_id=trace_id,
            maybe_submitted=True,
        )
        return Recover(outcome, _caused(missing, outcome))
    if is_event_stream(outcome):
        return Streaming(outcome)
    if outcome.is_success:
        try:
            return Accepted(json_object(outcome))
        except TransportError as exc:
            # The job was accepted but its answer is unreadable: find it by trace_id.
            missing = TransportError(f"{exc.message}, and no task exists for it", trace_id=trace_id)
            return Recover(exc, _caused(missing, exc), retryable=False)
    refused = api_error(outcome)
    if isinstance(refused, RateLimitError):
        return Retry(refused.retry_after, rate_limited=refused) if time_left else Fail(refused)
    if refused.status_code == 504 and refused.code == SERVER_TIMEOUT:
        # Documented: the server gave up waiting for the image after creating the job, which
        # may still finish. Not finding it yet is no proof it does not exist: never resend.
        unknown = TransportError(
            f"{refused.message}: the job may still exist and finish; find it with "
            "get_task(trace_id=...) or list_tasks before submitting again",
            trace_id=trace_id,
            maybe_submitted=True,
        )
        return Recover(refused, _caused(unknown, refused), retryable=False)
    if isinstance(refused, ServerError):
        # Any 5xx/408/409 (HTML gateway pages included) may come from a proxy after the
        # server took the job: if no look-up finds it, it may still exist.
        refused.maybe_submitted = True
        return Recover(refused, refused)
    return Fail(refused)


def _caused(error: Exception, cause: BaseException) -> Exception:
    error.__cause__ = cause
    return error
