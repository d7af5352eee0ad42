"""Waiting for a submitted job: the one seam every waiting path goes through.

:func:`wait_flow` hands the task to the client-wide poller (:mod:`.poller`, run by
:mod:`._poller_io`) and turns what the poller delivers into progress events and the result:
one ``poll`` event per check that saw the task, then the result, a :class:`TaskTimeoutError`
at the job's deadline, or the error that ended the checks.
"""

from __future__ import annotations

import copy

from ._base import BaseImagesClient
from ._results import result_from_record
from ._steps import Await, Emit, Flow, Job, Watch
from .durations import duration_key
from .errors import AceDataImagesError, TaskTimeoutError
from .models import ImageGenerationResult
from .poller import Delivery


def wait_flow(
    base: BaseImagesClient, job: Job, *, learn: bool = True
) -> Flow[ImageGenerationResult]:
    """Wait for ``job.task_id`` until it finishes; :class:`TaskTimeoutError` at the deadline.

    ``learn``: the job was submitted just now, so its age is known and its duration may be
    learned and used (not so for a job resumed by id).
    """
    assert job.task_id is not None
    now = base._clock()
    # The server created the task between sending the submission and reading its answer.
    origin = (job.started + now) / 2 if learn else now
    key = duration_key(job.request) if learn else None
    waiter = yield Watch(job.task_id, origin=origin, deadline=job.deadline, key=key)
    while True:
        delivery: Delivery = yield Await(waiter)
        if delivery.kind in ("update", "finished"):
            record = delivery.record
            if record is not None:
                base._note_trace_ids(record, job.trace_id)
            status = record.status if record is not None else "unknown"
            yield Emit(base._event(job, "poll", status=status, poll=delivery.polls))
        if delivery.kind == "finished" and delivery.record is not None:
            result = result_from_record(delivery.record, job, base._elapsed(job))
            yield Emit(base._event(job, "finished", status="succeeded"))
            return result
        if delivery.kind == "timeout":
            raise _timeout(base, job)
        if delivery.kind == "failed":
            raise _for_job(delivery.error, job)


def _for_job(error: BaseException | None, job: Job) -> BaseException:
    """The error that ended the checks, naming this job (one error may end many waits)."""
    if not isinstance(error, AceDataImagesError):
        return error or RuntimeError("the poller ended the wait without a reason")
    mine = copy.copy(error)
    mine.task_id = mine.task_id or job.task_id
    mine.trace_id = mine.trace_id or job.trace_id
    return mine


def _timeout(base: BaseImagesClient, job: Job) -> TaskTimeoutError:
    waited = base._clock() - job.started
    return TaskTimeoutError(
        f"the image job did not finish within {waited:.0f}s; resume with "
        "wait_for_task(task_id) or look it up later",
        waited=waited,
        task_id=job.task_id,
        trace_id=job.trace_id,
    )
