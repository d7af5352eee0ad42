"""Waiting for a submitted job: the one seam every waiting path goes through.

:func:`wait_flow` polls the task with the client's adaptive :class:`~.polling.PollSchedule`
until it finishes or the job's deadline passes. A client-wide poller can replace this function
without touching submission or recovery.
"""

from __future__ import annotations

import logging

from ._base import TASKS_PATH, BaseImagesClient
from ._lookups import post_json
from ._results import parse_task_record, result_from_record
from ._steps import Emit, Flow, Job, Sleep
from .errors import RateLimitError, ServerError, TaskTimeoutError, TransportError
from .models import ImageGenerationResult

logger = logging.getLogger("langchain_acedata_images.client")


def wait_flow(base: BaseImagesClient, job: Job) -> Flow[ImageGenerationResult]:
    """Poll ``job.task_id`` until it finishes; :class:`TaskTimeoutError` at the deadline."""
    polls = failures = 0
    retry_after: float | None = None
    while True:
        remaining = job.deadline - base._clock()
        if remaining <= 0:
            raise _timeout(base, job)
        wait = base.poll_schedule.next_wait(polls, remaining=remaining, retry_after=retry_after)
        yield Sleep(wait)
        retry_after = None
        body = {"action": "retrieve", "id": job.task_id}
        try:
            answer = yield from post_json(base, TASKS_PATH, body, job.task_id, job.trace_id)
        except (TransportError, ServerError, RateLimitError) as exc:
            failures += 1
            if failures > base.max_poll_failures:
                raise
            if isinstance(exc, RateLimitError):
                retry_after = exc.retry_after
            logger.info("poll of %s failed (%d): %s", job.task_id, failures, exc)
            continue
        failures = 0
        polls += 1
        record = parse_task_record(answer, task_id=job.task_id, trace_id=job.trace_id)
        status = record.status if record else "unknown"
        yield Emit(base._event(job, "poll", status=status, poll=polls))
        if record is not None and record.finished:
            result = result_from_record(record, job, base._elapsed(job))
            yield Emit(base._event(job, "finished", status="succeeded"))
            return result


def _timeout(base: BaseImagesClient, job: Job) -> TaskTimeoutError:
    waited = base._clock() - job.started
    return TaskTimeoutError(
        f"the image job did not finish within {waited:.0f}s; resume with "
        "wait_for_task(task_id) or look it up later",
        waited=waited,
        task_id=job.task_id,
        trace_id=job.trace_id,
    )
