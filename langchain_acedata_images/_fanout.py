"""``n`` asked → ``n`` delivered, whether or not the service honours ``n`` (pure logic).

Documented variants of the service silently reduce ``n`` to 1 for gpt-image and nano-banana
models, and accept ``response_format=b64_json`` only with ``n = 1``. So where one request may
not deliver ``n`` images, the client sends ``n`` single-image jobs in parallel instead: each
has its own trace id, derived from the call's (``<trace_id>-<i>``), so exactly-once look-ups
cover each, and each is billed once for its one image. Where the model honours ``n``
(dall-e-2 with URLs), one job is sent, and a short answer is topped up with single-image jobs
for the missing images only. The result's ``note`` says what was done.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .errors import AceDataImagesError, TaskTimeoutError
from .models import (
    TASK_ID_SEPARATOR,
    ImageGenerationResult,
    ImageTask,
    _ImageRequestBase,
)


@dataclass(frozen=True)
class Plan:
    """How one call is submitted: ``jobs`` requests of ``per_job`` images each."""

    asked: int
    jobs: int
    reason: str = ""

    @property
    def fanned_out(self) -> bool:
        return self.jobs > 1


def plan_for(request: _ImageRequestBase) -> Plan:
    """One job when one request surely delivers ``n``; else ``n`` single-image jobs."""
    asked = request.n or 1
    if asked == 1:
        return Plan(1, 1)
    if request.response_format == "b64_json":
        return Plan(asked, asked, "b64_json answers carry one image per request")
    rules = request.rules
    if rules is None or not rules.honours_n:
        return Plan(asked, asked, f"{request.model} may ignore n > 1")
    return Plan(asked, 1)


def single_image_request(request: _ImageRequestBase) -> _ImageRequestBase:
    """The request of one job of a fan-out: the same, without ``n``."""
    return request.model_copy(update={"n": None})


def sub_trace_ids(trace_id: str, first: int, count: int) -> list[str]:
    """Trace ids of jobs ``first`` … ``first + count - 1`` of a call (stable across retries)."""
    return [f"{trace_id}-{index}" for index in range(first, first + count)]


def merge_results(
    results: Sequence[ImageGenerationResult],
    errors: Sequence[AceDataImagesError],
    *,
    asked: int,
    trace_id: str,
    how: str,
) -> ImageGenerationResult:
    """One result from the jobs of a call; raises the first error when no job made images
    (a timeout of every job names them all, so they can be resumed together)."""
    if not results:
        running = [error for error in errors if isinstance(error, TaskTimeoutError)]
        if len(running) == len(errors) > 1:
            raise TaskTimeoutError(
                running[0].message,
                waited=max(error.waited for error in running),
                task_id=_joined(error.task_id for error in running),
                trace_id=trace_id,
            )
        raise errors[0]
    images = [image for result in results for image in result.images]
    first = results[0]
    note = f"{len(images)} image{'s' if len(images) != 1 else ''} via {how}."
    if errors:
        note += " " + _missing(errors, asked - len(images))
    raw = {"jobs": [result.raw for result in results]} if len(results) > 1 else first.raw
    return first.model_copy(
        update={
            "images": images,
            "task_id": _joined(result.task_id for result in results),
            "trace_id": trace_id,
            "elapsed": max(result.elapsed for result in results),
            "note": note,
            "raw": raw,
        }
    )


def merge_tasks(
    tasks: Sequence[ImageTask], errors: Sequence[AceDataImagesError], *, trace_id: str, how: str
) -> ImageTask:
    """One handle for the jobs of a call submitted without waiting."""
    if not tasks:
        raise errors[0]
    note = f"Submitted as {how}."
    if errors:
        note += f" {len(errors)} job(s) could not be submitted: {_clip(errors[0].message)}"
    return tasks[0].model_copy(
        update={
            "task_id": _joined(task.task_id for task in tasks),
            "trace_id": trace_id,
            "note": note,
        }
    )


def _missing(errors: Sequence[AceDataImagesError], count: int) -> str:
    running = [error for error in errors if isinstance(error, TaskTimeoutError)]
    if running:
        ids = _joined(error.task_id for error in running)
        return (
            f"{len(running)} job(s) still running: fetch them later with task_id={ids}; "
            "do not submit them again."
        )
    return f"{count} image(s) missing: {_clip(errors[0].message)}"


def _joined(ids: object) -> str | None:
    parts = [str(part) for part in ids if part]  # type: ignore[attr-defined]
    return TASK_ID_SEPARATOR.join(parts) or None


def _clip(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def split_task_id(task_id: str | None) -> list[str]:
    """The task ids named by one (possibly comma-joined) task id."""
    return [part.strip() for part in (task_id or "").split(TASK_ID_SEPARATOR) if part.strip()]


__all__ = [
    "Plan",
    "merge_results",
    "merge_tasks",
    "plan_for",
    "single_image_request",
    "split_task_id",
    "sub_trace_ids",
]
