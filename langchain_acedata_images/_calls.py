"""One public call as rounds of concurrent flows: ``n`` delivered, handles given (sans-I/O).

A :class:`Call` hands the client a round of flows to run concurrently (one flow per job),
takes their outcomes back and either asks for another round (a top-up for images a server
did not deliver) or gives the final outcome. The client only runs rounds: threads for the
sync methods, ``asyncio.gather`` for the async ones. Every result gets image handles here,
and its images go into the client's handle cache.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

from ._base import EDITS_PATH, BaseImagesClient
from ._fanout import (
    Plan,
    merge_results,
    merge_tasks,
    plan_for,
    single_image_request,
    split_task_id,
    sub_trace_ids,
)
from ._flows import image_flow, resume_flow
from ._lookups import list_flow, lookup_flow
from ._steps import Flow, Job
from ._uploads import REFUSED_STATUSES
from .errors import AceDataImagesError, APIError, TaskNotFoundError
from .handles import HandleCache, handles_for
from .models import ImageGenerationResult, ImageTask, TaskQuery

logger = logging.getLogger("langchain_acedata_images.client")

Outcome = ImageGenerationResult | ImageTask
#: What a flow of a round ended with: its value, or the package error it raised.
Ended = Any


def remember(result: ImageGenerationResult, cache: HandleCache) -> ImageGenerationResult:
    """``result`` with a handle on each image (``img:<task_id>:<index>``), cached."""
    handles = handles_for(result.task_id, len(result.images))
    images = []
    for handle, image in zip(handles, result.images, strict=True):
        cache.put(handle, image)
        images.append(image.model_copy(update={"handle": str(handle)}))
    return result.model_copy(update={"images": images})


def job_flow(base: BaseImagesClient, path: str, job: Job, wait: bool) -> Flow[Outcome]:
    """One job; an edit whose body encoding is refused (nothing created) is sent once more
    in the other encoding (multipart ↔ JSON with ``data:`` URLs)."""
    try:
        return (yield from image_flow(base, path, job, wait))
    except APIError as first:
        other = job.upload.alternative() if path == EDITS_PATH and job.upload else None
        if other is None or first.status_code not in REFUSED_STATUSES:
            raise
        logger.info("edit refused as %s (%s); sending it as %s", job.upload, first, other)
        job.upload = other
        try:
            return (yield from image_flow(base, path, job, wait))
        except APIError as second:
            if second.status_code in REFUSED_STATUSES:
                second.message = f"{second.message} (sent as multipart first: {first.message})"
                second.args = (second.message,)
            raise


class Call:
    """A generation or edit: one job, or ``n`` single-image jobs, plus a possible top-up."""

    def __init__(
        self, base: BaseImagesClient, path: str, job: Job, wait: bool, cache: HandleCache
    ) -> None:
        self.base, self.path, self.job, self.wait, self.cache = base, path, job, wait, cache
        self.plan: Plan = plan_for(job.request)
        self.results: list[ImageGenerationResult] = []
        self.tasks: list[ImageTask] = []
        self.errors: list[AceDataImagesError] = []
        self.topped_up = 0

    def first_round(self) -> list[Flow[Outcome]]:
        if not self.plan.fanned_out:
            return [job_flow(self.base, self.path, self.job, self.wait)]
        return self._singles(1, self.plan.jobs)

    def absorb(self, ended: Sequence[Ended]) -> list[Flow[Outcome]]:
        """Take a round's outcomes; the next round (a top-up) or ``[]`` when done."""
        for item in ended:
            if isinstance(item, ImageGenerationResult):
                self.results.append(remember(item, self.cache))
            elif isinstance(item, ImageTask):
                self.tasks.append(item)
            else:
                self.errors.append(item)
        missing = self.plan.asked - sum(len(result.images) for result in self.results)
        if self.topped_up or self.plan.fanned_out or not self.results or missing <= 0:
            return []
        # The server delivered fewer images than asked (each image is billed once, and only
        # made images are billed): ask for the missing ones only, once.
        self.topped_up = missing
        return self._singles(self.plan.asked - missing + 1, missing)

    def outcome(self) -> Outcome:
        if not self.plan.fanned_out and not self.topped_up:
            if self.errors:
                raise self.errors[0]
            return self.results[0] if self.results else self.tasks[0]
        trace_id = self.job.trace_id
        if self.tasks or (not self.results and not self.wait):
            return merge_tasks(self.tasks, self.errors, trace_id=trace_id, how=self._how())
        return merge_results(
            self.results, self.errors, asked=self.plan.asked, trace_id=trace_id, how=self._how()
        )

    def _how(self) -> str:
        if self.topped_up:
            return (
                f"one job plus {self.topped_up} single-image job(s) for the images the "
                "service did not return"
            )
        return f"{self.plan.jobs} single-image jobs ({self.plan.reason})"

    def _singles(self, first: int, count: int) -> list[Flow[Outcome]]:
        request = single_image_request(self.job.request)
        flows = []
        for trace_id in sub_trace_ids(self.job.trace_id, first, count):
            job = dataclasses.replace(self.job, request=request, trace_id=trace_id, task_id=None)
            flows.append(job_flow(self.base, self.path, job, self.wait))
        return flows


