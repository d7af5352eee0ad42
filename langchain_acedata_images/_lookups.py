"""Flows over ``/openai/tasks``: look-ups, listings, and finding a job after an ambiguous failure.

Every request here is idempotent, so transient failures are retried with the client's
:class:`~.polling.RetryPolicy`.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from ._base import TASKS_PATH, BaseImagesClient
from ._idempotency import best_match, creation_order, match
from ._results import json_object, parse_task_list, parse_task_record
from ._steps import Flow, Job, Send, Sleep
from .errors import AceDataImagesError, RateLimitError, ServerError, TransportError
from .models import EditImageInput, TaskList, TaskQuery, TaskRecord

logger = logging.getLogger("langchain_acedata_images.client")

#: Our clock and the server's may disagree: scan this much earlier than the job was made.
CLOCK_SKEW = 300.0
#: Tasks asked per page of a scan (a server may give fewer: pages go on until the window ends).
SCAN_PAGE = 100


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

    Whatever made it ambiguous (a timeout, any 5xx or gateway page, a dropped connection),
    the job may exist and may show in look-ups only later: a miss is not proof, so look again
    until ``retry_policy.settle_time`` has passed (or the job's deadline, if sooner).
    """
    logger.info("submission %s ended ambiguously (%r); looking it up", job.trace_id, cause)
    # Never past the job's deadline: max_wait bounds the whole call, look-ups included.
    settle_until = min(base._clock() + base.retry_policy.settle_time, job.deadline)
    looks = 0
    try:
        while True:
            # Scanning the task list is dearer than a retrieve: on the first look (which may
            # teach whether trace ids are kept) and the last only.
            last = base._clock() >= settle_until
            since = job.created_wall - CLOCK_SKEW
            record = yield from find_flow(base, job, since=since, scan=last or looks == 0)
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
    once a task showed that it does, one ``retrieve`` settles the question.
    """
    if base._trace_ids_honoured is not False:
        record = yield from lookup_flow(base, None, job.trace_id)
        if record is not None:
            base._note_trace_ids(record, job.trace_id)
        if record is not None or base._trace_ids_honoured:
            return record
    if not scan:
        return None
    return (yield from scan_flow(base, job, since=since))


def earlier_job_flow(base: BaseImagesClient, job: Job) -> Flow[TaskRecord | None]:
    """The job an earlier run made for this keyed job, if any.

    First by trace_id (one ``retrieve_batch`` filtered by it) unless the server is known to
    ignore client trace_ids; that settles it where they are known to be kept. Otherwise the
    scan of the ``lookup_window`` follows, which stops as soon as a listed task shows that
    trace ids are kept after all.
    """
    since = base._wall_clock() - base.lookup_window
    if base._trace_ids_honoured is not False:
        record = yield from trace_lookup_flow(base, job, since=since)
        if record is not None or base._trace_ids_honoured:
            return record
    return (yield from scan_flow(base, job, since=since))


def trace_lookup_flow(base: BaseImagesClient, job: Job, *, since: float) -> Flow[TaskRecord | None]:
    """Our job by trace_id (``retrieve_batch`` filtered by it): the earliest created of its
    tasks when concurrent runs made several."""
    query = TaskQuery(trace_ids=[job.trace_id], created_at_min=since)
    listing = yield from list_flow(base, query)
    base._learn_trace_ids(listing.items)
    found, ours = best_match(listing.items, job.request.to_body(), job.trace_id)
    return found if ours else None


def scan_flow(base: BaseImagesClient, job: Job, *, since: float) -> Flow[TaskRecord | None]:
    """Find our job among our own tasks created since ``since`` (``retrieve_batch`` pages).

    Bounded by the time window, not by a number of pages: it reads pages until one is empty,
    the answer's ``count`` is reached, or (a server ignoring ``created_at_min``, newest
    first) a page is all older than the window; listings may run in either order and cap
    their page size. A task whose stored request carries our trace_id wins; failing that,
    the first one asked exactly as we ask with no trace_id of its own. A page showing that
    the server keeps trace ids ends the scan: the look-up by trace_id before it was
    conclusive. Reaching the job's deadline mid-scan raises (the job may exist).
    """
    body = job.request.to_body()
    kind = "images_edits" if isinstance(job.request, EditImageInput) else "images_generations"
    alike: TaskRecord | None = None
    offset = 0
    previous: list[str | None] = []
    while True:
        query = TaskQuery(type=kind, created_at_min=since, limit=SCAN_PAGE, offset=offset)
        listing = yield from list_flow(base, query)
        items = listing.items
        found, ours = best_match(items, body, job.trace_id)
        if ours:
            return found
        alike = alike or found
        base._learn_trace_ids(items)
        ids = [item.id for item in items]
        offset += len(items)
        if (
            base._trace_ids_honoured
            or not items
            or ids == previous  # a server ignoring offset: no further page exists
            or 0 < listing.count <= offset
            or all(item.created_at is not None and item.created_at < since for item in items)
        ):
            return None if base._trace_ids_honoured else alike
        previous = ids
        if base._clock() >= job.deadline:
            raise TransportError(
                f"the scan for an earlier job of {job.trace_id} did not end before max_wait; "
                "find it with get_task(trace_id=...) or list_tasks before submitting again",
                trace_id=job.trace_id,
                maybe_submitted=True,
            )


def settle_duplicates(
    base: BaseImagesClient, job: Job, record: TaskRecord
) -> Flow[tuple[TaskRecord, str | None]]:
    """After submitting a keyed job, whether a concurrent run (another process resuming the
    same tool call) submitted it too: every run picks the earliest created task of the
    trace_id, so all of them report the same job. Returns that task and a note when a
    duplicate was seen. Needs a server that keeps trace_ids; elsewhere it finds nothing.
    """
    listing = yield from list_flow(
        base, TaskQuery(trace_ids=[job.trace_id], created_at_min=job.created_wall - CLOCK_SKEW)
    )
    base._learn_trace_ids(listing.items)
    body = job.request.to_body()
    tasks = [
        item for item in listing.items if item.id and match(item, body, job.trace_id) == "ours"
    ]
    if record.id and all(item.id != record.id for item in tasks):
        tasks.append(record)  # ours, not yet listed: created after the listed ones
    if len(tasks) < 2:
        return record, None
    first = min(tasks, key=creation_order)
    others = ", ".join(item.id or "?" for item in tasks if item.id != first.id)
    logger.warning(
        "job %s was submitted by concurrent runs: task %s is kept, %s billed as well",
        job.trace_id,
        first.id,
        others,
    )
    note = (
        f"another run of this tool call also submitted it at the same time: this is the first "
        f"job (task {first.id}); the duplicate task(s) {others} were billed and are not "
        "delivered"
    )
    # Our own task keeps the submission's answer (it may already hold the images).
    return (record if first.id == record.id else first), note
