"""The sans-I/O flows of image jobs: submit (never twice), read a stream, wait, resume.

Each flow is a generator of :mod:`._steps`; :mod:`._drivers` runs it with blocking or asyncio
I/O, so every decision below is shared exactly by the sync and async paths.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from ._base import BaseImagesClient
from ._lookups import earlier_job_flow, lookup_flow, recover_flow, settle_duplicates
from ._outcomes import (
    MAYBE_SENT,
    NOT_SENT,
    Accepted,
    Fail,
    Recover,
    Retry,
    Streaming,
    Submission,
    classify,
    is_event_stream,
)
from ._results import request_of, result_from_record
from ._steps import Close, Emit, Flow, Job, Read, Send, Sleep
from ._stream import parse_sse
from ._waiting import wait_flow
from .errors import AceDataImagesError, RateLimitError, TaskNotFoundError, TransportError
from .models import ImageGenerationResult, ImageTask

logger = logging.getLogger("langchain_acedata_images.client")

#: Seconds between checks while another run of the same key is submitting.
CLAIM_WAIT = 0.05
#: Seconds between checks for a submission's turn while the client is rate limited.
TURN_WAIT = 0.005


def image_flow(
    base: BaseImagesClient, path: str, job: Job, wait: bool
) -> Flow[ImageGenerationResult | ImageTask]:
    """Submit a generation/edit and, when ``wait``, wait for its images."""
    request = job.request
    body = request.to_body()
    if job.upload is not None:
        body = job.upload.body(body)
    body["trace_id"] = job.trace_id
    if base.callback_url and "callback_url" not in body:
        body["callback_url"] = base.callback_url  # the developer's receiver; we still wait
    callback = request.callback_url is not None
    waiting = wait and not callback
    stream = waiting and bool(request.partial_images_requested)
    body["stream" if stream else "async"] = True
    submission = yield from _submit_once(base, path, body, job, stream=stream)
    record = submission.record
    job.task_id = record.id or job.task_id
    if record.finished and (waiting or submission.answered):
        result = result_from_record(record, job, base._elapsed(job))
        if submission.answered:
            yield Emit(base._event(job, "finished", status="succeeded"))
        return _noted(result, job)
    status = "submitted" if submission.answered else record.status
    if submission.answered or waiting:
        yield Emit(base._event(job, "submitted", status="submitted"))
    if not waiting:
        return ImageTask(
            task_id=job.task_id or record.id,
            trace_id=job.trace_id,
            status=status,
            callback_url=request.callback_url,
        )
    return _noted((yield from wait_flow(base, job)), job)


def _noted(result: ImageGenerationResult, job: Job) -> ImageGenerationResult:
    """``result`` with the job's note (e.g. a duplicate submitted by a concurrent run)."""
    if not job.note:
        return result
    note = f"{result.note}; {job.note}" if result.note else job.note
    return result.model_copy(update={"note": note})


def _submit_once(
    base: BaseImagesClient, path: str, body: dict[str, Any], job: Job, *, stream: bool
) -> Flow[Submission]:
    """Submit the job; a keyed job that an earlier run already submitted is attached to instead.

    Runs of one key in this client take turns (a retry can start while the first run is still
    submitting), so the later one's look-up sees the job the first one made.
    """
    if not job.idempotent:
        return (yield from submit_flow(base, path, body, job, stream=stream))
    while not base._claim(job.trace_id):
        if not base._time_left(job):
            raise TransportError(
                "another call with the same idempotency key is still submitting this job; "
                "look it up with get_task(trace_id=...)",
                trace_id=job.trace_id,
                maybe_submitted=True,
            )
        yield Sleep(min(CLAIM_WAIT, job.deadline - base._clock()))  # never past max_wait
    try:
        record = yield from earlier_job_flow(base, job)
        if record is None:
            submission = yield from submit_flow(base, path, body, job, stream=stream)
            if base._trace_ids_honoured is False or submission.record.id is None:
                return submission
            # Another process may have resumed the same tool call at the same moment.
            try:
                first, job.note = yield from settle_duplicates(base, job, submission.record)
            except AceDataImagesError as exc:  # the job exists: a failed check changes nothing
                logger.info("could not check %s for duplicates: %s", job.trace_id, exc)
                return submission
            if first is submission.record:
                return submission
            return Submission(first, answered=False)
        logger.info("job %s exists already (task %s); attaching to it", job.trace_id, record.id)
        return Submission(record, answered=False)
    finally:
        base._release(job.trace_id)


