"""Flows over ``/openai/tasks``: look-ups, listings, and finding a job after an ambiguous failure.

Every request here is idempotent, so transient failures are retried with the client's
:class:`~.polling.RetryPolicy`.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from ._base import TASKS_PATH, BaseImagesClient
from ._idempotency import best_match
from ._outcomes import still_in_flight
from ._results import json_object, parse_task_list, parse_task_record
from ._steps import Flow, Job, Send, Sleep
from .errors import AceDataImagesError, RateLimitError, ServerError, TransportError
from .models import EditImageInput, TaskList, TaskQuery, TaskRecord

logger = logging.getLogger("langchain_acedata_images.client")

#: Our clock and the server's may disagree: scan this much earlier than the job was made.
CLOCK_SKEW = 300.0
#: A scan reads at most SCAN_PAGES pages of SCAN_PAGE tasks (newest first).
SCAN_PAGE = 100
SCAN_PAGES = 5


def post_json(
    base: BaseImagesClient,
    path: str,
    body: dict[str, Any],
    task_id: str | None,
    trace_id: str | None,
) -> Flow[dict[str, Any]]:
    """One POST whose answer must be a JSON object; errors become package errors."""
    try:
        response = yield Send(base._request(path, body))
    except httpx.HTTPError as exc:
        raise TransportError(
            f"request to {base.base_url}{path} failed: {exc!r}",
            task_id=task_id,
            trace_id=trace_id,
        ) from exc
    if not response.is_success:
        raise base._api_error(response, trace_id=trace_id, task_id=task_id)
    return json_object(response, task_id=task_id, trace_id=trace_id)


def call_idempotent(
    base: BaseImagesClient,
    body: dict[str, Any],
    *,
    task_id: str | None = None,
    trace_id: str | None = None,
) -> Flow[dict[str, Any]]:
    """A ``/openai/tasks`` call, retried on transient failures."""
    attempt = 0
    while True:
        attempt += 1
        try:
            return (yield from post_json(base, TASKS_PATH, body, task_id, trace_id))
        except (TransportError, ServerError, RateLimitError) as exc:
            if attempt > base.retry_policy.max_retries:
                raise
            retry_after = exc.retry_after if isinstance(exc, RateLimitError) else None
            yield Sleep(base.retry_policy.delay(attempt, retry_after))


def lookup_flow(
    base: BaseImagesClient, task_id: str | None, trace_id: str | None
) -> Flow[TaskRecord | None]:
    """One ``retrieve`` by task id or trace id; ``None`` when the API knows no such task."""
    if not task_id and not trace_id:
        raise ValueError("pass task_id or trace_id")
    body: dict[str, Any] = {"action": "retrieve"}
    if task_id:
        body["id"] = task_id
    else:
        body["trace_id"] = trace_id
    answer = yield from call_idempotent(base, body, task_id=task_id, trace_id=trace_id)
    return parse_task_record(answer, task_id=task_id, trace_id=trace_id)


def list_flow(base: BaseImagesClient, query: TaskQuery) -> Flow[TaskList]:
    answer = yield from call_idempotent(base, query.to_body())
    return parse_task_list(answer)


def recover_flow(base: BaseImagesClient, job: Job, cause: Exception) -> Flow[TaskRecord | None]:
    """After an ambiguous submission, ask the API whether our job exists (:func:`find_flow`).

    When the server may still be working on the request (we timed out, or a gateway did),
    a miss is not proof: look again until ``retry_policy.settle_time`` has passed (or the
    job's deadline, if sooner).
    """
    logger.info("submission %s ended ambiguously (%r); looking it up", job.trace_id, cause)
    settle = base.retry_policy.settle_time if still_in_flight(cause) else 0.0
    # Never past the job's deadline: max_wait bounds the whole call, look-ups included.
    settle_until = min(base._clock() + settle, job.deadline)
    looks = 0
    try:
        while True:
            # Scanning the task list is dearer than a retrieve: do it on the last look only.
            last = base._clock() >= settle_until
            since = job.created_wall - CLOCK_SKEW
            record = yield from find_flow(base, job, since=since, scan=last)
            now = base._clock()
            if record is not None or now >= settle_until:
                return record
            yield Sleep(min(base.poll_schedule.interval(looks), settle_until - now))
            looks += 1
    except AceDataImagesError as exc:
        raise TransportError(
            f"the submission's outcome is unknown ({cause!r}) and looking it up failed "
            f"({exc.message}); find it with get_task(trace_id=...) before submitting again",
            trace_id=job.trace_id,
            maybe_submitted=True,
        ) from exc


def find_flow(
    base: BaseImagesClient, job: Job, *, since: float, scan: bool = True
) -> Flow[TaskRecord | None]:
    """Our job if the API has it: by trace_id, else by its stored request (:func:`scan_flow`).

    The scan runs (when ``scan``) only while the server is not known to keep our trace_ids;
    once a task of ours showed that it does, one ``retrieve`` settles the question.
    """
    honoured = base._trace_ids_honoured
    if honoured is not False:
        record = yield from lookup_flow(base, None, job.trace_id)
        if record is not None or honoured:
            return record
    if not scan and honoured is None:
        return None
    return (yield from scan_flow(base, job, since=since))


def earlier_job_flow(base: BaseImagesClient, job: Job) -> Flow[TaskRecord | None]:
    """The job an earlier run made for this keyed job, if any: one ``retrieve_batch``.

    Where the server keeps our trace_ids, filtered by it; otherwise (or while unknown) the scan
    of recent tasks, whose first page also shows a task carrying our trace_id.
    """
    since = base._wall_clock() - base.lookup_window
    if base._trace_ids_honoured:
        query = TaskQuery(trace_ids=[job.trace_id], created_at_min=since)
        listing = yield from list_flow(base, query)
        found, _ = best_match(listing.items, job.request.to_body(), job.trace_id)
        return found
    return (yield from scan_flow(base, job, since=since))


def scan_flow(base: BaseImagesClient, job: Job, *, since: float) -> Flow[TaskRecord | None]:
    """Find our job in our own recent tasks (``retrieve_batch`` from ``since``, newest first).

    A task whose stored request carries our trace_id wins; failing that, the newest one asked
    with the same prompt and parameters and no trace_id of its own.
    """
    body = job.request.to_body()
    kind = "images_edits" if isinstance(job.request, EditImageInput) else "images_generations"
    alike: TaskRecord | None = None
    for page in range(SCAN_PAGES):
        query = TaskQuery(type=kind, created_at_min=since, limit=SCAN_PAGE, offset=page * SCAN_PAGE)
        listing = yield from list_flow(base, query)
        found, ours = best_match(listing.items, body, job.trace_id)
        if ours:
            return found
        alike = alike or found
        if len(listing.items) < SCAN_PAGE:
            break
    return alike