def group_flow(base: BaseImagesClient, trace_id: str) -> Flow[list[str]]:
    """Task ids of the call with ``trace_id``: its own task, else its single-image jobs."""
    record = yield from lookup_flow(base, None, trace_id)
    if record is not None:
        return [record.id] if record.id else []
    # A call delivered by several jobs gave them trace ids <trace_id>-1 … -10 (n <= 10).
    query = TaskQuery(trace_ids=sub_trace_ids(trace_id, 1, 10), limit=10)
    listed = yield from list_flow(base, query)
    order = {trace: index for index, trace in enumerate(query.trace_ids or [])}
    jobs = sorted(
        (item for item in listed.items if item.id and item.trace_id in order),
        key=lambda item: order[item.trace_id or ""],
    )
    return [item.id for item in jobs if item.id]


class Resume:
    """Waiting for the job(s) of an earlier call by task id (comma-joined for several) or by
    the call's trace id (its own task, else the single-image jobs derived from it)."""

    def __init__(
        self,
        base: BaseImagesClient,
        task_id: str | None,
        trace_id: str | None,
        max_wait: float | None,
        cache: HandleCache,
    ) -> None:
        self.ids = split_task_id(task_id)
        self.base, self.trace_id, self.max_wait, self.cache = base, trace_id, max_wait, cache
        self.results: list[ImageGenerationResult] = []
        self.errors: list[AceDataImagesError] = []

    def first_round(self) -> list[Flow[Any]]:
        if not self.ids and self.trace_id:
            return [group_flow(self.base, self.trace_id)]
        return self._waits()

    def _waits(self) -> list[Flow[Any]]:
        if len(self.ids) <= 1:
            # A job found by trace id keeps it: a record may not carry it (servers that give
            # tasks their own trace ids), and the caller knows the job by it.
            task_id = self.ids[0] if self.ids else None
            return [resume_flow(self.base, task_id, self.trace_id, self.max_wait)]
        return [resume_flow(self.base, task_id, None, self.max_wait) for task_id in self.ids]

    def absorb(self, ended: Sequence[Ended]) -> list[Flow[Any]]:
        if len(ended) == 1 and isinstance(ended[0], list):  # what group_flow found
            if not ended[0]:
                self.errors.append(TaskNotFoundError("no image task found", trace_id=self.trace_id))
                return []
            self.ids = ended[0]
            return self._waits()
        for item in ended:
            if isinstance(item, ImageGenerationResult):
                self.results.append(remember(item, self.cache))
            else:
                self.errors.append(item)
        return []

    def outcome(self) -> ImageGenerationResult:
        if len(self.ids) <= 1:
            if self.errors:
                raise self.errors[0]
            return self.results[0]
        if self.errors and not self.results:
            raise self.errors[0]
        trace_id = self.results[0].trace_id if self.results else self.trace_id
        return merge_results(
            self.results,
            self.errors,
            asked=len(self.ids),
            trace_id=trace_id or "",
            how=f"{len(self.ids)} jobs",
        )


__all__ = ["Call", "Resume", "job_flow", "remember"]