def submit_flow(
    base: BaseImagesClient, path: str, body: dict[str, Any], job: Job, *, stream: bool
) -> Flow[Submission]:
    """POST a job without ever creating it twice (the rules are in :func:`._outcomes.classify`)."""
    attempt = limited = 0
    while True:
        yield from _rate_limit_pause(base, job)
        attempt += 1
        files = job.upload.files() if job.upload is not None else None
        try:
            outcome = yield from _attempt(base, path, body, job, stream=stream, files=files)
        finally:
            base._end_turn(job.trace_id)
        verdict = classify(
            outcome,
            may_retry=attempt <= base.retry_policy.max_retries and base._time_left(job),
            time_left=base._time_left(job),
            trace_id=job.trace_id,
            base_url=base.base_url,
            api_error=lambda response: base._api_error(response, trace_id=job.trace_id),
        )
        if isinstance(verdict, Recover):
            record = yield from recover_flow(base, job, verdict.cause)
            if record is not None:
                return Submission(record, answered=False)
            verdict = _not_found(base, verdict, attempt, job)
        if isinstance(verdict, Accepted):
            return Submission.from_answer(verdict.answer, job.trace_id)
        if isinstance(verdict, Streaming):
            return (yield from read_stream(base, verdict.response, job))
        if isinstance(verdict, Fail):
            raise verdict.error
        if verdict.rate_limited is not None:
            # Nothing was created: only the deadline bounds these waits, not the retry budget.
            attempt, limited = attempt - 1, limited + 1
            # The server's Retry-After is the wait; backoff only when it gives none.
            delay = verdict.retry_after
            if delay is None:
                delay = base.retry_policy.delay(limited)
            base._pause_submissions(delay)
            if base._clock() + delay >= job.deadline:
                raise verdict.rate_limited
        else:
            delay = base.retry_policy.delay(attempt, verdict.retry_after)
        logger.info("resubmitting %s in %.2fs", job.trace_id, delay)
        yield Sleep(min(delay, max(0.0, job.deadline - base._clock())))


def _not_found(base: BaseImagesClient, verdict: Recover, attempt: int, job: Job) -> Retry | Fail:
    """No job found after an ambiguous failure. That is no proof nothing was created (it may
    show later), so it is sent again only where the API drops a duplicate trace_id itself."""
    policy = base.retry_policy
    resend = verdict.retryable and policy.dedupes_trace_ids and attempt <= policy.max_retries
    return Retry() if resend and base._time_left(job) else Fail(verdict.if_missing)


def _rate_limit_pause(base: BaseImagesClient, job: Job) -> Flow[None]:
    """Wait out a 429 another submission of this client got (nothing is sent meanwhile), then
    for this submission's turn while the client is being rate limited."""
    while True:
        wait = base._submission_pause()
        if wait <= 0 and base._take_turn(job.trace_id):
            return
        if base._clock() + wait >= job.deadline:
            raise RateLimitError(
                f"the API asked this client to wait {wait:.1f}s, past this job's deadline; "
                "nothing was submitted",
                retry_after=wait,
                trace_id=job.trace_id,
            )
        yield Sleep(wait or TURN_WAIT)


def _attempt(
    base: BaseImagesClient,
    path: str,
    body: dict[str, Any],
    job: Job,
    *,
    stream: bool,
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
) -> Flow[httpx.Response | Exception]:
    """Send once; the answer (read whole unless it is an event stream) or the transport error."""
    send = Send(base._request(path, body, stream=stream, files=files), stream=stream)
    job.submissions.append(send)
    try:
        response: httpx.Response = yield send
    except (*NOT_SENT, *MAYBE_SENT) as exc:
        return exc
    if stream and not is_event_stream(response):
        # Not a stream (an error, or a server that ignores `stream`): read it whole.
        yield Read(response)
    return response


def read_stream(base: BaseImagesClient, response: httpx.Response, job: Job) -> Flow[Submission]:
    """Read the streamed answer; if it breaks off, the job exists: recover it by trace_id."""
    submission: Submission | None = None
    try:
        submission = yield from parse_sse(base, response, job)
    except (httpx.HTTPError, ValueError) as exc:
        logger.info("stream of %s broke (%r); recovering by trace_id", job.trace_id, exc)
    yield Close(response)
    if submission is not None:
        return submission
    record = yield from recover_flow(base, job, TransportError("stream ended early"))
    if record is None:
        raise TransportError(
            "the streamed answer ended without an image and no task exists for it",
            trace_id=job.trace_id,
        )
    return Submission(record, answered=False)


def resume_flow(
    base: BaseImagesClient, task_id: str | None, trace_id: str | None, max_wait: float | None
) -> Flow[ImageGenerationResult]:
    """Find a submitted job by id or trace id and wait for it."""
    record = yield from lookup_flow(base, task_id, trace_id)
    if record is None:
        raise TaskNotFoundError("no image task found", task_id=task_id, trace_id=trace_id)
    now = base._clock()
    job = Job(
        request_of(record),
        trace_id=record.trace_id or trace_id or "",
        started=now,
        deadline=now + (base.max_wait if max_wait is None else max_wait),
        task_id=record.id or task_id,
    )
    if record.finished:
        return result_from_record(record, job, base._elapsed(job))
    return (yield from wait_flow(base, job, learn=False))
